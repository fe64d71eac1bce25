package rbac

import (
	"slices"
	"strconv"

	"github.com/carebook/carebook/errs"
)

// Permission names one action. Its string is the stable spelling used in
// APIs, API keys and storage.
type Permission string

// The permissions, one per action. All lists them in this order, which must
// not change: a permission's position is its bit in a Principal.
const (
	AppointmentRead       Permission = "appointment.read"       // see appointments
	AppointmentBook       Permission = "appointment.book"       // book a visit
	AppointmentConfirm    Permission = "appointment.confirm"    // confirm a requested visit
	AppointmentReschedule Permission = "appointment.reschedule" // move a visit
	AppointmentCancel     Permission = "appointment.cancel"     // cancel a visit
	AppointmentStatus     Permission = "appointment.status"     // mark arrived, out or no-visit
	CalendarRead          Permission = "calendar.read"          // see providers' calendars
	AvailabilityRead      Permission = "availability.read"      // see open times
	AvailabilityManage    Permission = "availability.manage"    // edit availability blocks
	ProviderManage        Permission = "provider.manage"        // add and edit providers
	ResourceManage        Permission = "resource.manage"        // add and edit rooms and equipment
	VisitTypeManage       Permission = "visittype.manage"       // add and edit visit types
	PatientContactRead    Permission = "patient.contact.read"   // see a patient's name and contact details
	PatientContactWrite   Permission = "patient.contact.write"  // edit them
	PatientClinicalRead   Permission = "patient.clinical.read"  // see the patient's chart (EHR)
	PatientClinicalWrite  Permission = "patient.clinical.write" // write to the chart
	PaymentOffline        Permission = "payment.offline"        // record a payment taken at the desk
	PracticeManage        Permission = "practice.manage"        // edit the practice and its locations
	PolicyManage          Permission = "policy.manage"          // edit the booking policy
	StaffManage           Permission = "staff.manage"           // grant and revoke roles
	RolesManage           Permission = "roles.manage"           // create, edit and delete custom roles
	APIKeyManage          Permission = "apikey.manage"          // issue and revoke API keys
	AuditRead             Permission = "audit.read"             // read the activity log
	BillingRead           Permission = "billing.read"           // see the practice's plan and invoices
	NotifyManage          Permission = "notify.manage"          // notification settings, templates, campaigns, outbox and usage
	InboxRead             Permission = "inbox.read"             // read and clear the front desk inbox
	// PatientRestrictedRead lets its holder see the chart entries marked
	// restricted, on top of patient.clinical.read.
	PatientRestrictedRead Permission = "patient.restricted.read"
	// PatientRightsManage lets its holder decide the patient's requests to
	// amend the chart and for a copy of the record, and record the
	// disclosures of the accounting of disclosures (45 CFR 164.524-.528).
	PatientRightsManage Permission = "patient.rights.manage"
	// PatientBreakGlass lets its holder open, for a stated reason and one
	// hour, the chart of a patient of the practice that their grants do
	// not reach (break-glass): administrators are told and the activity
	// log says so.
	PatientBreakGlass Permission = "patient.breakglass"
	// PaymentRead lets its holder see payments, what is owed and receipts
	// (a patient: their own).
	PaymentRead Permission = "payment.read"
	// PaymentRefund lets its holder give money back and reverse a ledger
	// entry recorded by mistake.
	PaymentRefund Permission = "payment.refund"
)

var all = [...]Permission{
	AppointmentRead, AppointmentBook, AppointmentConfirm, AppointmentReschedule,
	AppointmentCancel, AppointmentStatus, CalendarRead, AvailabilityRead,
	AvailabilityManage, ProviderManage, ResourceManage, VisitTypeManage,
	PatientContactRead, PatientContactWrite, PatientClinicalRead, PatientClinicalWrite,
	PaymentOffline, PracticeManage, PolicyManage, StaffManage, RolesManage,
	APIKeyManage, AuditRead, BillingRead, NotifyManage, InboxRead,
	PatientRestrictedRead, PatientRightsManage, PatientBreakGlass,
	PaymentRead, PaymentRefund,
}

// bitOf maps each permission to its bit in a permSet.
var bitOf = func() map[Permission]permSet {
	m := make(map[Permission]permSet, len(all))
	for i, p := range all {
		m[p] = 1 << i
	}
	return m
}()

// All returns every permission, in their documented order. The slice is the
// caller's.
func All() []Permission { return slices.Clone(all[:]) }

// Valid reports whether p is a known permission.
func (p Permission) Valid() bool { _, ok := bitOf[p]; return ok }

// String returns p's spelling.
func (p Permission) String() string { return string(p) }

// ParsePermission returns the permission spelled s, or an *errs.Error of
// KindInvalid naming field "permission".
func ParsePermission(s string) (Permission, error) {
	p := Permission(s)
	if !p.Valid() {
		return "", errs.Invalid("rbac.ParsePermission", "permission", "unknown permission "+quote(s))
	}
	return p, nil
}

// permSet is a set of permissions, one bit each in the order of all.
type permSet uint64

// fullSet holds every permission.
const fullSet = permSet(1)<<len(all) - 1

// has reports whether s holds p; unknown permissions are never held.
func (s permSet) has(p Permission) bool {
	b, ok := bitOf[p]
	return ok && s&b != 0
}

// list returns the permissions of s in their documented order.
func (s permSet) list() []Permission {
	out := make([]Permission, 0, len(all))
	for i, p := range all {
		if s&(1<<i) != 0 {
			out = append(out, p)
		}
	}
	return out
}

// setOf returns the set of perms, or an *errs.Error of KindInvalid naming
// field when one is unknown.
func setOf(op, field string, perms []Permission) (permSet, error) {
	var s permSet
	for _, p := range perms {
		b, ok := bitOf[p]
		if !ok {
			return 0, errs.Invalid(op, field, "unknown permission "+quote(string(p)))
		}
		s |= b
	}
	return s, nil
}

// mustSet is setOf for the package's own lists.
func mustSet(perms ...Permission) permSet {
	s, err := setOf("rbac", "permissions", perms)
	if err != nil {
		panic(err)
	}
	return s
}

// quote returns s quoted as a Go string, cut to 64 bytes so that a hostile input
// cannot flood an error message.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}
