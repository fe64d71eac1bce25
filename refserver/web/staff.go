package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The staff page of a practice: its staff accounts with their grants, the
// invitation of a new staff member, grants and their revocation, and the
// practice's custom roles; and the page where an invited person accepts,
// sets a password and is signed in. The changes go through the engine's
// staff operations (Engine.Invite, GrantRole, RevokeGrant, CreateRole,
// DeleteRole) on behalf of the signed-in account, as the API's do.

// staffRoutes are the staff pages, with the notification pages
// (notifications.go) and the activity log's (activity.go).
func (s *pages) staffRoutes() []refserver.Route {
	return append(append(s.staffOnlyRoutes(), s.notifyRoutes()...), s.activityRoutes()...)
}

// staffOnlyRoutes are the staff page's routes and the acceptance of an
// invitation.
func (s *pages) staffOnlyRoutes() []refserver.Route {
	p := "/p/{practice}/staff"
	return []refserver.Route{
		route("GET", p, s.showStaff, "The practice's staff: accounts, roles and grants, invitations, custom roles", refserver.Needs(rbac.StaffManage)),
		route("POST", p+"/invite", s.inviteStaff, "Invite a staff member by email, in a role", refserver.Needs(rbac.StaffManage)),
		route("POST", p+"/grants", s.grantRole, "Grant a role to a staff account", refserver.Needs(rbac.StaffManage)),
		route("POST", p+"/grants/revoke", s.revokeGrant, "Revoke a grant", refserver.Needs(rbac.StaffManage)),
		route("POST", p+"/roles", s.createRole, "Create a custom role", refserver.Needs(rbac.RolesManage)),
		route("POST", p+"/roles/delete", s.deleteRole, "Delete a custom role no grant refers to", refserver.Needs(rbac.RolesManage)),
		route("GET", "/invitations/accept", s.showAcceptance, "The page of an invitation's link: set a password", refserver.Public()),
		route("POST", "/invitations/accept", s.acceptInvitation, "Accept an invitation: create the account and sign in", refserver.Public()),
	}
}

// staffPage is the staff page.
type staffPage struct {
	*view
	Base     string
	Accounts []staffAccount
	// Linked counts the patient accounts linked to their records (self
	// grants), which the page does not list.
	Linked      int
	Custom      []roleRow
	Permissions []permChoice
	// InviteRoles, GrantRoles, AccountChoices, Locations and Scopes are
	// the forms' options.
	InviteRoles, GrantRoles, AccountChoices, Scopes, Locations []option
	CanRoles                                                   bool
}

// staffAccount is one staff account and its grants in the practice.
type staffAccount struct {
	ID, Email string
	Grants    []grantRow
}

// grantRow is one grant, in words.
type grantRow struct {
	ID, Role, Scope string
}

// roleRow is a custom role and its permissions, in words.
type roleRow struct {
	ID, Name    string
	Permissions []string
}

// permChoice is one permission's checkbox.
type permChoice struct {
	Value, Label, ID string
	Checked          bool
}

// staffDone are the notices of the staff page after a change, by the
// done query value.
var staffDone = map[string]string{
	"invited": "staff.invited", "granted": "staff.granted", "revoked": "staff.revoked",
	"role_created": "staff.role_created", "role_deleted": "staff.role_deleted",
}

func (s *pages) showStaff(w http.ResponseWriter, r *http.Request) error {
	p, err := s.staffPage(r)
	if err != nil {
		return err
	}
	if k, ok := staffDone[r.URL.Query().Get("done")]; ok {
		p.Notice = p.T(k)
	}
	return s.render(w, http.StatusOK, "staff.html", p)
}

// staffCaller is the signed-in account of r (authorized already), its
// principal, and the practice of the path.
func (s *pages) staffCaller(r *http.Request) (*refserver.Credentials, rbac.Principal, *tenant.Practice, error) {
	c, err := s.srv.SignedIn(r)
	if err != nil {
		return nil, rbac.Principal{}, nil, err
	}
	pr, err := s.srv.Principal(r, c)
	if err != nil {
		return nil, rbac.Principal{}, nil, err
	}
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return nil, rbac.Principal{}, nil, err
	}
	p, err := s.engine.Tenants.Practice(r.Context(), pid)
	return c, pr, p, err
}

// staffPage reads what the staff page shows.
func (s *pages) staffPage(r *http.Request) (*staffPage, error) {
	ctx := r.Context()
	v := s.newView(r, "staff.title")
	_, pr, pract, err := s.staffCaller(r)
	if err != nil {
		return nil, err
	}
	t := rbac.Target{GroupID: pract.GroupID, PracticeID: pract.ID}
	p := &staffPage{view: v, Base: practicePath(pract.ID), CanRoles: pr.Can(rbac.RolesManage, t)}
	grants, err := s.engine.RBAC.ListPracticeGrants(ctx, pr, pract.ID)
	if err != nil {
		return nil, err
	}
	custom, err := s.engine.RBAC.ListRoles(ctx, pr, rbac.PracticeOwner(pract.GroupID, pract.ID))
	if err != nil {
		return nil, err
	}
	locs, err := s.engine.Tenants.Locations(ctx, pract.ID)
	if err != nil {
		return nil, err
	}
	roleName := map[rbac.RoleID]string{}
	for _, b := range rbac.BuiltInRoles() {
		roleName[b.ID] = v.T(roleKey(b.Name))
		if slices.Contains(b.Scopes, rbac.ScopePractice) || slices.Contains(b.Scopes, rbac.ScopeLocation) {
			p.GrantRoles = append(p.GrantRoles, option{Value: b.ID.String(), Label: roleName[b.ID]})
		}
	}
	p.InviteRoles = []option{{Value: rbac.FrontDesk, Label: v.T(roleKey(rbac.FrontDesk))},
		{Value: rbac.Clinician, Label: v.T(roleKey(rbac.Clinician))},
		{Value: rbac.PracticeAdmin, Label: v.T(roleKey(rbac.PracticeAdmin))}}
	for _, cr := range custom {
		roleName[cr.ID] = cr.Name
		p.InviteRoles = append(p.InviteRoles, option{Value: cr.Name, Label: cr.Name})
		p.GrantRoles = append(p.GrantRoles, option{Value: cr.ID.String(), Label: cr.Name})
		row := roleRow{ID: cr.ID.String(), Name: cr.Name}
		for _, perm := range cr.Permissions {
			row.Permissions = append(row.Permissions, v.T(permKey(perm)))
		}
		p.Custom = append(p.Custom, row)
	}
	locName := map[tenant.LocationID]string{}
	for _, l := range locs {
		locName[l.ID] = l.Name
		p.Locations = append(p.Locations, option{Value: l.ID.String(), Label: l.Name})
	}
	byAccount := map[identity.AccountID]*staffAccount{}
	var order []identity.AccountID
	for _, g := range grants {
		if g.Scope.Kind == rbac.ScopeSelf {
			p.Linked++
			continue
		}
		a := byAccount[g.AccountID]
		if a == nil {
			a = &staffAccount{ID: g.AccountID.String(), Email: g.AccountID.String()}
			if acct, err := s.engine.Identity.Account(ctx, g.AccountID); err == nil {
				a.Email = acct.Email
			}
			byAccount[g.AccountID] = a
			order = append(order, g.AccountID)
		}
		scope := v.T("staff.scope.practice")
		switch g.Scope.Kind {
		case rbac.ScopeLocation:
			scope = v.T("staff.scope.location_named", locName[g.Scope.LocationID])
		case rbac.ScopeGroup:
			scope = v.T("staff.scope.group")
		}
		name := roleName[g.RoleID]
		if name == "" {
			name = g.RoleID.String()
		}
		a.Grants = append(a.Grants, grantRow{ID: g.ID.String(), Role: name, Scope: scope})
	}
	for _, id := range order {
		p.Accounts = append(p.Accounts, *byAccount[id])
	}
	slices.SortStableFunc(p.Accounts, func(x, y staffAccount) int { return strings.Compare(x.Email, y.Email) })
	for _, a := range p.Accounts {
		p.AccountChoices = append(p.AccountChoices, option{Value: a.ID, Label: a.Email})
	}
	p.Scopes = []option{{Value: string(rbac.ScopePractice), Label: v.T("staff.scope.practice")}, {Value: string(rbac.ScopeLocation), Label: v.T("staff.scope.location")}}
	chosen := map[string]bool{}
	if r.Method == http.MethodPost {
		for _, x := range r.PostForm["permissions"] {
			chosen[x] = true
		}
	}
	for _, perm := range rbac.All() {
		p.Permissions = append(p.Permissions, permChoice{Value: string(perm), Label: v.T(permKey(perm)),
			ID: "perm-" + strings.ReplaceAll(string(perm), ".", "-"), Checked: chosen[string(perm)]})
	}
	return p, nil
}

// staffInvalid shows the staff page again with err next to its field.
func (s *pages) staffInvalid(w http.ResponseWriter, r *http.Request, err error) error {
	p, perr := s.staffPage(r)
	if perr != nil {
		return perr
	}
	return s.invalid(w, r, p.view, "staff.html", p, fieldRefusal(err))
}

// fieldRefusal is err, a refusal that names a form field (KindForbidden,
// or KindNotFound of a named record), as bad input of that field, so that
// the form shows it next to the field rather than as an error page.
func fieldRefusal(err error) error {
	var e *errs.Error
	if k := errs.KindOf(err); (k == errs.KindForbidden || k == errs.KindNotFound) && errs.FieldOf(err) != "" && errors.As(err, &e) {
		return &errs.Error{Kind: errs.KindInvalid, Op: e.Op, Field: e.Field, Msg: e.Msg, Err: err}
	}
	return err
}

// staffDoneAt is the staff page with the notice done.
func staffDoneAt(r *http.Request, done string) string {
	return "/p/" + r.PathValue("practice") + "/staff?done=" + done
}

func (s *pages) inviteStaff(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	tok, inv, err := s.engine.Invite(ctx, pid, strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("role"))
	if err != nil {
		return s.staffInvalid(w, r, err)
	}
	if err := s.srv.DeliverToken(ctx, refserver.TokenMessage{Kind: refserver.TokenInvitation, PracticeID: pid, To: inv.Email, Token: tok}); err != nil {
		return errs.Wrap(errs.KindInternal, "web.inviteStaff", "cannot send the invitation", err)
	}
	return see(w, r, staffDoneAt(r, "invited"))
}

func (s *pages) grantRole(w http.ResponseWriter, r *http.Request) error {
	const op = "web.grantRole"
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	in := carebook.GrantRequest{Scope: rbac.ScopeKind(r.PostFormValue("scope"))}
	if in.AccountID, err = refserver.ParseID("account_id", r.PostFormValue("account_id")); err != nil {
		return s.staffInvalid(w, r, err)
	}
	if in.RoleID, err = refserver.ParseID("role_id", r.PostFormValue("role_id")); err != nil {
		return s.staffInvalid(w, r, err)
	}
	if in.Scope == "" {
		return s.staffInvalid(w, r, errs.Invalid(op, "scope", "choose where the role applies"))
	}
	if in.Scope == rbac.ScopeLocation {
		if in.LocationID, err = refserver.ParseID("location_id", r.PostFormValue("location_id")); err != nil {
			return s.staffInvalid(w, r, err)
		}
	}
	if _, err := s.engine.GrantRole(r.Context(), pid, in); err != nil {
		return s.staffInvalid(w, r, err)
	}
	return see(w, r, staffDoneAt(r, "granted"))
}

func (s *pages) revokeGrant(w http.ResponseWriter, r *http.Request) error {
	return s.staffChange(w, r, "grant_id", "revoked", func(ctx context.Context, pid tenant.PracticeID, id uuid.UUID) error {
		return s.engine.RevokeGrant(ctx, pid, id)
	})
}

func (s *pages) deleteRole(w http.ResponseWriter, r *http.Request) error {
	return s.staffChange(w, r, "role_id", "role_deleted", func(ctx context.Context, pid tenant.PracticeID, id uuid.UUID) error {
		return s.engine.DeleteRole(ctx, pid, id)
	})
}

// staffChange runs act on the record the form's field names, and comes
// back to the staff page with the notice done.
func (s *pages) staffChange(w http.ResponseWriter, r *http.Request, field, done string, act func(context.Context, tenant.PracticeID, uuid.UUID) error) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	id, err := refserver.ParseID(field, r.PostFormValue(field))
	if err == nil {
		err = act(r.Context(), pid, id)
	}
	if err != nil {
		return s.staffInvalid(w, r, errs.WithField(err, field))
	}
	return see(w, r, staffDoneAt(r, done))
}

func (s *pages) createRole(w http.ResponseWriter, r *http.Request) error {
	const op = "web.createRole"
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	var perms []rbac.Permission
	for _, name := range r.PostForm["permissions"] {
		perm, err := rbac.ParsePermission(name)
		if err != nil {
			return s.staffInvalid(w, r, errs.Invalid(op, "permissions", "unknown permission "+name))
		}
		perms = append(perms, perm)
	}
	if _, err := s.engine.CreateRole(r.Context(), pid, strings.TrimSpace(r.PostFormValue("name")), perms); err != nil {
		return s.staffInvalid(w, r, err)
	}
	return see(w, r, staffDoneAt(r, "role_created"))
}

// acceptancePage is the page of an invitation's link.
type acceptancePage struct {
	*view
	Token string
}

func (s *pages) showAcceptance(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "invite.title")
	v.CSRF = preSessionCSRF(w, r)
	return s.render(w, http.StatusOK, "invitation.html", &acceptancePage{view: v, Token: r.URL.Query().Get("token")})
}

// acceptInvitation creates the invited account with the password chosen
// (Engine.AcceptInvitation) and signs it in, as the sign-in page would.
func (s *pages) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	const op = "web.acceptInvitation"
	v := s.newView(r, "invite.title")
	p := &acceptancePage{view: v, Token: r.PostFormValue("token")}
	fail := func(err error) error {
		if f := errs.FieldOf(err); f == "token" || f == "email" || errs.KindOf(err) == errs.KindNotFound {
			// Not the visitor's typing: the link itself.
			err = errs.E(errs.KindInvalid, op, v.T("invite.link_refused"))
		}
		v.CSRF = preSessionCSRF(w, r)
		return s.invalid(w, r, v, "invitation.html", p, err)
	}
	if err := checkFormCSRF(r); err != nil {
		return fail(err)
	}
	password := r.PostFormValue("password")
	switch {
	case p.Token == "":
		return fail(errs.Invalid(op, "token", "is required"))
	case password == "":
		return fail(errs.Invalid(op, "password", v.T("invite.password_required")))
	case password != r.PostFormValue("password_again"):
		return fail(errs.Invalid(op, "password_again", v.T("invite.passwords_differ")))
	}
	a, err := s.engine.AcceptInvitation(r.Context(), p.Token, password)
	if err != nil {
		return fail(err)
	}
	tok, sess, err := s.engine.Login(r.Context(), identity.LoginRequest{Identifier: a.Email, Password: password,
		Device: "browser", IP: refserver.ClientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		// The account exists: the visitor signs in as usual.
		return see(w, r, refserver.SignInPath)
	}
	refserver.SetSessionCookies(w, r, tok, sess.ExpiresAt)
	return see(w, r, s.home(r, &refserver.Credentials{Session: sess, Token: tok}))
}

// permKey and roleKey are the catalog keys of a permission's and a
// built-in role's words.
func permKey(p rbac.Permission) string { return "staff.perm." + string(p) }
func roleKey(name string) string       { return "staff.role." + name }
