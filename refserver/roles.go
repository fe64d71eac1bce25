package refserver

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Roles and grants of one practice. Every change goes through
// rbac.Service on behalf of the signed-in account, which refuses privilege
// escalation, and is written to the practice's activity log in the
// change's transaction.

// invitableRoles are the built-in roles a staff invitation may name; a
// custom role of the practice may be named too.
var invitableRoles = map[string]rbac.RoleID{
	rbac.FrontDesk:     rbac.FrontDeskID,
	rbac.PracticeAdmin: rbac.PracticeAdminID,
}

// systemInviter is the actor of grants made for invitations no account
// sent.
var systemInviter = actor.Actor{Kind: actor.System, ID: "invitation"}

// acting is the signed-in account of r as an rbac principal, with a context
// whose actor is that account (the actor rbac records as CreatedBy), and
// the practice of the path with its group.
type acting struct {
	ctx      context.Context
	c        *credentials
	pr       rbac.Principal
	practice *tenant.Practice
}

func (s *Server) actingIn(r *http.Request) (*acting, error) {
	pid, err := practiceID(r)
	if err != nil {
		return nil, err
	}
	c, err := s.signedIn(r)
	if err != nil {
		return nil, err
	}
	ctx := actor.With(r.Context(), c.actor())
	p, err := s.engine.Tenants.Practice(ctx, pid)
	if err != nil {
		return nil, err
	}
	pr, err := s.principal(r, c)
	if err != nil {
		return nil, err
	}
	return &acting{ctx: ctx, c: c, pr: pr, practice: p}, nil
}

func (a *acting) owner() rbac.Owner { return rbac.PracticeOwner(a.practice.GroupID, a.practice.ID) }

// customRoleNamed returns the custom role of practice named name in st, or
// KindNotFound.
func customRoleNamed(ctx context.Context, st rbac.Store, p *tenant.Practice, name string) (*rbac.Role, error) {
	roles, err := st.ListRoles(ctx, rbac.PracticeOwner(p.GroupID, p.ID))
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		if r.Name == name {
			return r, nil
		}
	}
	return nil, errs.NotFound("refserver.role", "role")
}

// invitedRole resolves the role an invitation names: front_desk,
// practice_admin, or a custom role of practice p in st by name (KindInvalid,
// field "role", otherwise).
func invitedRole(ctx context.Context, st rbac.Store, p *tenant.Practice, name string) (rbac.RoleID, error) {
	name = strings.TrimSpace(name)
	if id, ok := invitableRoles[name]; ok {
		return id, nil
	}
	r, err := customRoleNamed(ctx, st, p, name)
	if errs.Is(err, errs.KindNotFound) {
		return uuid.Nil, errs.Invalid("refserver.invitedRole", "role", "want front_desk, practice_admin or the name of a custom role of the practice")
	}
	if err != nil {
		return uuid.Nil, err
	}
	return r.ID, nil
}

// rolePermissions returns the permissions of role id as granted in p.
func (s *Server) rolePermissions(ctx context.Context, p *tenant.Practice, id rbac.RoleID) ([]rbac.Permission, error) {
	if b, ok := rbac.BuiltInRole(id); ok {
		return b.Permissions, nil
	}
	r, err := s.engine.Store().GetRole(ctx, rbac.PracticeOwner(p.GroupID, p.ID), id)
	if err != nil {
		return nil, err
	}
	return r.Permissions, nil
}

// changeAs runs fn, a role or grant change made through tx on behalf of
// a, and appends its entry to the practice's log in one transaction (see
// change). fn returns the ID of what it changed. The entry is made before
// the transaction opens, since naming a's roles reads the database.
func (s *Server) changeAs(r *http.Request, a *acting, action, typ string, fn func(ctx context.Context, tx *carebook.Engine) (id string, err error)) error {
	e := audit.Entry{PracticeID: a.practice.ID, Actor: a.c.actor().ID, Role: s.roleOf(r, a.c, rbac.Target{GroupID: a.practice.GroupID, PracticeID: a.practice.ID}),
		Action: action, ResourceType: typ, Outcome: audit.Allowed,
		IP: clientIP(r), UserAgent: clipString(r.UserAgent(), 500), RequestID: requestIDFrom(r.Context())}
	return s.change(a.ctx, e, func(ctx context.Context, tx *carebook.Engine, e *audit.Entry) error {
		id, err := fn(ctx, tx)
		e.ResourceID = id
		return err
	})
}

type roleRequest struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request) error {
	a, err := s.actingIn(r)
	if err != nil {
		return err
	}
	custom, err := s.engine.RBAC.ListRoles(a.ctx, a.pr, a.owner())
	if err != nil {
		return err
	}
	out := append(rbac.BuiltInRoles(), custom...)
	return reply(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request) error {
	const op = "refserver.createRole"
	a, err := s.actingIn(r)
	if err != nil {
		return err
	}
	var in roleRequest
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	perms := make([]rbac.Permission, 0, len(in.Permissions))
	for _, name := range in.Permissions {
		p, err := rbac.ParsePermission(name)
		if err != nil {
			return errs.Invalid(op, "permissions", "unknown permission "+name)
		}
		perms = append(perms, p)
	}
	var role *rbac.Role
	err = s.changeAs(r, a, "role.create", "role", func(ctx context.Context, tx *carebook.Engine) (string, error) {
		if role, err = tx.RBAC.CreateRole(ctx, a.pr, rbac.NewRole{Owner: a.owner(), Name: in.Name, Permissions: perms}); err != nil {
			return "", err
		}
		return role.ID.String(), nil
	})
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, role)
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "role")
	if err != nil {
		return err
	}
	a, err := s.actingIn(r)
	if err != nil {
		return err
	}
	err = s.changeAs(r, a, "role.delete", "role", func(ctx context.Context, tx *carebook.Engine) (string, error) {
		return id.String(), tx.RBAC.DeleteRole(ctx, a.pr, a.owner(), id)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// grantRequest grants a role (by ID, or by name: a built-in name or a
// custom role of the practice) to an account at a scope of the practice:
// "practice", "location" (with location_id) or "self" (with patient_id, a
// patient of the practice; only the patient role).
type grantRequest struct {
	AccountID  string `json:"account_id"`
	RoleID     string `json:"role_id"`
	Role       string `json:"role"`
	Scope      string `json:"scope"`
	LocationID string `json:"location_id"`
	PatientID  string `json:"patient_id"`
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) error {
	a, err := s.actingIn(r)
	if err != nil {
		return err
	}
	gs, err := s.engine.RBAC.ListPracticeGrants(a.ctx, a.pr, a.practice.ID)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, map[string]any{"items": gs})
}

func (s *Server) createGrant(w http.ResponseWriter, r *http.Request) error {
	const op = "refserver.createGrant"
	a, err := s.actingIn(r)
	if err != nil {
		return err
	}
	var in grantRequest
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	account, err := parseID("account_id", in.AccountID)
	if err != nil {
		return err
	}
	var role rbac.RoleID
	switch {
	case in.RoleID != "" && in.Role != "":
		return errs.Invalid(op, "role", "give role_id or role, not both")
	case in.RoleID != "":
		if role, err = parseID("role_id", in.RoleID); err != nil {
			return err
		}
	case in.Role != "":
		role = uuid.Nil
		for _, b := range rbac.BuiltInRoles() {
			if b.Name == in.Role {
				role = b.ID
			}
		}
		if role == uuid.Nil {
			cr, err := customRoleNamed(a.ctx, s.engine.Store(), a.practice, in.Role)
			if err != nil {
				return &errs.Error{Kind: errs.KindNotFound, Op: op, Field: "role", Msg: "no role named " + in.Role}
			}
			role = cr.ID
		}
	default:
		return errs.Invalid(op, "role_id", "is required")
	}
	acct, err := s.engine.Store().GetAccount(a.ctx, account)
	if errs.Is(err, errs.KindNotFound) {
		return &errs.Error{Kind: errs.KindNotFound, Op: op, Field: "account_id", Msg: "account not found"}
	}
	if err != nil {
		return err
	}
	// Accounts belong to a practice: only those of this practice, or of
	// another practice of its group for staff, may be granted roles here.
	if acct.PracticeID != a.practice.ID {
		home, err := s.engine.Tenants.Practice(a.ctx, acct.PracticeID)
		if err != nil || home.GroupID != a.practice.GroupID || acct.Kind != identity.Staff {
			return &errs.Error{Kind: errs.KindNotFound, Op: op, Field: "account_id", Msg: "account not found"}
		}
	}
	sc := rbac.Scope{Kind: rbac.ScopeKind(in.Scope), GroupID: a.practice.GroupID, PracticeID: a.practice.ID}
	switch sc.Kind {
	case rbac.ScopePractice, rbac.ScopeLocation:
		if acct.Kind != identity.Staff {
			return errs.Invalid(op, "account_id", "staff roles go to staff accounts; a patient account gets a self grant")
		}
		if sc.Kind == rbac.ScopeLocation {
			if sc.LocationID, err = parseID("location_id", in.LocationID); err != nil {
				return err
			}
		}
	case rbac.ScopeSelf:
		if acct.Kind != identity.Patient || acct.PracticeID != a.practice.ID {
			return errs.Invalid(op, "account_id", "a self grant links a patient account of the practice")
		}
		if sc.PatientID, err = parseID("patient_id", in.PatientID); err != nil {
			return err
		}
		if _, err := s.engine.Scheduling.Patient(a.ctx, a.practice.ID, sc.PatientID); err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return &errs.Error{Kind: errs.KindNotFound, Op: op, Field: "patient_id", Msg: "patient not found"}
			}
			return err
		}
	default:
		return errs.Invalid(op, "scope", "want practice, location or self")
	}
	var g *rbac.Grant
	err = s.changeAs(r, a, "grant.create", "grant", func(ctx context.Context, tx *carebook.Engine) (string, error) {
		if g, err = tx.RBAC.Grant(ctx, a.pr, rbac.NewGrant{AccountID: account, RoleID: role, Scope: sc}); err != nil {
			return "", err
		}
		return g.ID.String(), nil
	})
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, g)
}

func (s *Server) deleteGrant(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "grant")
	if err != nil {
		return err
	}
	a, err := s.actingIn(r)
	if err != nil {
		return err
	}
	// Only grants inside this practice are revoked through its path.
	g, err := s.engine.Store().GetGrant(a.ctx, a.practice.GroupID, id)
	if err != nil {
		return err
	}
	if g.Scope.Kind == rbac.ScopeGroup || g.Scope.PracticeID != a.practice.ID {
		return errs.NotFound("refserver.deleteGrant", "grant")
	}
	err = s.changeAs(r, a, "grant.delete", "grant", func(ctx context.Context, tx *carebook.Engine) (string, error) {
		return id.String(), tx.RBAC.Revoke(ctx, a.pr, a.practice.GroupID, id)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// grantInvitedRole grants the role of an accepted invitation to its new
// account at practice scope, on behalf of the inviter (so that an
// invitation can never hand out more than its inviter holds), and records
// it, through tx: the Engine of the acceptance's transaction.
func (s *Server) grantInvitedRole(ctx context.Context, tx *carebook.Engine, r *http.Request, acct *identity.Account, inv *identity.Invitation) error {
	ctx = actor.With(ctx, actor.Actor{Kind: actor.Staff, ID: inv.InvitedBy.String()})
	p, err := tx.Tenants.Practice(ctx, inv.PracticeID)
	if err != nil {
		return err
	}
	role, err := invitedRole(ctx, tx.Store(), p, inv.Role)
	if err != nil {
		return err
	}
	var g *rbac.Grant
	who := inv.InvitedBy.String()
	if inv.InvitedBy == uuid.Nil {
		// Only code embedding the engine creates invitations without an
		// inviter (the first administrator of a practice): it is trusted.
		who = systemInviter.String()
		g = &rbac.Grant{ID: tx.IDs.New(), AccountID: acct.ID, RoleID: role, Scope: rbac.PracticeScope(p.GroupID, p.ID),
			CreatedAt: tx.Clock.Now().UTC().Truncate(time.Microsecond), CreatedBy: who}
		if err := tx.Store().CreateGrant(ctx, g); err != nil {
			return err
		}
	} else {
		pr, err := tx.RBAC.Principal(ctx, inv.InvitedBy)
		if err != nil {
			return err
		}
		if g, err = tx.RBAC.Grant(ctx, pr, rbac.NewGrant{AccountID: acct.ID, RoleID: role, Scope: rbac.PracticeScope(p.GroupID, p.ID)}); err != nil {
			return err
		}
	}
	e := audit.Entry{PracticeID: p.ID, Actor: who, Action: "grant.create", ResourceType: "grant",
		ResourceID: g.ID.String(), Outcome: audit.Allowed, IP: clientIP(r), UserAgent: clipString(r.UserAgent(), 500),
		RequestID: requestIDFrom(r.Context())}
	return record(ctx, tx, e)
}

// mayGrantInvited checks, before an invitation is accepted, that its role
// resolves in its practice and that its inviter may still grant it there,
// so that no account is created that the grant would then fail for.
func (s *Server) mayGrantInvited(ctx context.Context, inv *identity.Invitation) error {
	const op = "refserver.acceptInvitation"
	p, err := s.engine.Tenants.Practice(ctx, inv.PracticeID)
	if err != nil {
		return err
	}
	role, err := invitedRole(ctx, s.engine.Store(), p, inv.Role)
	if err != nil {
		return &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "token", Msg: "the invitation names a role the practice no longer has"}
	}
	if inv.InvitedBy == uuid.Nil {
		return nil
	}
	perms, err := s.rolePermissions(ctx, p, role)
	if err != nil {
		return err
	}
	pr, err := s.engine.RBAC.Principal(ctx, inv.InvitedBy)
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
