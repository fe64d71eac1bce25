package rbac

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

var _ Authorizer = (*Service)(nil)

// Tenants is what the Service needs to know of tenants: that a group,
// practice or location exists, and a practice's group. tenant.Store has it.
type Tenants interface {
	GetGroup(ctx context.Context, id tenant.GroupID) (*tenant.Group, error)
	GetPractice(ctx context.Context, id tenant.PracticeID) (*tenant.Practice, error)
	GetLocation(ctx context.Context, practice tenant.PracticeID, id tenant.LocationID) (*tenant.Location, error)
}

// Service manages roles and grants over a Store and answers authorization
// questions. Every change is made on behalf of a Principal, which must hold
// the permission the change needs (roles.manage for roles, staff.manage for
// grants) at a scope including the change's, and may never hand out a
// permission it does not hold there itself. The acting actor.Actor, read
// from the context, is recorded as CreatedBy. A Service is safe for
// concurrent use.
type Service struct {
	store   Store
	tenants Tenants
	clock   clock.Clock
	ids     clock.IDSource
}

// NewService returns a Service over store, resolving tenants through
// tenants, with time from c and IDs from ids.
func NewService(store Store, tenants Tenants, c clock.Clock, ids clock.IDSource) *Service {
	return &Service{store: store, tenants: tenants, clock: c, ids: ids}
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// Authorize implements Authorizer with the package function Authorize.
func (s *Service) Authorize(ctx context.Context, p Principal, perm Permission, t Target) error {
	return Authorize(ctx, p, perm, t)
}

// Principal loads the grants of account and the custom roles they refer to,
// and returns the account's Principal. An account with no grants gets a
// Principal that is denied everything.
func (s *Service) Principal(ctx context.Context, account AccountID) (Principal, error) {
	const op = "rbac.Service.Principal"
	grants, err := s.store.ListAccountGrants(ctx, account)
	if err != nil {
		return Principal{}, err
	}
	var roles []*Role
	seen := map[RoleID]bool{}
	for _, g := range grants {
		if _, ok := builtInByID(g.RoleID); ok || seen[g.RoleID] {
			continue
		}
		seen[g.RoleID] = true
		r, err := s.roleFor(ctx, g.RoleID, g.Scope)
		if err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return Principal{}, errs.Wrap(errs.KindInternal, op, "a grant refers to a missing role", err)
			}
			return Principal{}, err
		}
		roles = append(roles, r)
	}
	return NewPrincipal(account, grants, roles)
}

// roleFor returns custom role id as it may be granted at scope sc: owned by
// the scope's practice or by its group. Otherwise KindNotFound.
func (s *Service) roleFor(ctx context.Context, id RoleID, sc Scope) (*Role, error) {
	if sc.Kind != ScopeGroup {
		r, err := s.store.GetRole(ctx, PracticeOwner(sc.GroupID, sc.PracticeID), id)
		if err == nil || !errs.Is(err, errs.KindNotFound) {
			return r, err
		}
	}
	return s.store.GetRole(ctx, GroupOwner(sc.GroupID), id)
}

// NewRole is the input of CreateRole.
type NewRole struct {
	// Owner is the practice or group the role belongs to. Its GroupID may be
	// left zero for a practice: the Service fills it in.
	Owner       Owner
	Name        string
	Permissions []Permission
}

// RoleUpdate is the input of UpdateRole: the role's new name and permissions.
type RoleUpdate struct {
	Name        string
	Permissions []Permission
}

// MaxRoleName is the longest role name, in characters.
const MaxRoleName = 64

// CreateRole creates a custom role on behalf of p. It returns KindInvalid
// for a bad name (field "name") or permission list (field "permissions"),
// KindNotFound for an owner p has no grant in, KindForbidden unless p holds
// roles.manage and every permission of the role at a scope including the
// owner's, and KindConflict when the owner has a role of that name.
func (s *Service) CreateRole(ctx context.Context, p Principal, in NewRole) (*Role, error) {
	const op = "rbac.Service.CreateRole"
	who, err := actorOf(ctx, op)
	if err != nil {
		return nil, err
	}
	name, perms, err := roleInput(op, in.Name, in.Permissions)
	if err != nil {
		return nil, err
	}
	owner, err := s.owner(ctx, op, p, in.Owner)
	if err != nil {
		return nil, err
	}
	if err := mayManageRole(op, p, owner, perms); err != nil {
		return nil, err
	}
	now := s.now()
	r := &Role{
		ID:          s.ids.New(),
		Owner:       owner,
		Name:        name,
		Permissions: perms.list(),
		CreatedAt:   now,
		CreatedBy:   who.String(),
		UpdatedAt:   now,
	}
	if err := s.store.CreateRole(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// GetRole returns a role p may see: a built-in role, or a custom role of
// owner (which needs roles.manage or staff.manage there). Otherwise it
// returns KindNotFound or KindForbidden.
func (s *Service) GetRole(ctx context.Context, p Principal, owner Owner, id RoleID) (*Role, error) {
	const op = "rbac.Service.GetRole"
	if r, ok := BuiltInRole(id); ok {
		return r, nil
	}
	owner, err := s.owner(ctx, op, p, owner)
	if err != nil {
		return nil, err
	}
	if !p.holdsWithin(mustSet(RolesManage), owner.Scope()) && !p.holdsWithin(mustSet(StaffManage), owner.Scope()) {
		return nil, forbidden(op, "missing permission roles.manage")
	}
	return s.store.GetRole(ctx, owner, id)
}

// ListRoles returns the custom roles of owner, by name, for a p that holds
// roles.manage or staff.manage there (else KindForbidden, or KindNotFound
// for an owner p has no grant in). The built-in roles are BuiltInRoles.
func (s *Service) ListRoles(ctx context.Context, p Principal, owner Owner) ([]*Role, error) {
	const op = "rbac.Service.ListRoles"
	owner, err := s.owner(ctx, op, p, owner)
	if err != nil {
		return nil, err
	}
	if !p.holdsWithin(mustSet(RolesManage), owner.Scope()) && !p.holdsWithin(mustSet(StaffManage), owner.Scope()) {
		return nil, forbidden(op, "missing permission roles.manage")
	}
	return s.store.ListRoles(ctx, owner)
}

// UpdateRole renames custom role id of owner and replaces its permissions.
// p must hold roles.manage and every permission of the role, old and new, at
// a scope including the owner's (else KindForbidden). Built-in roles cannot
// be changed (KindForbidden).
func (s *Service) UpdateRole(ctx context.Context, p Principal, owner Owner, id RoleID, in RoleUpdate) (*Role, error) {
	const op = "rbac.Service.UpdateRole"
	if _, ok := builtInByID(id); ok {
		return nil, forbidden(op, "built-in roles cannot be changed")
	}
	if _, err := actorOf(ctx, op); err != nil {
		return nil, err
	}
	name, perms, err := roleInput(op, in.Name, in.Permissions)
	if err != nil {
		return nil, err
	}
	owner, err = s.owner(ctx, op, p, owner)
	if err != nil {
		return nil, err
	}
	r, err := s.store.GetRole(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	old, err := setOf(op, "permissions", r.Permissions)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, op, "stored role is corrupt", err)
	}
	if err := mayManageRole(op, p, owner, old|perms); err != nil {
		return nil, err
	}
	r.Name, r.Permissions, r.UpdatedAt = name, perms.list(), s.now()
	if err := s.store.UpdateRole(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteRole deletes custom role id of owner. p must hold roles.manage and
// every permission of the role at a scope including the owner's (else
// KindForbidden). A role still granted is KindConflict; a built-in role is
// KindForbidden.
func (s *Service) DeleteRole(ctx context.Context, p Principal, owner Owner, id RoleID) error {
	const op = "rbac.Service.DeleteRole"
	if _, ok := builtInByID(id); ok {
		return forbidden(op, "built-in roles cannot be deleted")
	}
	owner, err := s.owner(ctx, op, p, owner)
	if err != nil {
		return err
	}
	r, err := s.store.GetRole(ctx, owner, id)
	if err != nil {
		return err
	}
	perms, err := setOf(op, "permissions", r.Permissions)
	if err != nil {
		return errs.Wrap(errs.KindInternal, op, "stored role is corrupt", err)
	}
	if err := mayManageRole(op, p, owner, perms); err != nil {
		return err
	}
	return s.store.DeleteRole(ctx, owner, id)
}

// NewGrant is the input of Grant.
type NewGrant struct {
	AccountID AccountID
	RoleID    RoleID
	// Scope is where the role applies. For scopes inside a practice, GroupID
	// may be left zero: the Service fills in the practice's group. For a self
	// scope the caller checks that the patient exists and is the account's.
	Scope Scope
}

// Grant gives an account a role over a scope, on behalf of p. It returns
// KindInvalid for a bad input (naming the field), KindNotFound for a scope or
// role p cannot see (another tenant, or a role owned by another practice),
// KindForbidden unless p holds staff.manage and every permission of the role
// at a scope including the grant's (no privilege escalation), and
// KindConflict when the account already holds that role there.
func (s *Service) Grant(ctx context.Context, p Principal, in NewGrant) (*Grant, error) {
	const op = "rbac.Service.Grant"
	who, err := actorOf(ctx, op)
	if err != nil {
		return nil, err
	}
	if in.AccountID == uuid.Nil {
		return nil, errs.Invalid(op, "account_id", "a grant needs an account")
	}
	if in.RoleID == uuid.Nil {
		return nil, errs.Invalid(op, "role_id", "a grant needs a role")
	}
	sc, err := s.scope(ctx, op, p, in.Scope)
	if err != nil {
		return nil, err
	}
	if !p.holdsWithin(mustSet(StaffManage), sc) {
		return nil, forbidden(op, "missing permission staff.manage")
	}
	var perms permSet
	if b, ok := builtInByID(in.RoleID); ok {
		allowed := false
		for _, k := range b.scopes {
			allowed = allowed || k == sc.Kind
		}
		if !allowed {
			return nil, errs.Invalid(op, "scope.kind", "role "+b.name+" cannot be granted at a "+string(sc.Kind)+" scope")
		}
		perms = b.perms
	} else {
		r, err := s.roleFor(ctx, in.RoleID, sc)
		if err != nil {
			return nil, err
		}
		if perms, err = setOf(op, "permissions", r.Permissions); err != nil {
			return nil, errs.Wrap(errs.KindInternal, op, "stored role is corrupt", err)
		}
	}
	if !p.holdsWithin(perms, sc) {
		return nil, forbidden(op, "the role grants permissions you do not hold there: "+
			joinPerms(perms&^heldWithin(p, sc)))
	}
	g := &Grant{
		ID:        s.ids.New(),
		AccountID: in.AccountID,
		RoleID:    in.RoleID,
		Scope:     sc,
		CreatedAt: s.now(),
		CreatedBy: who.String(),
	}
	if err := s.store.CreateGrant(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

// GrantAsSystem grants in.RoleID to in.AccountID at in.Scope with no
// granting principal: the bootstrap of a tenant (the first administrator
// of a new group) and the grants of invitations that no account sent,
// which only code embedding the engine makes. The grant itself is checked
// as Grant checks it (the account and role are given, the role exists and
// may be granted at the scope, the scope's practice, location or group
// exists); only the granter's permissions are not, so callers decide who
// may bootstrap. CreatedBy is ctx's actor, which is required.
func (s *Service) GrantAsSystem(ctx context.Context, in NewGrant) (*Grant, error) {
	group := in.Scope.GroupID
	if in.Scope.Kind != ScopeGroup && in.Scope.PracticeID != uuid.Nil {
		p, err := s.tenants.GetPractice(ctx, in.Scope.PracticeID)
		if err != nil {
			return nil, err
		}
		if group != uuid.Nil && group != p.GroupID {
			return nil, errs.NotFound("rbac.Service.GrantAsSystem", "practice")
		}
		group = p.GroupID
	}
	// The system acts as one holding every permission over the group.
	system := Principal{grants: []held{{scope: GroupScope(group), perms: mustSet(all[:]...)}}}
	return s.Grant(ctx, system, in)
}

// Revoke deletes grant id of group on behalf of p, who must hold
// staff.manage at a scope including the grant's (else KindForbidden). A
// grant p has no grant near reads as KindNotFound.
func (s *Service) Revoke(ctx context.Context, p Principal, group tenant.GroupID, id GrantID) error {
	const op = "rbac.Service.Revoke"
	g, err := s.store.GetGrant(ctx, group, id)
	if err != nil {
		return err
	}
	if !sees(p, g.Scope) {
		return errs.NotFound(op, "grant")
	}
	if !p.holdsWithin(mustSet(StaffManage), g.Scope) {
		return forbidden(op, "missing permission staff.manage")
	}
	return s.store.DeleteGrant(ctx, group, id)
}

// ListPracticeGrants returns the grants inside practice, for a p that holds
// staff.manage over the whole practice (else KindForbidden, or KindNotFound
// when p has no grant there).
func (s *Service) ListPracticeGrants(ctx context.Context, p Principal, practice tenant.PracticeID) ([]*Grant, error) {
	const op = "rbac.Service.ListPracticeGrants"
	sc, err := s.scope(ctx, op, p, Scope{Kind: ScopePractice, PracticeID: practice})
	if err != nil {
		return nil, err
	}
	if !p.holdsWithin(mustSet(StaffManage), sc) {
		return nil, forbidden(op, "missing permission staff.manage")
	}
	return s.store.ListPracticeGrants(ctx, practice)
}

// ListGroupGrants returns the group-scope grants of group, for a p that
// holds staff.manage over the group.
func (s *Service) ListGroupGrants(ctx context.Context, p Principal, group tenant.GroupID) ([]*Grant, error) {
	const op = "rbac.Service.ListGroupGrants"
	sc, err := s.scope(ctx, op, p, GroupScope(group))
	if err != nil {
		return nil, err
	}
	if !p.holdsWithin(mustSet(StaffManage), sc) {
		return nil, forbidden(op, "missing permission staff.manage")
	}
	return s.store.ListGroupGrants(ctx, group)
}

// scope validates sc, checks that its tenants exist, fills in the group of a
// practice, and hides scopes p has no grant near (KindNotFound).
func (s *Service) scope(ctx context.Context, op string, p Principal, sc Scope) (Scope, error) {
	switch sc.Kind {
	case ScopeGroup:
		if sc.GroupID == uuid.Nil {
			return Scope{}, errs.Invalid(op, "scope.group_id", "a group scope needs a group")
		}
		sc = GroupScope(sc.GroupID)
		if !sees(p, sc) {
			return Scope{}, errs.NotFound(op, "group")
		}
		if _, err := s.tenants.GetGroup(ctx, sc.GroupID); err != nil {
			return Scope{}, err
		}
		return sc, nil
	case ScopePractice, ScopeLocation, ScopeSelf:
	case "":
		return Scope{}, errs.Invalid(op, "scope.kind", "a scope needs a kind")
	default:
		return Scope{}, errs.Invalid(op, "scope.kind", "unknown scope kind "+quote(string(sc.Kind)))
	}
	if sc.PracticeID == uuid.Nil {
		return Scope{}, errs.Invalid(op, "scope.practice_id", "a "+string(sc.Kind)+" scope needs a practice")
	}
	out := Scope{Kind: sc.Kind, PracticeID: sc.PracticeID}
	switch sc.Kind {
	case ScopeLocation:
		if sc.LocationID == uuid.Nil {
			return Scope{}, errs.Invalid(op, "scope.location_id", "a location scope needs a location")
		}
		out.LocationID = sc.LocationID
	case ScopeSelf:
		if sc.PatientID == uuid.Nil {
			return Scope{}, errs.Invalid(op, "scope.patient_id", "a self scope needs a patient")
		}
		out.PatientID = sc.PatientID
	}
	pr, err := s.tenants.GetPractice(ctx, sc.PracticeID)
	if errs.Is(err, errs.KindNotFound) || (err == nil && sc.GroupID != uuid.Nil && sc.GroupID != pr.GroupID) {
		return Scope{}, errs.NotFound(op, "practice")
	}
	if err != nil {
		return Scope{}, err
	}
	out.GroupID = pr.GroupID
	if !Member(p, out.PracticeID, out.GroupID) {
		return Scope{}, errs.NotFound(op, "practice")
	}
	if out.Kind == ScopeLocation {
		if _, err := s.tenants.GetLocation(ctx, out.PracticeID, out.LocationID); err != nil {
			return Scope{}, err
		}
	}
	return out, nil
}

// owner validates o, fills in a practice's group, and hides owners p has no
// grant near (KindNotFound).
func (s *Service) owner(ctx context.Context, op string, p Principal, o Owner) (Owner, error) {
	if o.PracticeID == nil {
		if o.GroupID == uuid.Nil {
			return Owner{}, errs.Invalid(op, "owner.group_id", "a role needs an owner")
		}
		sc, err := s.scope(ctx, op, p, GroupScope(o.GroupID))
		if err != nil {
			return Owner{}, err
		}
		return GroupOwner(sc.GroupID), nil
	}
	sc, err := s.scope(ctx, op, p, Scope{Kind: ScopePractice, GroupID: o.GroupID, PracticeID: *o.PracticeID})
	if err != nil {
		return Owner{}, err
	}
	return PracticeOwner(sc.GroupID, sc.PracticeID), nil
}

// sees reports whether p has any grant near sc: for a group scope, a grant
// at that group's scope or inside one of its practices (as far as p's
// grants tell); otherwise a grant reaching sc's practice.
func sees(p Principal, sc Scope) bool {
	if sc.Kind != ScopeGroup {
		return Member(p, sc.PracticeID, sc.GroupID)
	}
	for _, h := range p.grants {
		if h.perms != 0 && h.scope.GroupID == sc.GroupID && sc.GroupID != uuid.Nil {
			return true
		}
	}
	return false
}

// mayManageRole returns KindForbidden unless p holds roles.manage and every
// permission of perms at a scope including owner's.
func mayManageRole(op string, p Principal, owner Owner, perms permSet) error {
	sc := owner.Scope()
	if !p.holdsWithin(mustSet(RolesManage), sc) {
		return forbidden(op, "missing permission roles.manage")
	}
	if missing := perms &^ heldWithin(p, sc); missing != 0 {
		return forbidden(op, "the role grants permissions you do not hold there: "+joinPerms(missing))
	}
	return nil
}

// heldWithin returns the permissions p holds at scopes including sc.
func heldWithin(p Principal, sc Scope) permSet {
	var got permSet
	for _, h := range p.grants {
		if h.scope.Includes(sc) {
			got |= h.perms
		}
	}
	return got
}

// roleInput validates a role's name and permissions.
func roleInput(op, name string, perms []Permission) (string, permSet, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", 0, errs.Invalid(op, "name", "a role needs a name")
	case utf8.RuneCountInString(name) > MaxRoleName:
		return "", 0, errs.Invalid(op, "name", "a role name has at most 64 characters")
	case !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "", 0, errs.Invalid(op, "name", "a role name must be printable text")
	case isBuiltInName(name):
		return "", 0, errs.Invalid(op, "name", quote(name)+" is the name of a built-in role")
	}
	set, err := setOf(op, "permissions", perms)
	if err != nil {
		return "", 0, err
	}
	if set == 0 {
		return "", 0, errs.Invalid(op, "permissions", "a role needs at least one permission")
	}
	return name, set, nil
}

func joinPerms(s permSet) string {
	l := s.list()
	parts := make([]string, len(l))
	for i, p := range l {
		parts[i] = string(p)
	}
	return strings.Join(parts, ", ")
}

func forbidden(op, msg string) error { return &errs.Error{Kind: errs.KindForbidden, Op: op, Msg: msg} }

func actorOf(ctx context.Context, op string) (actor.Actor, error) {
	a, ok := actor.From(ctx)
	if !ok || !a.Valid() {
		return a, errs.E(errs.KindUnauthenticated, op, "no actor for this request")
	}
	return a, nil
}
