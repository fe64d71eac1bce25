package rbac

import (
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// AccountID identifies an account (see package identity).
type AccountID = uuid.UUID

// PatientID identifies a patient record of a practice (see package scheduling).
type PatientID = uuid.UUID

// ScopeKind is how far a grant reaches.
type ScopeKind string

// The kinds of scope, widest first.
const (
	ScopeGroup    ScopeKind = "group"    // every practice of a group
	ScopePractice ScopeKind = "practice" // one practice: any location, any patient
	ScopeLocation ScopeKind = "location" // one location of a practice
	ScopeSelf     ScopeKind = "self"     // one patient record: a patient acting on their own
)

// Valid reports whether k is a known kind of scope.
func (k ScopeKind) Valid() bool {
	switch k {
	case ScopeGroup, ScopePractice, ScopeLocation, ScopeSelf:
		return true
	}
	return false
}

// Scope is where a grant applies. GroupID is always set: for a scope inside a
// practice it is the practice's group (the Service fills it in). PracticeID is
// set for every kind but ScopeGroup, LocationID only for ScopeLocation and
// PatientID only for ScopeSelf; the other fields are zero.
type Scope struct {
	Kind       ScopeKind         `json:"kind"`
	GroupID    tenant.GroupID    `json:"group_id"`
	PracticeID tenant.PracticeID `json:"practice_id,omitzero"`
	LocationID tenant.LocationID `json:"location_id,omitzero"`
	PatientID  PatientID         `json:"patient_id,omitzero"`
}

// GroupScope returns the scope of every practice of group.
func GroupScope(group tenant.GroupID) Scope { return Scope{Kind: ScopeGroup, GroupID: group} }

// PracticeScope returns the scope of one practice of group.
func PracticeScope(group tenant.GroupID, practice tenant.PracticeID) Scope {
	return Scope{Kind: ScopePractice, GroupID: group, PracticeID: practice}
}

// LocationScope returns the scope of one location of a practice of group.
func LocationScope(group tenant.GroupID, practice tenant.PracticeID, location tenant.LocationID) Scope {
	return Scope{Kind: ScopeLocation, GroupID: group, PracticeID: practice, LocationID: location}
}

// SelfScope returns the scope of one patient record of a practice of group.
func SelfScope(group tenant.GroupID, practice tenant.PracticeID, patient PatientID) Scope {
	return Scope{Kind: ScopeSelf, GroupID: group, PracticeID: practice, PatientID: patient}
}

// Target is what a request acts on. GroupID and PracticeID name the tenant
// (the caller resolves the practice's group); LocationID and PatientID, when
// the request concerns one location or one patient, narrow it so that
// location and self scopes can cover it.
type Target struct {
	GroupID    tenant.GroupID
	PracticeID tenant.PracticeID
	LocationID *tenant.LocationID
	PatientID  *PatientID
}

// Covers reports whether s reaches target t. Zero IDs never match.
func (s Scope) Covers(t Target) bool {
	switch s.Kind {
	case ScopeGroup:
		return s.GroupID != uuid.Nil && t.GroupID == s.GroupID
	case ScopePractice:
		return s.PracticeID != uuid.Nil && t.PracticeID == s.PracticeID
	case ScopeLocation:
		return s.PracticeID != uuid.Nil && t.PracticeID == s.PracticeID &&
			t.LocationID != nil && *t.LocationID == s.LocationID
	case ScopeSelf:
		return s.PracticeID != uuid.Nil && t.PracticeID == s.PracticeID &&
			t.PatientID != nil && *t.PatientID == s.PatientID
	}
	return false
}

// Includes reports whether s reaches everything scope o reaches: a group
// includes every scope of its practices, a practice every location and self
// scope in it, and a location or self scope only itself.
func (s Scope) Includes(o Scope) bool {
	switch s.Kind {
	case ScopeGroup:
		return s.GroupID != uuid.Nil && o.GroupID == s.GroupID && o.Kind.Valid()
	case ScopePractice:
		return s.PracticeID != uuid.Nil && o.Kind != ScopeGroup && o.Kind.Valid() &&
			o.PracticeID == s.PracticeID
	case ScopeLocation, ScopeSelf:
		return s.PracticeID != uuid.Nil && o == s
	}
	return false
}

// inPractice reports whether s reaches anything in practice (of group).
func (s Scope) inPractice(practice tenant.PracticeID, group tenant.GroupID) bool {
	if s.Kind == ScopeGroup {
		return s.GroupID != uuid.Nil && s.GroupID == group
	}
	return s.Kind.Valid() && s.PracticeID != uuid.Nil && s.PracticeID == practice
}

// Key returns a string that names s uniquely, such as
// "location:<practice>/<location>". Stores may keep it to reject duplicate
// grants.
func (s Scope) Key() string {
	switch s.Kind {
	case ScopeGroup:
		return "group:" + s.GroupID.String()
	case ScopePractice:
		return "practice:" + s.PracticeID.String()
	case ScopeLocation:
		return "location:" + s.PracticeID.String() + "/" + s.LocationID.String()
	case ScopeSelf:
		return "self:" + s.PracticeID.String() + "/" + s.PatientID.String()
	}
	return string(s.Kind)
}
