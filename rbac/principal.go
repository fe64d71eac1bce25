package rbac

import (
	"context"
	"strings"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Authorizer decides whether a principal may perform perm on target t. It
// returns nil when allowed, an *errs.Error of KindForbidden when not, and of
// KindInvalid (field "permission") for an unknown permission. The Service is
// one; the package function Authorize is the same decision without a store.
type Authorizer interface {
	Authorize(ctx context.Context, p Principal, perm Permission, t Target) error
}

// Principal is who is asking, as far as authorization cares: the grants of
// one account, resolved to their permissions, or the permission list of one
// API key. The zero Principal holds nothing and is denied everything. A
// Principal is immutable and safe to share between goroutines.
type Principal struct {
	account AccountID
	apiKey  bool
	grants  []held
}

// held is one grant resolved: a scope, the role granted there (uuid.Nil
// for an API key) and the permissions it holds.
type held struct {
	scope Scope
	role  RoleID
	perms permSet
}

// NewPrincipal returns the principal of account holding grants. The roles of
// the grants are looked up among the built-in roles and then in roles (the
// custom roles they refer to). It fails with KindInternal when a grant names
// a role that is not given, a custom role whose owner does not include the
// grant's scope, or a built-in role at a kind of scope it does not allow:
// stored grants that break the Service's rules are a bug, not a permission.
func NewPrincipal(account AccountID, grants []*Grant, roles []*Role) (Principal, error) {
	const op = "rbac.NewPrincipal"
	p := Principal{account: account, grants: make([]held, 0, len(grants))}
	for _, g := range grants {
		if g.AccountID != account {
			return Principal{}, errs.E(errs.KindInternal, op, "grant "+g.ID.String()+" is another account's")
		}
		perms, err := grantable(op, g.RoleID, g.Scope, roles)
		if err != nil {
			return Principal{}, err
		}
		p.grants = append(p.grants, held{scope: g.Scope, role: g.RoleID, perms: perms})
	}
	return p, nil
}

// grantable returns the permissions of role id when granted at scope s, or
// KindInternal if the role is unknown or may not be granted there.
func grantable(op string, id RoleID, s Scope, roles []*Role) (permSet, error) {
	if b, ok := builtInByID(id); ok {
		for _, k := range b.scopes {
			if s.Kind == k {
				return b.perms, nil
			}
		}
		return 0, errs.E(errs.KindInternal, op, "role "+b.name+" granted at a "+string(s.Kind)+" scope")
	}
	for _, r := range roles {
		if r.ID != id {
			continue
		}
		if !r.Owner.Scope().Includes(s) {
			return 0, errs.E(errs.KindInternal, op, "role "+id.String()+" granted outside its owner")
		}
		return setOf(op, "permissions", r.Permissions)
	}
	return 0, errs.E(errs.KindInternal, op, "grant refers to unknown role "+id.String())
}

// PrincipalForAPIKey returns the principal of an API key of practice that
// carries perms: as if one grant at the practice's scope held exactly those
// permissions. An unknown permission is an *errs.Error of KindInvalid naming
// field "permissions".
func PrincipalForAPIKey(practice tenant.PracticeID, perms []Permission) (Principal, error) {
	const op = "rbac.PrincipalForAPIKey"
	if practice == uuid.Nil {
		return Principal{}, errs.Invalid(op, "practice_id", "an API key needs a practice")
	}
	set, err := setOf(op, "permissions", perms)
	if err != nil {
		return Principal{}, err
	}
	return Principal{
		apiKey: true,
		grants: []held{{scope: Scope{Kind: ScopePractice, PracticeID: practice}, perms: set}},
	}, nil
}

// Account returns the account p acts for; uuid.Nil for an API key.
func (p Principal) Account() AccountID { return p.account }

// APIKey reports whether p is an API key's.
func (p Principal) APIKey() bool { return p.apiKey }

// RoleNames names the roles p acts in at t's practice, for the activity
// log: "api_key" for an API key; else the built-in role names (or custom
// role IDs) of p's grants inside the practice (at it, a location of it or a
// patient of it) or over its group, in grant order; "none" without any.
func (p Principal) RoleNames(t Target) string {
	if p.apiKey {
		return "api_key"
	}
	var names []string
	for _, h := range p.grants {
		in := h.scope.PracticeID == t.PracticeID
		if h.scope.Kind == ScopeGroup {
			in = h.scope.GroupID == t.GroupID
		}
		if !in {
			continue
		}
		if b, ok := BuiltInRole(h.role); ok {
			names = append(names, b.Name)
		} else {
			names = append(names, h.role.String())
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// Can reports whether p holds perm on t. Unknown permissions are never held.
func (p Principal) Can(perm Permission, t Target) bool {
	for _, h := range p.grants {
		if h.perms.has(perm) && h.scope.Covers(t) {
			return true
		}
	}
	return false
}

// Permissions returns every permission p holds on t, in the order of All.
func (p Principal) Permissions(t Target) []Permission {
	var s permSet
	for _, h := range p.grants {
		if h.scope.Covers(t) {
			s |= h.perms
		}
	}
	return s.list()
}

// holdsWithin reports whether p holds every permission of want at a scope
// that includes s (a permission may come from a different grant each).
func (p Principal) holdsWithin(want permSet, s Scope) bool {
	return want&^heldWithin(p, s) == 0
}

// Authorize returns nil if p holds perm on t: deny by default. A denial is an
// *errs.Error of KindForbidden; an unknown permission is KindInvalid naming
// field "permission". Callers answer KindNotFound instead when Member is
// false, so that another practice's IDs do not leak.
func Authorize(_ context.Context, p Principal, perm Permission, t Target) error {
	const op = "rbac.Authorize"
	if !perm.Valid() {
		return errs.Invalid(op, "permission", "unknown permission "+quote(string(perm)))
	}
	if p.Can(perm, t) {
		return nil
	}
	return &errs.Error{Kind: errs.KindForbidden, Op: op, Msg: "missing permission " + string(perm)}
}

// Member reports whether p holds any grant that reaches practice, whose group
// (resolved by the caller, as for Target) is group:
// a grant at that group's scope or at any scope in that practice. When it is
// false, handlers answer KindNotFound rather than KindForbidden, as the
// practice is none of p's business.
func Member(p Principal, practice tenant.PracticeID, group tenant.GroupID) bool {
	for _, h := range p.grants {
		if h.perms != 0 && h.scope.inPractice(practice, group) {
			return true
		}
	}
	return false
}

// MayReach reports whether some grant of p may reach into practice
// without knowing its group: a grant at the practice (or at a location or
// patient of it), or any grant over a group, which may be the practice's.
// It is a cheap first sieve before Member, for what is worth doing only
// for a practice's own callers (counting a request against the practice's
// rate limit): false means p is surely no member.
func MayReach(p Principal, practice tenant.PracticeID) bool {
	for _, h := range p.grants {
		if h.perms != 0 && (h.scope.Kind == ScopeGroup || h.scope.inPractice(practice, uuid.Nil)) {
			return true
		}
	}
	return false
}

// HoldsIn reports whether p holds perm through some grant that reaches
// into practice, of group (at the group, the practice, a location of it or
// a patient of it), whatever target it covers: whether the permission is
// the caller's to use somewhere in the practice, as break-glass asks.
func HoldsIn(p Principal, perm Permission, practice tenant.PracticeID, group tenant.GroupID) bool {
	for _, h := range p.grants {
		if h.perms.has(perm) && h.scope.inPractice(practice, group) {
			return true
		}
	}
	return false
}

// PatientView is how much of a patient's record a principal may see: the
// minimum necessary for their work.
type PatientView struct {
	Contact  bool // name and contact details (patient.contact.read)
	Clinical bool // the chart (patient.clinical.read)
}

// View returns how much of the patient record on target t p may see. The
// front desk sees contact details but not the chart.
func View(p Principal, t Target) PatientView {
	return PatientView{
		Contact:  p.Can(PatientContactRead, t),
		Clinical: p.Can(PatientClinicalRead, t),
	}
}
