package fhir_test

import (
	"testing"
	"time"

	"github.com/carebook/carebook/ehr/fhir"
	"github.com/stretchr/testify/require"
)

// TestBulkTypes: every resource Export writes is of a bulk type, and
// every bulk type is written by the fixture's export; shared types are
// the practice's; a type outside is not one.
func TestBulkTypes(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range mustExport(t, newFixture()) {
		require.True(t, fhir.IsBulkType(r.Type()), r.Type())
		seen[r.Type()] = true
	}
	require.Len(t, seen, len(fhir.BulkTypes()))
	require.False(t, fhir.IsBulkType("Claim"))
	require.True(t, fhir.Shared("Organization"))
	require.False(t, fhir.Shared("Patient"))
}

// TestChangedSince: a resource dated by meta.lastUpdated or, for a
// Provenance, by recorded is kept from its instant on; an undated one
// always.
func TestChangedSince(t *testing.T) {
	f := newFixture()
	at := time.Date(2026, 11, 3, 14, 30, 0, 0, time.UTC) // the fixture's patient's lastUpdated
	patient := fhir.Patient(f.rec.Patient)
	require.True(t, fhir.ChangedSince(patient, at))
	require.False(t, fhir.ChangedSince(patient, at.Add(time.Millisecond)))
	require.True(t, fhir.ChangedSince(fhir.Organization(f.rec.Practice), at.Add(time.Hour)), "undated")
	res, err := fhir.EntryResource(f.rec.Entries[0], f.opts)
	require.NoError(t, err)
	prov := fhir.Provenance(f.rec.Entries[0], res)
	when, ok := fhir.Changed(prov)
	require.True(t, ok)
	require.True(t, when.Equal(f.rec.Entries[0].RecordedAt))
}
