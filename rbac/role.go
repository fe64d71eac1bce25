package rbac

import (
	"slices"
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// RoleID identifies a role.
type RoleID = uuid.UUID

// GrantID identifies a grant.
type GrantID = uuid.UUID

// Owner is who owns a custom role: a practice (PracticeID set), or a whole
// group (PracticeID nil). GroupID is always set. A practice's role can be
// granted only inside that practice; a group's role anywhere in the group.
type Owner struct {
	GroupID    tenant.GroupID     `json:"group_id"`
	PracticeID *tenant.PracticeID `json:"practice_id,omitempty"`
}

// PracticeOwner returns the owner that is practice, of group.
func PracticeOwner(group tenant.GroupID, practice tenant.PracticeID) Owner {
	return Owner{GroupID: group, PracticeID: &practice}
}

// GroupOwner returns the owner that is group.
func GroupOwner(group tenant.GroupID) Owner { return Owner{GroupID: group} }

// Scope returns the scope the owner rules: its practice, or its group.
func (o Owner) Scope() Scope {
	if o.PracticeID != nil {
		return PracticeScope(o.GroupID, *o.PracticeID)
	}
	return GroupScope(o.GroupID)
}

// Role is a named set of permissions. Built-in roles (BuiltIn true) have
// fixed IDs, a zero Owner and no timestamps, and cannot be changed.
type Role struct {
	ID          RoleID       `json:"id"`
	Owner       Owner        `json:"owner"`
	Name        string       `json:"name"`
	Permissions []Permission `json:"permissions"` // in the order of All, no duplicates
	BuiltIn     bool         `json:"built_in"`
	// Scopes, for a built-in role, lists the kinds of scope it may be
	// granted at; nil for custom roles, which may be granted at any scope
	// inside their owner.
	Scopes    []ScopeKind `json:"scopes,omitempty"`
	CreatedAt time.Time   `json:"created_at,omitzero"`
	CreatedBy string      `json:"created_by,omitempty"` // the actor, as actor.Actor.String
	UpdatedAt time.Time   `json:"updated_at,omitzero"`
}

// The well-known IDs of the built-in roles.
var (
	GroupAdminID    = uuid.MustParse("00000000-0000-0000-0000-0000000000a1")
	PracticeAdminID = uuid.MustParse("00000000-0000-0000-0000-0000000000a2")
	FrontDeskID     = uuid.MustParse("00000000-0000-0000-0000-0000000000a3")
	PatientRoleID   = uuid.MustParse("00000000-0000-0000-0000-0000000000a4")
	ClinicianID     = uuid.MustParse("00000000-0000-0000-0000-0000000000a5")
)

// The names of the built-in roles. Custom roles may not take them.
const (
	GroupAdmin    = "group_admin"
	PracticeAdmin = "practice_admin"
	FrontDesk     = "front_desk"
	PatientRole   = "patient"
	Clinician     = "clinician"
)

// builtIn is a built-in role with its permissions as a set.
type builtIn struct {
	id     RoleID
	name   string
	perms  permSet
	scopes []ScopeKind
}

var builtIns = []builtIn{
	{GroupAdminID, GroupAdmin, fullSet, []ScopeKind{ScopeGroup}},
	{PracticeAdminID, PracticeAdmin, fullSet, []ScopeKind{ScopePractice}},
	{FrontDeskID, FrontDesk, mustSet(
		CalendarRead, AppointmentRead, AppointmentBook, AppointmentConfirm,
		AppointmentReschedule, AppointmentCancel, AppointmentStatus,
		AvailabilityRead, PatientContactRead, PatientContactWrite, PaymentOffline,
		InboxRead, PaymentRead, PaymentRefund,
	), []ScopeKind{ScopePractice, ScopeLocation}},
	{PatientRoleID, PatientRole, mustSet(
		AppointmentRead, AppointmentBook, AppointmentReschedule, AppointmentCancel,
		AvailabilityRead, PatientContactRead, PatientContactWrite, PatientClinicalRead,
		PaymentRead,
	), []ScopeKind{ScopeSelf}},
	{ClinicianID, Clinician, mustSet(
		AppointmentRead, AppointmentBook, AppointmentStatus, CalendarRead, AvailabilityRead,
		PatientContactRead, PatientClinicalRead, PatientClinicalWrite, InboxRead,
		PatientBreakGlass,
	), []ScopeKind{ScopePractice, ScopeLocation}},
}

func (b builtIn) role() *Role {
	return &Role{
		ID:          b.id,
		Name:        b.name,
		Permissions: b.perms.list(),
		BuiltIn:     true,
		Scopes:      slices.Clone(b.scopes),
	}
}

// BuiltInRoles returns the five built-in roles, each a fresh copy:
//
//   - group_admin: every permission, granted at group scope (all practices
//     of the group);
//   - practice_admin: every permission, granted at practice scope;
//   - front_desk: calendars, appointments (read, book, confirm, reschedule,
//     cancel, status), open times, patients' contact details, payments
//     (taken at the desk, read, refunded) and the front desk inbox, at
//     practice or location scope; no
//     clinical data, staff, roles, policy or notification settings;
//   - patient: read, book, reschedule and cancel appointments, see open
//     times, read and edit contact details, read the chart and their
//     payments, granted only at self scope;
//   - clinician: for a provider's own account: calendars, appointments
//     (read, book a follow-up, mark arrived, out or no-visit), open times, patients'
//     contact details, the chart (read and write, but not the entries
//     marked restricted), the inbox, and break-glass, at practice scope
//     (every patient of the practice) or location scope (whose charts it
//     opens only by break-glass); no booking, staff, roles, policy or
//     settings.
func BuiltInRoles() []*Role {
	out := make([]*Role, len(builtIns))
	for i, b := range builtIns {
		out[i] = b.role()
	}
	return out
}

// BuiltInRole returns the built-in role id and whether there is one.
func BuiltInRole(id RoleID) (*Role, bool) {
	if b, ok := builtInByID(id); ok {
		return b.role(), true
	}
	return nil, false
}

func builtInByID(id RoleID) (builtIn, bool) {
	for _, b := range builtIns {
		if b.id == id {
			return b, true
		}
	}
	return builtIn{}, false
}

func isBuiltInName(name string) bool {
	for _, b := range builtIns {
		if b.name == name {
			return true
		}
	}
	return false
}

// Grant gives an account a role over a scope.
type Grant struct {
	ID        GrantID   `json:"id"`
	AccountID AccountID `json:"account_id"`
	RoleID    RoleID    `json:"role_id"`
	Scope     Scope     `json:"scope"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"` // the actor, as actor.Actor.String
}
