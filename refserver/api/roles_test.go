package api

import (
	"context"
	"testing"

	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// inviteAndAccept invites email with role as the signed-in s, accepts the
// invitation and signs the new account in.
func (a *authEnv) inviteAndAccept(s signedIn, email, role string) (identity.AccountID, signedIn) {
	a.t.Helper()
	a.ok(a.do("POST", a.base+"/invitations", map[string]any{"email": email, "role": role}, bearer(s.token)), 201)
	acct := a.ok(a.do("POST", "/api/v1/auth/invitations/accept", map[string]any{"token": a.token(refserver.TokenInvitation, email), "password": password}, as("")), 201)
	return uuid.MustParse(str(acct, "id")), a.login(email, password)
}

func TestInvitedFrontDeskReadsTheCalendarAtOnce(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	admin := a.login("admin@example.com", password)
	deskID, desk := a.inviteAndAccept(admin, "desk@example.com", "front_desk")
	a.ok(a.do("GET", a.base+"/calendar?from=2030-03-05T00:00:00Z&to=2030-03-06T00:00:00Z", nil, bearer(desk.token)), 200)
	// front_desk, not more: no staff management.
	a.problem(a.do("GET", a.base+"/grants", nil, bearer(desk.token)), 403, "")
	got := a.entries("grant.create")
	if len(got) != 2 || got[1].Actor != a.admin.String() {
		t.Fatalf("grant.create entries = %+v", got)
	}
	grants := a.ok(a.do("GET", a.base+"/grants", nil, bearer(admin.token)), 200)["items"].([]any)
	found := false
	for _, g := range grants {
		g := g.(map[string]any)
		found = found || (str(g, "account_id") == deskID.String() && str(g, "role_id") == rbac.FrontDeskID.String())
	}
	if !found {
		t.Errorf("grants = %v, want front_desk of %s", grants, deskID)
	}
	// An invitation must name a role the practice has.
	a.problem(a.do("POST", a.base+"/invitations", map[string]any{"email": "x@example.com", "role": "janitor"}, bearer(admin.token)), 400, "role")
	a.problem(a.do("POST", a.base+"/invitations", map[string]any{"email": "x@example.com", "role": "group_admin"}, bearer(admin.token)), 400, "role")
}

func TestRolesAndGrants(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	ctx := context.Background()
	admin := a.login("admin@example.com", password)
	deskID, desk := a.inviteAndAccept(admin, "desk@example.com", "front_desk")

	// A practice admin creates a role and grants it.
	role := a.ok(a.do("POST", a.base+"/roles", map[string]any{"name": "Role keeper", "permissions": []string{"roles.manage", "calendar.read"}}, bearer(admin.token)), 201)
	roleID := str(role, "id")
	roles := a.ok(a.do("GET", a.base+"/roles", nil, bearer(admin.token)), 200)["items"].([]any)
	if len(roles) != 6 || str(roles[5].(map[string]any), "name") != "Role keeper" {
		t.Fatalf("roles = %v", roles)
	}
	g := a.ok(a.do("POST", a.base+"/grants", map[string]any{"account_id": deskID.String(), "role_id": roleID, "scope": "practice"}, bearer(admin.token)), 201)
	if n := len(a.entries("role.create")); n != 1 {
		t.Errorf("role.create entries = %d", n)
	}
	if n := len(a.entries("grant.create")); n != 3 {
		t.Errorf("grant.create entries = %d, want 3 (two invitations, one grant)", n)
	}

	// With roles.manage, the front desk may create roles of what it holds,
	// and nothing more.
	a.ok(a.do("POST", a.base+"/roles", map[string]any{"name": "Viewer", "permissions": []string{"calendar.read"}}, bearer(desk.token)), 201)
	a.problem(a.do("POST", a.base+"/roles", map[string]any{"name": "Boss", "permissions": []string{"staff.manage"}}, bearer(desk.token)), 403, "")
	// Without staff.manage it grants nothing.
	a.problem(a.do("POST", a.base+"/grants", map[string]any{"account_id": deskID.String(), "role": "practice_admin", "scope": "practice"}, bearer(desk.token)), 403, "")

	// A plain front desk may not create roles.
	_, plain := a.inviteAndAccept(admin, "desk2@example.com", "front_desk")
	a.problem(a.do("POST", a.base+"/roles", map[string]any{"name": "Viewer 2", "permissions": []string{"calendar.read"}}, bearer(plain.token)), 403, "")
	a.problem(a.do("DELETE", a.base+"/grants/"+str(g, "id"), nil, bearer(plain.token)), 403, "")

	// Another practice's role reads as not found, to delete or to grant.
	pb, err := a.engine.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: a.group, Name: "Harbor Cardiology"})
	if err != nil {
		t.Fatal(err)
	}
	other := &rbac.Role{ID: uuid.New(), Owner: rbac.PracticeOwner(a.group, pb.ID), Name: "B's", Permissions: []rbac.Permission{rbac.CalendarRead},
		CreatedAt: testNow, CreatedBy: "system:test", UpdatedAt: testNow}
	if err := a.engine.Store().RBAC.CreateRole(ctx, other); err != nil {
		t.Fatal(err)
	}
	a.problem(a.do("DELETE", a.base+"/roles/"+other.ID.String(), nil, bearer(admin.token)), 404, "")
	a.problem(a.do("POST", a.base+"/grants", map[string]any{"account_id": deskID.String(), "role_id": other.ID.String(), "scope": "practice"}, bearer(admin.token)), 404, "")

	// A role still granted cannot go; revoked, it can.
	a.problem(a.do("DELETE", a.base+"/roles/"+roleID, nil, bearer(admin.token)), 409, "")
	a.ok(a.do("DELETE", a.base+"/grants/"+str(g, "id"), nil, bearer(admin.token)), 204)
	a.ok(a.do("DELETE", a.base+"/roles/"+roleID, nil, bearer(admin.token)), 204)
	if len(a.entries("grant.delete")) != 1 || len(a.entries("role.delete")) != 1 {
		t.Errorf("grant.delete %d, role.delete %d entries", len(a.entries("grant.delete")), len(a.entries("role.delete")))
	}
}

func TestPatientSelfGrant(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	admin := a.login("admin@example.com", password)
	acct := a.ok(a.do("POST", a.base+"/registrations", map[string]any{"email": "grace@example.com", "password": password}, as("")), 201)
	pt := a.ok(a.do("POST", a.base+"/patients", map[string]any{"given_name": "Grace", "family_name": "Hopper",
		"birth_date": "1980-12-09", "phone": "+12025550143"}, bearer(admin.token)), 201)
	self := map[string]any{"account_id": str(acct, "id"), "role": "patient", "scope": "self", "patient_id": uuid.NewString()}
	a.problem(a.do("POST", a.base+"/grants", self, bearer(admin.token)), 404, "patient_id")
	self["patient_id"] = str(pt, "id")
	a.ok(a.do("POST", a.base+"/grants", self, bearer(admin.token)), 201)
	// A patient account gets no staff role.
	a.problem(a.do("POST", a.base+"/grants", map[string]any{"account_id": str(acct, "id"), "role": "front_desk", "scope": "practice"}, bearer(admin.token)), 400, "account_id")
}
