package fhir

import (
	"slices"
	"time"
)

// bulkTypes are the resource types Export produces, in the order Export
// writes them.
var bulkTypes = []string{"Patient", "Organization", "Location", "Practitioner", "PractitionerRole", "Appointment",
	"Encounter", "DocumentReference", "Condition", "AllergyIntolerance", "MedicationRequest", "Observation",
	"Immunization", "Provenance"}

// BulkTypes returns the resource types Export produces, the ones a bulk
// export may be asked for (_type), in a stable order. The slice is the
// caller's.
func BulkTypes() []string { return slices.Clone(bulkTypes) }

// IsBulkType reports whether typ is one of BulkTypes.
func IsBulkType(typ string) bool { return slices.Contains(bulkTypes, typ) }

// Shared reports whether resources of typ are shared by the records of
// several patients (the practice, its locations and practitioners), so
// that a bulk export writes each of them once.
func Shared(typ string) bool {
	switch typ {
	case "Organization", "Location", "Practitioner", "PractitionerRole":
		return true
	}
	return false
}

// Changed returns when r last changed, as the resource says: its
// meta.lastUpdated, or a Provenance's recorded; false for a resource
// that carries neither (the practice, locations and practitioners, whose
// changes carebook does not date).
func Changed(r Resource) (time.Time, bool) {
	s := ""
	if m, ok := r["meta"].(map[string]any); ok {
		s, _ = m["lastUpdated"].(string)
	}
	if s == "" && r.Type() == "Provenance" {
		s, _ = r["recorded"].(string)
	}
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// ChangedSince reports whether r belongs in a bulk export of the resources
// changed at or after since (_since): one dated before since does not, one
// without a date (see Changed) always does.
func ChangedSince(r Resource, since time.Time) bool {
	t, ok := Changed(r)
	return !ok || !t.Before(since)
}
