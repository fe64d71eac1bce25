// Package fhir maps carebook's records to FHIR R4 (4.0.1) resources, as
// JSON objects: the patient (scheduling.Patient), the practitioners and
// their roles (scheduling.Provider), the practice (Organization), its
// locations, the patient's appointments, and every kind of chart entry
// (package ehr) with a Provenance naming who wrote and signed it. It also
// writes the two shapes those resources travel in: a searchset Bundle
// (Patient/$everything, paged) and NDJSON (bulk export, one resource a
// line).
//
// The package is pure: it stores nothing, reads nothing and knows no HTTP.
// What it is given is exported as it is, so the caller decides what may be
// seen: restricted chart entries must be left out (ehr.Visible) before a
// Record reaches Export. The resources follow US Core where carebook holds
// the data its profiles ask for (see the README of testdata for the schema
// every resource is tested against).
package fhir
