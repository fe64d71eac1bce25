package ehr

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// EntryID identifies an entry of a chart, the same across its versions.
type EntryID = uuid.UUID

// Kind is what an entry is.
type Kind string

// The kinds of entry, named as their FHIR R4 resources are.
const (
	KindEncounter    Kind = "encounter"
	KindNote         Kind = "note"       // a clinical note (FHIR: Composition)
	KindProblem      Kind = "problem"    // FHIR: Condition
	KindAllergy      Kind = "allergy"    // FHIR: AllergyIntolerance
	KindMedication   Kind = "medication" // what the patient takes (FHIR: MedicationStatement)
	KindVital        Kind = "vital"      // a vital sign (FHIR: Observation)
	KindImmunization Kind = "immunization"
	KindDocument     Kind = "document" // a file of the patient (FHIR: DocumentReference)
)

// Status is where an entry stands.
type Status string

// The statuses. Notes and encounters go Draft (an encounter: open), then
// Signed, then Locked; the other kinds are Active until they are marked
// Inactive (resolved, stopped) or EnteredInError (a mistake, kept in the
// history but out of the chart's lists).
const (
	Draft          Status = "draft"
	Signed         Status = "signed"
	Locked         Status = "locked"
	Active         Status = "active"
	Inactive       Status = "inactive"
	EnteredInError Status = "entered-in-error"
)

// Entry is one version of one entry of a patient's chart.
type Entry struct {
	ID         EntryID              `json:"id"`
	PracticeID tenant.PracticeID    `json:"practice_id"`
	PatientID  scheduling.PatientID `json:"patient_id"`
	// EncounterID is the encounter the entry was recorded in; nil for an
	// encounter, and for what is charted outside one (a problem list
	// entry, a reported medication).
	EncounterID *EntryID `json:"encounter_id,omitempty"`
	Kind        Kind     `json:"kind"`
	// Version counts the entry's writes from 1; each is kept.
	Version int    `json:"version"`
	Status  Status `json:"status"`
	// Restricted entries are shown only to who holds the grant for them
	// (see Visible).
	Restricted bool `json:"restricted"`
	// Body is the entry's content, of the type its Kind names.
	Body Body `json:"body"`
	// AuthorID is the account that wrote this version; SignedBy and
	// SignedAt, the one that signed it (a signed or locked version).
	AuthorID   string     `json:"author_id"`
	SignedBy   string     `json:"signed_by,omitempty"`
	SignedAt   *time.Time `json:"signed_at,omitempty"`
	RecordedAt time.Time  `json:"recorded_at"`
	// Seq numbers the versions of a patient's chart 1, 2, 3… without
	// gaps; PrevHash is the Hash of the version before (ZeroHash for the
	// first) and Hash this version's (ComputeHash).
	Seq      int64  `json:"seq"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// ZeroHash is the PrevHash of a chart's first version.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// HashVersion is the version of the encoding ComputeHash covers, hashed
// first so that a later encoding cannot collide with it.
const HashVersion = 1

// timeLayout is how instants are written into the hash.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// ComputeHash returns the hex SHA-256 of e's every field but Hash, each
// length-prefixed, the body as its JSON: what VerifyChain recomputes.
func (e *Entry) ComputeHash() (string, error) {
	body, err := json.Marshal(e.Body)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], HashVersion)
	h.Write(n[:])
	field := func(s string) {
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	encounter, signedAt := "", ""
	if e.EncounterID != nil {
		encounter = e.EncounterID.String()
	}
	if e.SignedAt != nil {
		signedAt = e.SignedAt.UTC().Format(timeLayout)
	}
	field(e.ID.String())
	field(e.PracticeID.String())
	field(e.PatientID.String())
	field(encounter)
	field(string(e.Kind))
	field(strconv.Itoa(e.Version))
	field(string(e.Status))
	field(strconv.FormatBool(e.Restricted))
	field(string(body))
	field(e.AuthorID)
	field(e.SignedBy)
	field(signedAt)
	field(e.RecordedAt.UTC().Format(timeLayout))
	field(strconv.FormatInt(e.Seq, 10))
	field(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// UnmarshalJSON reads an entry, its body as its kind's type.
func (e *Entry) UnmarshalJSON(b []byte) error {
	type plain Entry
	var raw struct {
		plain
		Body json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*e = Entry(raw.plain)
	body, err := DecodeBody(raw.Kind, raw.Body)
	if err != nil {
		return err
	}
	e.Body = body
	return nil
}
