package rbactest

import (
	"context"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
)

var escalationCases = []testCase{
	{"ServiceCustomRole", testCustomRole},
	{"ServiceRoleEscalation", testRoleEscalation},
	{"ServiceGrantEscalation", testGrantEscalation},
	{"ServiceGrantAcrossPractices", testGrantAcrossPractices},
	{"ServiceGrantInput", testGrantInput},
	{"ServiceRevoke", testRevoke},
}

func practiceScope(w world) rbac.Scope { return rbac.Scope{Kind: rbac.ScopePractice, PracticeID: w.p1} }

func testCustomRole(e *env) {
	w := e.world()
	_, admin := e.bootstrap(rbac.GroupAdminID, rbac.GroupScope(w.g))
	_, pa := e.grant(admin, rbac.PracticeAdminID, practiceScope(w))

	// The group's ID may be left out of a practice owner.
	r, err := e.svc.CreateRole(e.ctx, pa, rbac.NewRole{
		Owner:       rbac.Owner{PracticeID: &w.p1},
		Name:        "  nurse ",
		Permissions: []rbac.Permission{rbac.PatientClinicalRead, rbac.AppointmentRead, rbac.AppointmentRead},
	})
	e.ok(err, "CreateRole")
	want := &rbac.Role{
		ID: r.ID, Owner: rbac.PracticeOwner(w.g, w.p1), Name: "nurse",
		Permissions: []rbac.Permission{rbac.AppointmentRead, rbac.PatientClinicalRead},
		CreatedAt:   e.clk.Now(), CreatedBy: who.String(), UpdatedAt: e.clk.Now(),
	}
	e.sameRole("CreateRole", r, want)
	got, err := e.svc.GetRole(e.ctx, pa, rbac.PracticeOwner(w.g, w.p1), r.ID)
	e.ok(err, "GetRole")
	e.sameRole("GetRole", got, want)

	// Granted, the role gives its permissions and no more.
	_, nurse := e.grant(pa, r.ID, rbac.Scope{Kind: rbac.ScopeLocation, PracticeID: w.p1, LocationID: w.l1})
	at := w.targets()[tOwnLocation]
	if !nurse.Can(rbac.PatientClinicalRead, at) || nurse.Can(rbac.AppointmentBook, at) {
		e.t.Errorf("nurse: clinical read %v (want true), book %v (want false)",
			nurse.Can(rbac.PatientClinicalRead, at), nurse.Can(rbac.AppointmentBook, at))
	}
	if nurse.Can(rbac.PatientClinicalRead, w.targets()[tOtherLocation]) {
		e.t.Errorf("nurse at l1 can read charts at l2")
	}

	// Updating a role changes what its holders may do.
	_, err = e.svc.UpdateRole(e.ctx, pa, rbac.PracticeOwner(w.g, w.p1), r.ID, rbac.RoleUpdate{
		Name: "nurse", Permissions: []rbac.Permission{rbac.AppointmentRead, rbac.AppointmentBook},
	})
	e.ok(err, "UpdateRole")
	nurse = e.principal(nurse.Account())
	if nurse.Can(rbac.PatientClinicalRead, at) || !nurse.Can(rbac.AppointmentBook, at) {
		e.t.Errorf("nurse after update: clinical read %v (want false), book %v (want true)",
			nurse.Can(rbac.PatientClinicalRead, at), nurse.Can(rbac.AppointmentBook, at))
	}

	// Bad input names its field; nothing is written.
	for _, c := range []struct {
		what  string
		in    rbac.NewRole
		field string
	}{
		{"empty name", rbac.NewRole{Owner: rbac.PracticeOwner(w.g, w.p1), Name: " ", Permissions: []rbac.Permission{rbac.AuditRead}}, "name"},
		{"built-in name", rbac.NewRole{Owner: rbac.PracticeOwner(w.g, w.p1), Name: "front_desk", Permissions: []rbac.Permission{rbac.AuditRead}}, "name"},
		{"no permissions", rbac.NewRole{Owner: rbac.PracticeOwner(w.g, w.p1), Name: "empty"}, "permissions"},
		{"unknown permission", rbac.NewRole{Owner: rbac.PracticeOwner(w.g, w.p1), Name: "bad", Permissions: []rbac.Permission{"ehr.export"}}, "permissions"},
		{"no owner", rbac.NewRole{Name: "orphan", Permissions: []rbac.Permission{rbac.AuditRead}}, "owner.group_id"},
	} {
		_, err := e.svc.CreateRole(e.ctx, pa, c.in)
		e.wantField("CreateRole("+c.what+")", err, c.field)
	}
	_, err = e.svc.CreateRole(e.ctx, pa, rbac.NewRole{Owner: rbac.PracticeOwner(w.g, w.p1), Name: "nurse", Permissions: []rbac.Permission{rbac.AuditRead}})
	e.wantKind("CreateRole(taken name)", err, errs.KindConflict)
	_, err = e.svc.CreateRole(actorless(e), pa, rbac.NewRole{Owner: rbac.PracticeOwner(w.g, w.p1), Name: "x", Permissions: []rbac.Permission{rbac.AuditRead}})
	e.wantKind("CreateRole(no actor)", err, errs.KindUnauthenticated)
	list, err := e.svc.ListRoles(e.ctx, pa, rbac.PracticeOwner(w.g, w.p1))
	e.ok(err, "ListRoles")
	e.sameIDs("ListRoles", roleIDs(list), []rbac.RoleID{r.ID})

	// Built-in roles cannot be changed or deleted.
	_, err = e.svc.UpdateRole(e.ctx, admin, rbac.GroupOwner(w.g), rbac.FrontDeskID, rbac.RoleUpdate{Name: "desk", Permissions: []rbac.Permission{rbac.AuditRead}})
	e.wantKind("UpdateRole(built-in)", err, errs.KindForbidden)
	e.wantKind("DeleteRole(built-in)", e.svc.DeleteRole(e.ctx, admin, rbac.GroupOwner(w.g), rbac.PatientRoleID), errs.KindForbidden)

	// A granted role cannot be deleted.
	e.wantKind("DeleteRole(granted)", e.svc.DeleteRole(e.ctx, pa, rbac.PracticeOwner(w.g, w.p1), r.ID), errs.KindConflict)
}

// actorless returns the suite's context with no valid actor in it.
func actorless(e *env) context.Context { return actor.With(e.ctx, actor.Actor{}) }

func testRoleEscalation(e *env) {
	w := e.world()
	_, admin := e.bootstrap(rbac.GroupAdminID, rbac.GroupScope(w.g))
	_, pa := e.grant(admin, rbac.PracticeAdminID, practiceScope(w))
	_, desk := e.grant(pa, rbac.FrontDeskID, practiceScope(w))
	p1 := rbac.PracticeOwner(w.g, w.p1)

	// A lead holds roles.manage and staff.manage but no clinical access.
	lead, err := e.svc.CreateRole(e.ctx, pa, rbac.NewRole{Owner: p1, Name: "desk lead", Permissions: []rbac.Permission{
		rbac.RolesManage, rbac.StaffManage, rbac.AppointmentRead, rbac.CalendarRead,
	}})
	e.ok(err, "CreateRole(desk lead)")
	_, leadP := e.grant(pa, lead.ID, practiceScope(w))

	_, err = e.svc.CreateRole(e.ctx, leadP, rbac.NewRole{Owner: p1, Name: "viewer", Permissions: []rbac.Permission{rbac.AppointmentRead, rbac.CalendarRead}})
	e.ok(err, "CreateRole(within the lead's permissions)")
	_, err = e.svc.CreateRole(e.ctx, leadP, rbac.NewRole{Owner: p1, Name: "snoop", Permissions: []rbac.Permission{rbac.AppointmentRead, rbac.PatientClinicalRead}})
	e.wantKind("CreateRole(beyond the lead's permissions)", err, errs.KindForbidden)
	_, err = e.svc.CreateRole(e.ctx, desk, rbac.NewRole{Owner: p1, Name: "desk2", Permissions: []rbac.Permission{rbac.AppointmentRead}})
	e.wantKind("CreateRole(by front desk, no roles.manage)", err, errs.KindForbidden)

	// roles.manage at one location does not reach the practice.
	locLead, err := e.svc.CreateRole(e.ctx, pa, rbac.NewRole{Owner: p1, Name: "location lead", Permissions: []rbac.Permission{rbac.RolesManage, rbac.AppointmentRead}})
	e.ok(err, "CreateRole(location lead)")
	_, locLeadP := e.grant(pa, locLead.ID, rbac.Scope{Kind: rbac.ScopeLocation, PracticeID: w.p1, LocationID: w.l1})
	_, err = e.svc.CreateRole(e.ctx, locLeadP, rbac.NewRole{Owner: p1, Name: "reader", Permissions: []rbac.Permission{rbac.AppointmentRead}})
	e.wantKind("CreateRole(by a location-scoped roles.manage)", err, errs.KindForbidden)

	// A practice admin cannot make a role for the whole group, nor for
	// another group's practice (which it cannot see at all).
	_, err = e.svc.CreateRole(e.ctx, pa, rbac.NewRole{Owner: rbac.GroupOwner(w.g), Name: "group reader", Permissions: []rbac.Permission{rbac.AppointmentRead}})
	e.wantKind("CreateRole(group owner by practice admin)", err, errs.KindForbidden)
	_, err = e.svc.CreateRole(e.ctx, pa, rbac.NewRole{Owner: rbac.PracticeOwner(w.h, w.q), Name: "reader", Permissions: []rbac.Permission{rbac.AppointmentRead}})
	e.wantKind("CreateRole(another group's practice)", err, errs.KindNotFound)
	_, err = e.svc.CreateRole(e.ctx, pa, rbac.NewRole{Owner: rbac.PracticeOwner(w.g, w.p2), Name: "reader", Permissions: []rbac.Permission{rbac.AppointmentRead}})
	e.wantKind("CreateRole(sibling practice)", err, errs.KindNotFound)
	_, err = e.svc.CreateRole(e.ctx, admin, rbac.NewRole{Owner: rbac.GroupOwner(w.g), Name: "group reader", Permissions: []rbac.Permission{rbac.AppointmentRead}})
	e.ok(err, "CreateRole(group owner by group admin)")

	// The lead may not widen a role beyond what it holds, nor edit one that
	// holds more than it does.
	viewer := findRole(e, pa, p1, "viewer")
	_, err = e.svc.UpdateRole(e.ctx, leadP, p1, viewer.ID, rbac.RoleUpdate{Name: "viewer", Permissions: []rbac.Permission{rbac.AppointmentRead, rbac.PatientClinicalWrite}})
	e.wantKind("UpdateRole(widening beyond the lead)", err, errs.KindForbidden)
	_, err = e.svc.UpdateRole(e.ctx, leadP, p1, locLead.ID, rbac.RoleUpdate{Name: "location lead", Permissions: []rbac.Permission{rbac.AppointmentRead}})
	e.ok(err, "UpdateRole(narrowing a role within the lead's permissions)")
	nurse, err := e.svc.CreateRole(e.ctx, pa, rbac.NewRole{Owner: p1, Name: "nurse", Permissions: []rbac.Permission{rbac.PatientClinicalRead}})
	e.ok(err, "CreateRole(nurse)")
	_, err = e.svc.UpdateRole(e.ctx, leadP, p1, nurse.ID, rbac.RoleUpdate{Name: "nurse", Permissions: []rbac.Permission{rbac.AppointmentRead}})
	e.wantKind("UpdateRole(a role holding more than the lead)", err, errs.KindForbidden)
	e.wantKind("DeleteRole(a role holding more than the lead)", e.svc.DeleteRole(e.ctx, leadP, p1, nurse.ID), errs.KindForbidden)
}

func findRole(e *env, p rbac.Principal, owner rbac.Owner, name string) *rbac.Role {
	e.t.Helper()
	list, err := e.svc.ListRoles(e.ctx, p, owner)
	e.ok(err, "ListRoles")
	for _, r := range list {
		if r.Name == name {
			return r
		}
	}
	e.t.Fatalf("no role %q", name)
	return nil
}

func testGrantEscalation(e *env) {
	w := e.world()
	_, admin := e.bootstrap(rbac.GroupAdminID, rbac.GroupScope(w.g))
	_, pa := e.grant(admin, rbac.PracticeAdminID, practiceScope(w))
	p1 := rbac.PracticeOwner(w.g, w.p1)
	lead, err := e.svc.CreateRole(e.ctx, pa, rbac.NewRole{Owner: p1, Name: "desk lead", Permissions: []rbac.Permission{
		rbac.StaffManage, rbac.AppointmentRead, rbac.CalendarRead,
	}})
	e.ok(err, "CreateRole(desk lead)")
	viewer, err := e.svc.CreateRole(e.ctx, pa, rbac.NewRole{Owner: p1, Name: "viewer", Permissions: []rbac.Permission{rbac.CalendarRead}})
	e.ok(err, "CreateRole(viewer)")
	_, leadP := e.grant(pa, lead.ID, practiceScope(w))

	for _, c := range []struct {
		what string
		role rbac.RoleID
		sc   rbac.Scope
		want errs.Kind
	}{
		{"front_desk (more than the lead holds)", rbac.FrontDeskID, practiceScope(w), errs.KindForbidden},
		{"practice_admin", rbac.PracticeAdminID, practiceScope(w), errs.KindForbidden},
		{"the lead's own role", lead.ID, practiceScope(w), 0},
		{"viewer at a location", viewer.ID, rbac.Scope{Kind: rbac.ScopeLocation, PracticeID: w.p1, LocationID: w.l2}, 0},
		{"group_admin at the group", rbac.GroupAdminID, rbac.GroupScope(w.g), errs.KindForbidden},
	} {
		_, err := e.svc.Grant(e.ctx, leadP, rbac.NewGrant{AccountID: newID(), RoleID: c.role, Scope: c.sc})
		if c.want == 0 {
			e.ok(err, "Grant("+c.what+")")
		} else {
			e.wantKind("Grant("+c.what+")", err, c.want)
		}
	}

	// staff.manage at a location cannot grant at the practice.
	locLead, err := e.svc.CreateRole(e.ctx, pa, rbac.NewRole{Owner: p1, Name: "location lead", Permissions: []rbac.Permission{rbac.StaffManage, rbac.CalendarRead}})
	e.ok(err, "CreateRole(location lead)")
	_, locLeadP := e.grant(pa, locLead.ID, rbac.Scope{Kind: rbac.ScopeLocation, PracticeID: w.p1, LocationID: w.l1})
	_, err = e.svc.Grant(e.ctx, locLeadP, rbac.NewGrant{AccountID: newID(), RoleID: viewer.ID, Scope: practiceScope(w)})
	e.wantKind("Grant(practice scope by a location lead)", err, errs.KindForbidden)
	_, err = e.svc.Grant(e.ctx, locLeadP, rbac.NewGrant{AccountID: newID(), RoleID: viewer.ID,
		Scope: rbac.Scope{Kind: rbac.ScopeLocation, PracticeID: w.p1, LocationID: w.l1}})
	e.ok(err, "Grant(own location by a location lead)")
	_, err = e.svc.Grant(e.ctx, locLeadP, rbac.NewGrant{AccountID: newID(), RoleID: viewer.ID,
		Scope: rbac.Scope{Kind: rbac.ScopeLocation, PracticeID: w.p1, LocationID: w.l2}})
	e.wantKind("Grant(other location by a location lead)", err, errs.KindForbidden)

	// The front desk cannot grant at all, nor can the patient.
	_, desk := e.grant(pa, rbac.FrontDeskID, practiceScope(w))
	_, err = e.svc.Grant(e.ctx, desk, rbac.NewGrant{AccountID: newID(), RoleID: viewer.ID, Scope: practiceScope(w)})
	e.wantKind("Grant(by front desk)", err, errs.KindForbidden)

	// The grant records who made it.
	g, err := e.svc.Grant(e.ctx, pa, rbac.NewGrant{AccountID: newID(), RoleID: viewer.ID, Scope: practiceScope(w)})
	e.ok(err, "Grant")
	if g.CreatedBy != who.String() || !g.CreatedAt.Equal(e.clk.Now()) || g.Scope != rbac.PracticeScope(w.g, w.p1) {
		e.t.Errorf("Grant = %+v, want CreatedBy %q, CreatedAt %v and the group filled in", g, who.String(), e.clk.Now())
	}
	_, err = e.svc.Grant(e.ctx, pa, rbac.NewGrant{AccountID: g.AccountID, RoleID: viewer.ID, Scope: practiceScope(w)})
	e.wantKind("Grant(again)", err, errs.KindConflict)
}

func testGrantAcrossPractices(e *env) {
	w := e.world()
	_, admin := e.bootstrap(rbac.GroupAdminID, rbac.GroupScope(w.g))
	_, pa := e.grant(admin, rbac.PracticeAdminID, practiceScope(w))
	_, otherAdmin := e.bootstrap(rbac.GroupAdminID, rbac.GroupScope(w.h))
	local, err := e.svc.CreateRole(e.ctx, pa, rbac.NewRole{Owner: rbac.PracticeOwner(w.g, w.p1), Name: "viewer", Permissions: []rbac.Permission{rbac.CalendarRead}})
	e.ok(err, "CreateRole(practice)")
	shared, err := e.svc.CreateRole(e.ctx, admin, rbac.NewRole{Owner: rbac.GroupOwner(w.g), Name: "viewer", Permissions: []rbac.Permission{rbac.CalendarRead}})
	e.ok(err, "CreateRole(group)")
	p2 := rbac.Scope{Kind: rbac.ScopePractice, PracticeID: w.p2}

	for _, c := range []struct {
		what string
		by   rbac.Principal
		role rbac.RoleID
		sc   rbac.Scope
		want errs.Kind
	}{
		{"p1's role in p2", admin, local.ID, p2, errs.KindNotFound},
		{"the group's role in p2", admin, shared.ID, p2, 0},
		{"p1's role at the group", admin, local.ID, rbac.GroupScope(w.g), errs.KindNotFound},
		{"p1's role in another group's practice", otherAdmin, local.ID, rbac.Scope{Kind: rbac.ScopePractice, PracticeID: w.q}, errs.KindNotFound},
		{"by p1's admin in p2", pa, rbac.FrontDeskID, p2, errs.KindNotFound},
		{"by p1's admin in another group", pa, rbac.FrontDeskID, rbac.Scope{Kind: rbac.ScopePractice, PracticeID: w.q}, errs.KindNotFound},
		{"by another group's admin in p1", otherAdmin, rbac.FrontDeskID, practiceScope(w), errs.KindNotFound},
		{"a location of p1 named under q", otherAdmin, rbac.FrontDeskID, rbac.Scope{Kind: rbac.ScopeLocation, PracticeID: w.q, LocationID: w.l1}, errs.KindNotFound},
		{"p1 under the wrong group", otherAdmin, rbac.FrontDeskID, rbac.Scope{Kind: rbac.ScopePractice, GroupID: w.h, PracticeID: w.p1}, errs.KindNotFound},
		{"by another group's admin at this group", otherAdmin, rbac.GroupAdminID, rbac.GroupScope(w.g), errs.KindNotFound},
	} {
		_, err := e.svc.Grant(e.ctx, c.by, rbac.NewGrant{AccountID: newID(), RoleID: c.role, Scope: c.sc})
		if c.want == 0 {
			e.ok(err, "Grant("+c.what+")")
		} else {
			e.wantKind("Grant("+c.what+")", err, c.want)
		}
	}
	// Another practice's roles are not found either.
	_, err = e.svc.GetRole(e.ctx, otherAdmin, rbac.PracticeOwner(w.g, w.p1), local.ID)
	e.wantKind("GetRole(another group's role)", err, errs.KindNotFound)
	_, err = e.svc.ListRoles(e.ctx, pa, rbac.PracticeOwner(w.g, w.p2))
	e.wantKind("ListRoles(sibling practice)", err, errs.KindNotFound)
}

func testGrantInput(e *env) {
	w := e.world()
	_, admin := e.bootstrap(rbac.GroupAdminID, rbac.GroupScope(w.g))
	for _, c := range []struct {
		what  string
		in    rbac.NewGrant
		field string
	}{
		{"no account", rbac.NewGrant{RoleID: rbac.FrontDeskID, Scope: practiceScope(w)}, "account_id"},
		{"no role", rbac.NewGrant{AccountID: newID(), Scope: practiceScope(w)}, "role_id"},
		{"no scope kind", rbac.NewGrant{AccountID: newID(), RoleID: rbac.FrontDeskID, Scope: rbac.Scope{PracticeID: w.p1}}, "scope.kind"},
		{"unknown scope kind", rbac.NewGrant{AccountID: newID(), RoleID: rbac.FrontDeskID, Scope: rbac.Scope{Kind: "world", PracticeID: w.p1}}, "scope.kind"},
		{"no practice", rbac.NewGrant{AccountID: newID(), RoleID: rbac.FrontDeskID, Scope: rbac.Scope{Kind: rbac.ScopePractice}}, "scope.practice_id"},
		{"no location", rbac.NewGrant{AccountID: newID(), RoleID: rbac.FrontDeskID, Scope: rbac.Scope{Kind: rbac.ScopeLocation, PracticeID: w.p1}}, "scope.location_id"},
		{"no patient", rbac.NewGrant{AccountID: newID(), RoleID: rbac.PatientRoleID, Scope: rbac.Scope{Kind: rbac.ScopeSelf, PracticeID: w.p1}}, "scope.patient_id"},
		{"no group", rbac.NewGrant{AccountID: newID(), RoleID: rbac.GroupAdminID, Scope: rbac.Scope{Kind: rbac.ScopeGroup}}, "scope.group_id"},
		{"front_desk at a group", rbac.NewGrant{AccountID: newID(), RoleID: rbac.FrontDeskID, Scope: rbac.GroupScope(w.g)}, "scope.kind"},
		{"patient at a practice", rbac.NewGrant{AccountID: newID(), RoleID: rbac.PatientRoleID, Scope: practiceScope(w)}, "scope.kind"},
		{"group_admin at a practice", rbac.NewGrant{AccountID: newID(), RoleID: rbac.GroupAdminID, Scope: practiceScope(w)}, "scope.kind"},
		{"practice_admin at a location", rbac.NewGrant{AccountID: newID(), RoleID: rbac.PracticeAdminID,
			Scope: rbac.Scope{Kind: rbac.ScopeLocation, PracticeID: w.p1, LocationID: w.l1}}, "scope.kind"},
	} {
		_, err := e.svc.Grant(e.ctx, admin, c.in)
		e.wantField("Grant("+c.what+")", err, c.field)
	}
	_, err := e.svc.Grant(e.ctx, admin, rbac.NewGrant{AccountID: newID(), RoleID: rbac.FrontDeskID,
		Scope: rbac.Scope{Kind: rbac.ScopeLocation, PracticeID: w.p1, LocationID: w.lq}})
	e.wantKind("Grant(location of another practice)", err, errs.KindNotFound)
	_, err = e.svc.Grant(actorless(e), admin, rbac.NewGrant{AccountID: newID(), RoleID: rbac.FrontDeskID, Scope: practiceScope(w)})
	e.wantKind("Grant(no actor)", err, errs.KindUnauthenticated)
}

func testRevoke(e *env) {
	w := e.world()
	_, admin := e.bootstrap(rbac.GroupAdminID, rbac.GroupScope(w.g))
	_, pa := e.grant(admin, rbac.PracticeAdminID, practiceScope(w))
	_, pa2 := e.grant(admin, rbac.PracticeAdminID, rbac.Scope{Kind: rbac.ScopePractice, PracticeID: w.p2})
	deskAccount, desk := e.grant(pa, rbac.FrontDeskID, practiceScope(w))
	target := w.targets()[tPractice]
	if !desk.Can(rbac.AppointmentBook, target) {
		e.t.Fatalf("front desk cannot book before revoke")
	}
	grants, err := e.svc.ListPracticeGrants(e.ctx, pa, w.p1)
	e.ok(err, "ListPracticeGrants")
	var id rbac.GrantID
	for _, g := range grants {
		if g.AccountID == deskAccount {
			id = g.ID
		}
	}
	_, err = e.svc.ListPracticeGrants(e.ctx, desk, w.p1)
	e.wantKind("ListPracticeGrants(by front desk)", err, errs.KindForbidden)
	_, err = e.svc.ListPracticeGrants(e.ctx, pa2, w.p1)
	e.wantKind("ListPracticeGrants(by sibling's admin)", err, errs.KindNotFound)
	inG, err := e.svc.ListGroupGrants(e.ctx, admin, w.g)
	e.ok(err, "ListGroupGrants")
	if len(inG) != 1 {
		e.t.Errorf("ListGroupGrants: %d grants, want 1", len(inG))
	}
	_, err = e.svc.ListGroupGrants(e.ctx, pa, w.g)
	e.wantKind("ListGroupGrants(by practice admin)", err, errs.KindForbidden)

	e.wantKind("Revoke(by front desk)", e.svc.Revoke(e.ctx, desk, w.g, id), errs.KindForbidden)
	e.wantKind("Revoke(by sibling's admin)", e.svc.Revoke(e.ctx, pa2, w.g, id), errs.KindNotFound)
	e.wantKind("Revoke(wrong group)", e.svc.Revoke(e.ctx, pa, w.h, id), errs.KindNotFound)
	e.ok(e.svc.Revoke(e.ctx, pa, w.g, id), "Revoke")
	desk = e.principal(deskAccount)
	if desk.Can(rbac.AppointmentBook, target) || rbac.Member(desk, w.p1, w.g) {
		e.t.Errorf("front desk keeps access after revoke")
	}
	e.wantKind("Revoke(again)", e.svc.Revoke(e.ctx, pa, w.g, id), errs.KindNotFound)
}
