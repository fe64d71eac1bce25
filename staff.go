package carebook

import (
	"context"
	"strings"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Staff: invitations, roles and grants of a practice, on behalf of the
// caller in the context (see WithCaller), each change written to the
// practice's activity log in its own transaction. rbac.Service, which
// refuses privilege escalation, is the only writer of grants.

// invitableRoles are the built-in roles a staff invitation may name; a
// custom role of the practice may be named too.
var invitableRoles = map[string]rbac.RoleID{
	rbac.FrontDesk:     rbac.FrontDeskID,
	rbac.PracticeAdmin: rbac.PracticeAdminID,
	rbac.Clinician:     rbac.ClinicianID,
}

// systemInviter is the actor of grants made for invitations no account
// sent.
var systemInviter = actor.Actor{Kind: actor.System, ID: "invitation"}

// staffCaller is the caller of ctx acting in a practice: an account (not
// an API key), with the practice and its target.
type staffCaller struct {
	*Caller
	practice *tenant.Practice
	target   rbac.Target
}

// staffIn returns the caller of ctx acting in practice, who must be a
// signed-in account holding perm there.
func (e *Engine) staffIn(ctx context.Context, op string, practice tenant.PracticeID, perm rbac.Permission) (*staffCaller, error) {
	c, ok := CallerFrom(ctx)
	if !ok || c.Principal.Account() == uuid.Nil {
		return nil, errs.E(errs.KindUnauthenticated, op, "this needs a signed-in account, not an API key")
	}
	p, err := e.Tenants.Practice(ctx, practice)
	if err != nil {
		return nil, err
	}
	sc := &staffCaller{Caller: c, practice: p, target: rbac.Target{GroupID: p.GroupID, PracticeID: p.ID}}
	if err := e.RBAC.Authorize(ctx, c.Principal, perm, sc.target); err != nil {
		return sc, err
	}
	// Every change of the staff is a write, refused while the practice
	// is read-only.
	return sc, e.writable(ctx, c, &Access{Permission: perm, Effect: EffectWrite}, p.ID)
}

// entry is the activity-log entry of a change the caller makes in the
// practice, naming the roles it acts in.
func (sc *staffCaller) entry(ctx context.Context, action, typ string) audit.Entry {
	en := Entry(ctx, sc.practice.ID, sc.Actor.ID, action, typ, "", audit.Allowed)
	en.Role = sc.Principal.RoleNames(sc.target)
	return en
}

// Log appends en, the activity-log entry of a change, in the transaction
// ctx carries (see Change): if it fails (KindInternal), the change it
// records rolls back with it.
func (e *Engine) Log(ctx context.Context, en audit.Entry) error {
	if _, err := e.Audit.Record(ctx, en); err != nil {
		return errs.Wrap(errs.KindInternal, "carebook.Log", "cannot record the change in the activity log", err)
	}
	return nil
}

// Change runs fn, a change, and appends en, its activity-log entry, in one
// transaction: if either fails, both roll back. fn may complete en with
// what it learns (the ID of what it created).
func (e *Engine) Change(ctx context.Context, en audit.Entry, fn func(ctx context.Context, en *audit.Entry) error) error {
	return e.InTx(ctx, func(ctx context.Context) error {
		if err := fn(ctx, &en); err != nil {
			return err
		}
		return e.Log(ctx, en)
	})
}

// customRoleNamed returns the custom role of practice p named name, or
// KindNotFound.
func (e *Engine) customRoleNamed(ctx context.Context, p *tenant.Practice, name string) (*rbac.Role, error) {
	roles, err := e.store.RBAC.ListRoles(ctx, rbac.PracticeOwner(p.GroupID, p.ID))
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		if r.Name == name {
			return r, nil
		}
	}
	return nil, errs.NotFound("carebook.role", "role")
}

// invitedRole resolves the role an invitation names: front_desk,
// practice_admin, or a custom role of practice p by name (KindInvalid,
// field "role", otherwise).
func (e *Engine) invitedRole(ctx context.Context, p *tenant.Practice, name string) (rbac.RoleID, error) {
	name = strings.TrimSpace(name)
	if id, ok := invitableRoles[name]; ok {
		return id, nil
	}
	r, err := e.customRoleNamed(ctx, p, name)
	if errs.Is(err, errs.KindNotFound) {
		return uuid.Nil, errs.Invalid("carebook.invitedRole", "role", "want front_desk, practice_admin or the name of a custom role of the practice")
	}
	if err != nil {
		return uuid.Nil, err
	}
	return r.ID, nil
}

// rolePermissions returns the permissions of role id as granted in p.
func (e *Engine) rolePermissions(ctx context.Context, p *tenant.Practice, id rbac.RoleID) ([]rbac.Permission, error) {
	if b, ok := rbac.BuiltInRole(id); ok {
		return b.Permissions, nil
	}
	r, err := e.store.RBAC.GetRole(ctx, rbac.PracticeOwner(p.GroupID, p.ID), id)
	if err != nil {
		return nil, err
	}
	return r.Permissions, nil
}

// Invite invites a staff member by email to practice in role (front_desk,
// practice_admin or the name of a custom role of the practice), on behalf
// of the caller, who must be an account holding staff.manage there and
// every permission the role grants (else KindForbidden, field "role"). The
// invitation and its "invitation.create" entry commit together. It returns
// the token, shown only here, for the caller to deliver.
func (e *Engine) Invite(ctx context.Context, practice tenant.PracticeID, email, role string) (string, *identity.Invitation, error) {
	const op = "carebook.Invite"
	sc, err := e.staffIn(ctx, op, practice, rbac.StaffManage)
	if err != nil {
		return "", nil, err
	}
	id, err := e.invitedRole(ctx, sc.practice, role)
	if err != nil {
		return "", nil, err
	}
	perms, err := e.rolePermissions(ctx, sc.practice, id)
	if err != nil {
		return "", nil, err
	}
	for _, perm := range perms {
		if !sc.Principal.Can(perm, sc.target) {
			return "", nil, &errs.Error{Kind: errs.KindForbidden, Op: op, Field: "role", Msg: "the role grants " + string(perm) + ", which you do not hold here"}
		}
	}
	var (
		tok string
		inv *identity.Invitation
	)
	err = e.InTx(ctx, func(ctx context.Context) error {
		if tok, inv, err = e.Identity.CreateInvitation(ctx, practice, email, role, sc.Principal.Account()); err != nil {
			return err
		}
		en := Entry(ctx, practice, sc.Principal.Account().String(), "invitation.create", "invitation", inv.ID.String(), audit.Allowed)
		return e.Log(ctx, en)
	})
	if err != nil {
		return "", nil, err
	}
	return tok, inv, nil
}

// AcceptInvitation creates the account of an invitation with password and
// grants it the invited role at the practice's scope, on behalf of the
// inviter (so that an invitation never hands out more than its inviter
// holds), in one transaction with the "invitation.accept" and
// "grant.create" entries. The password is hashed before the transaction
// opens. An invitation whose role the practice no longer has, or that its
// inviter may no longer grant, is KindPreconditionFailed (field "token"),
// and no account is made.
func (e *Engine) AcceptInvitation(ctx context.Context, token, password string) (*identity.Account, error) {
	const op = "carebook.AcceptInvitation"
	if token == "" {
		return nil, errs.Invalid(op, "token", "is required")
	}
	if inv, err := e.store.Identity.InvitationByTokenHash(ctx, identity.HashToken(token)); err == nil && inv.AcceptedAt == nil {
		if err := e.mayGrantInvited(ctx, inv); err != nil {
			return nil, err
		}
	}
	pending, err := e.Identity.PrepareAcceptance(ctx, token, password)
	if err != nil {
		return nil, err
	}
	var acct *identity.Account
	err = e.InTx(ctx, func(ctx context.Context) error {
		a, inv, err := e.Identity.FinishAcceptance(ctx, pending)
		if err != nil {
			return err
		}
		if err := e.Log(ctx, Entry(ctx, inv.PracticeID, a.ID.String(), "invitation.accept", "invitation", inv.ID.String(), audit.Allowed)); err != nil {
			return err
		}
		acct = a
		err = e.grantInvited(ctx, a, inv)
		if err != nil && errs.KindOf(err) != errs.KindInternal {
			// The inviter lost the right since mayGrantInvited checked.
			return &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "token",
				Msg: "the invited role can no longer be granted; ask for a new invitation", Err: err}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return acct, nil
}

// grantInvited grants the role of an accepted invitation to its new
// account, on behalf of the inviter, and records it, in ctx's transaction.
func (e *Engine) grantInvited(ctx context.Context, acct *identity.Account, inv *identity.Invitation) error {
	ctx = actor.With(ctx, actor.Actor{Kind: actor.Staff, ID: inv.InvitedBy.String()})
	p, err := e.Tenants.Practice(ctx, inv.PracticeID)
	if err != nil {
		return err
	}
	role, err := e.invitedRole(ctx, p, inv.Role)
	if err != nil {
		return err
	}
	in := rbac.NewGrant{AccountID: acct.ID, RoleID: role, Scope: rbac.PracticeScope(p.GroupID, p.ID)}
	var g *rbac.Grant
	who := inv.InvitedBy.String()
	if inv.InvitedBy == uuid.Nil {
		// Only code embedding the engine creates invitations without an
		// inviter (the first administrator of a practice): it is trusted.
		who = systemInviter.String()
		if g, err = e.RBAC.GrantAsSystem(actor.With(ctx, systemInviter), in); err != nil {
			return err
		}
	} else {
		pr, err := e.RBAC.Principal(ctx, inv.InvitedBy)
		if err != nil {
			return err
		}
		if g, err = e.RBAC.Grant(ctx, pr, in); err != nil {
			return err
		}
	}
	return e.Log(ctx, Entry(ctx, p.ID, who, "grant.create", "grant", g.ID.String(), audit.Allowed))
}

// mayGrantInvited checks, before an invitation is accepted, that its role
// resolves in its practice and that its inviter may still grant it there,
// so that no account is created that the grant would then fail for.
func (e *Engine) mayGrantInvited(ctx context.Context, inv *identity.Invitation) error {
	const op = "carebook.AcceptInvitation"
	p, err := e.Tenants.Practice(ctx, inv.PracticeID)
	if err != nil {
		return err
	}
	role, err := e.invitedRole(ctx, p, inv.Role)
	if err != nil {
		return &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "token", Msg: "the invitation names a role the practice no longer has"}
	}
	if inv.InvitedBy == uuid.Nil {
		return nil
	}
	perms, err := e.rolePermissions(ctx, p, role)
	if err != nil {
		return err
	}
	pr, err := e.RBAC.Principal(ctx, inv.InvitedBy)
	if err != nil {
		return err
	}
	t := rbac.Target{GroupID: p.GroupID, PracticeID: p.ID}
	for _, perm := range append(perms, rbac.StaffManage) {
		if !pr.Can(perm, t) {
			return &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "token", Msg: "the inviter may no longer grant the invited role; ask for a new invitation"}
		}
	}
	return nil
}

// GrantRequest asks for a role (by ID, or by name: a built-in name or a
// custom role of the practice) for an account at a scope of the practice:
// practice, location (with LocationID) or self (with PatientID, a patient
// of the practice; the patient role).
type GrantRequest struct {
	AccountID  identity.AccountID
	RoleID     rbac.RoleID
	Role       string
	Scope      rbac.ScopeKind
	LocationID tenant.LocationID
	PatientID  uuid.UUID
}

// GrantRole grants a role in practice on behalf of the caller (see
// rbac.Service.Grant for what the caller must hold), with its
// "grant.create" entry, in one transaction. Accounts belong to a practice:
// only those of this practice, or staff of another practice of its group,
// may be granted roles here (another account reads as not found, field
// "account_id"); staff roles go to staff accounts and self grants to the
// practice's patient accounts.
func (e *Engine) GrantRole(ctx context.Context, practice tenant.PracticeID, in GrantRequest) (*rbac.Grant, error) {
	const op = "carebook.GrantRole"
	sc, err := e.staffIn(ctx, op, practice, rbac.StaffManage)
	if err != nil {
		return nil, err
	}
	role := in.RoleID
	switch {
	case in.RoleID != uuid.Nil && in.Role != "":
		return nil, errs.Invalid(op, "role", "give role_id or role, not both")
	case in.RoleID != uuid.Nil:
	case in.Role != "":
		for _, b := range rbac.BuiltInRoles() {
			if b.Name == in.Role {
				role = b.ID
			}
		}
		if role == uuid.Nil {
			cr, err := e.customRoleNamed(ctx, sc.practice, in.Role)
			if err != nil {
				return nil, &errs.Error{Kind: errs.KindNotFound, Op: op, Field: "role", Msg: "no role named " + in.Role}
			}
			role = cr.ID
		}
	default:
		return nil, errs.Invalid(op, "role_id", "is required")
	}
	notFound := &errs.Error{Kind: errs.KindNotFound, Op: op, Field: "account_id", Msg: "account not found"}
	acct, err := e.store.Identity.GetAccount(ctx, in.AccountID)
	if errs.Is(err, errs.KindNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if acct.PracticeID != practice {
		home, err := e.Tenants.Practice(ctx, acct.PracticeID)
		if err != nil || home.GroupID != sc.practice.GroupID || acct.Kind != identity.Staff {
			return nil, notFound
		}
	}
	scope := rbac.Scope{Kind: in.Scope, GroupID: sc.practice.GroupID, PracticeID: practice}
	switch scope.Kind {
	case rbac.ScopePractice, rbac.ScopeLocation:
		if acct.Kind != identity.Staff {
			return nil, errs.Invalid(op, "account_id", "staff roles go to staff accounts; a patient account gets a self grant")
		}
		if scope.Kind == rbac.ScopeLocation {
			if in.LocationID == uuid.Nil {
				return nil, errs.Invalid(op, "location_id", "is required")
			}
			scope.LocationID = in.LocationID
		}
	case rbac.ScopeSelf:
		if acct.Kind != identity.Patient || acct.PracticeID != practice {
			return nil, errs.Invalid(op, "account_id", "a self grant links a patient account of the practice")
		}
		if in.PatientID == uuid.Nil {
			return nil, errs.Invalid(op, "patient_id", "is required")
		}
		if _, err := e.Scheduling.Patient(ctx, practice, in.PatientID); err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return nil, &errs.Error{Kind: errs.KindNotFound, Op: op, Field: "patient_id", Msg: "patient not found"}
			}
			return nil, err
		}
		scope.PatientID = in.PatientID
	default:
		return nil, errs.Invalid(op, "scope", "want practice, location or self")
	}
	var g *rbac.Grant
	err = e.staffChange(ctx, sc, "grant.create", "grant", func(ctx context.Context) (string, error) {
		if g, err = e.RBAC.Grant(ctx, sc.Principal, rbac.NewGrant{AccountID: acct.ID, RoleID: role, Scope: scope}); err != nil {
			return "", err
		}
		return g.ID.String(), nil
	})
	return g, err
}

// RevokeGrant revokes a grant inside practice on behalf of the caller, with
// its "grant.delete" entry. A grant outside the practice (of its group, or
// of another practice) reads as not found here.
func (e *Engine) RevokeGrant(ctx context.Context, practice tenant.PracticeID, id rbac.GrantID) error {
	const op = "carebook.RevokeGrant"
	sc, err := e.staffIn(ctx, op, practice, rbac.StaffManage)
	if err != nil {
		return err
	}
	g, err := e.store.RBAC.GetGrant(ctx, sc.practice.GroupID, id)
	if err != nil {
		return err
	}
	if g.Scope.Kind == rbac.ScopeGroup || g.Scope.PracticeID != practice {
		return errs.NotFound(op, "grant")
	}
	return e.staffChange(ctx, sc, "grant.delete", "grant", func(ctx context.Context) (string, error) {
		return id.String(), e.RBAC.Revoke(ctx, sc.Principal, sc.practice.GroupID, id)
	})
}

// CreateRole creates a custom role of practice on behalf of the caller
// (see rbac.Service.CreateRole), with its "role.create" entry.
func (e *Engine) CreateRole(ctx context.Context, practice tenant.PracticeID, name string, perms []rbac.Permission) (*rbac.Role, error) {
	sc, err := e.staffIn(ctx, "carebook.CreateRole", practice, rbac.RolesManage)
	if err != nil {
		return nil, err
	}
	var r *rbac.Role
	err = e.staffChange(ctx, sc, "role.create", "role", func(ctx context.Context) (string, error) {
		owner := rbac.PracticeOwner(sc.practice.GroupID, practice)
		if r, err = e.RBAC.CreateRole(ctx, sc.Principal, rbac.NewRole{Owner: owner, Name: name, Permissions: perms}); err != nil {
			return "", err
		}
		return r.ID.String(), nil
	})
	return r, err
}

// DeleteRole deletes a custom role of practice on behalf of the caller
// (see rbac.Service.DeleteRole), with its "role.delete" entry.
func (e *Engine) DeleteRole(ctx context.Context, practice tenant.PracticeID, id rbac.RoleID) error {
	sc, err := e.staffIn(ctx, "carebook.DeleteRole", practice, rbac.RolesManage)
	if err != nil {
		return err
	}
	return e.staffChange(ctx, sc, "role.delete", "role", func(ctx context.Context) (string, error) {
		return id.String(), e.RBAC.DeleteRole(ctx, sc.Principal, rbac.PracticeOwner(sc.practice.GroupID, practice), id)
	})
}

// staffChange runs fn, a change the caller makes in its practice, and
// appends its entry (ResourceID: what fn returns) in one transaction.
func (e *Engine) staffChange(ctx context.Context, sc *staffCaller, action, typ string, fn func(ctx context.Context) (string, error)) error {
	return e.Change(ctx, sc.entry(ctx, action, typ), func(ctx context.Context, en *audit.Entry) error {
		id, err := fn(ctx)
		en.ResourceID = clip(id, 100)
		return err
	})
}

// CreateAPIKey issues an API key of practice named name, on behalf of the
// caller, an account holding apikey.manage there, with permissions it
// holds there itself (else KindForbidden, field "permissions"; an unknown
// one is KindInvalid). The key and its "apikey.create" entry commit
// together; the key is returned only here.
func (e *Engine) CreateAPIKey(ctx context.Context, practice tenant.PracticeID, name string, permissions []string) (string, *identity.APIKey, error) {
	const op = "carebook.CreateAPIKey"
	sc, err := e.staffIn(ctx, op, practice, rbac.APIKeyManage)
	if err != nil {
		return "", nil, err
	}
	for _, p := range permissions {
		perm, err := rbac.ParsePermission(p)
		if err != nil {
			return "", nil, errs.Invalid(op, "permissions", "unknown permission "+p)
		}
		if !sc.Principal.Can(perm, sc.target) {
			return "", nil, &errs.Error{Kind: errs.KindForbidden, Op: op, Field: "permissions", Msg: "you do not hold " + p + " here"}
		}
	}
	var (
		key string
		k   *identity.APIKey
	)
	err = e.staffChange(ctx, sc, "apikey.create", "api_key", func(ctx context.Context) (string, error) {
		if key, k, err = e.Identity.CreateAPIKey(ctx, practice, name, permissions, sc.Principal.Account()); err != nil {
			return "", err
		}
		return k.ID.String(), nil
	})
	if err != nil {
		return "", nil, err
	}
	return key, k, nil
}

// RevokeAPIKey revokes an API key of practice on behalf of the caller, an
// account holding apikey.manage there, with its "apikey.revoke" entry.
func (e *Engine) RevokeAPIKey(ctx context.Context, practice tenant.PracticeID, id identity.APIKeyID) error {
	sc, err := e.staffIn(ctx, "carebook.RevokeAPIKey", practice, rbac.APIKeyManage)
	if err != nil {
		return err
	}
	return e.staffChange(ctx, sc, "apikey.revoke", "api_key", func(ctx context.Context) (string, error) {
		return id.String(), e.Identity.RevokeAPIKey(ctx, practice, id)
	})
}
