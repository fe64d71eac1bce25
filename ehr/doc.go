// Package ehr is the patient chart: encounters, clinical notes with sign
// and sign-and-lock, problems, allergies and intolerances, medications,
// vital signs, immunizations and documents.
//
// # The model
//
// Everything in a chart is an Entry: an envelope (its practice, patient,
// kind, status, the encounter it was recorded in, whether it is
// restricted, who wrote and who signed it) around a Body of its kind
// (*Encounter, *Note, *Problem, *Allergy, *Medication, *Vital,
// *Immunization, *Document). Every write of an entry is a new version: the
// first is Version 1, and no version is ever changed or removed, so the
// full history of any entry can be read back.
//
// The versions of one patient's chart form a hash chain, like the
// activity log's (package audit): each version carries the position Seq
// in its patient's chain, the Hash of the version before (PrevHash) and
// its own Hash over every field and the body (Entry.ComputeHash), so that
// VerifyChain finds a version edited, inserted or removed behind the
// engine's back.
//
// # Sign and lock
//
// A note is written as a draft, then signed (attested by its author) or
// signed and locked at once. A signed note may still be corrected by its
// author, which makes a new draft version to be signed again; a locked
// note refuses every change, and is corrected by an addendum: a new note
// whose AddendumTo names it. An encounter is open until it is locked, and
// a locked encounter takes no new entry (no vitals, no note). The rules
// are CheckWrite's, which a store applies inside the transaction of the
// write, so that no path around the service changes a locked entry.
//
// # Minimum necessary
//
// An entry may be Restricted (a sensitive diagnosis, a document marked
// so): restricted entries are left out of every read of a caller who does
// not hold the grant to see them, in one place (Visible), so that the
// chart, search, exports, the patient portal and FHIR agree.
//
// This package holds the chart's types, rules and the contract of its
// Store; it imports no storage and no HTTP.
package ehr
