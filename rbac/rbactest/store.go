package rbactest

import (
	"reflect"
	"slices"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/google/uuid"
)

var storeCases = []testCase{
	{"StoreRoleRoundTrip", testRoleRoundTrip},
	{"StoreRoleNames", testRoleNames},
	{"StoreUpdateRole", testUpdateRole},
	{"StoreDeleteRole", testDeleteRole},
	{"StoreGrantRoundTrip", testGrantRoundTrip},
	{"StoreGrantRefs", testGrantRefs},
	{"StoreDeleteGrant", testDeleteGrant},
}

// ts is a timestamp with microseconds, in a zone other than UTC, so that a
// store that does not return UTC is caught.
func ts(sec int) time.Time {
	return time.Date(2031, time.January, 2, 3, 4, sec, 123456000, time.FixedZone("UTC-5", -5*3600))
}

func (e *env) mustRole(owner rbac.Owner, name string, perms ...rbac.Permission) *rbac.Role {
	e.t.Helper()
	r := &rbac.Role{ID: newID(), Owner: owner, Name: name, Permissions: perms,
		CreatedAt: ts(1), CreatedBy: "staff:a", UpdatedAt: ts(2)}
	e.ok(e.st.CreateRole(e.ctx, r), "CreateRole "+name)
	return r
}

// sameRole checks got against want, with times compared as instants in UTC.
func (e *env) sameRole(what string, got, want *rbac.Role) {
	e.t.Helper()
	if got == nil {
		e.t.Errorf("%s: nil role", what)
		return
	}
	if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
		e.t.Errorf("%s: times not in UTC: %v, %v", what, got.CreatedAt, got.UpdatedAt)
	}
	w := *want
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	if !reflect.DeepEqual(*got, w) {
		e.t.Errorf("%s:\n got  %+v\n want %+v", what, *got, w)
	}
}

func (e *env) sameGrant(what string, got, want *rbac.Grant) {
	e.t.Helper()
	if got == nil {
		e.t.Errorf("%s: nil grant", what)
		return
	}
	if got.CreatedAt.Location() != time.UTC {
		e.t.Errorf("%s: CreatedAt not in UTC: %v", what, got.CreatedAt)
	}
	w := *want
	w.CreatedAt = w.CreatedAt.UTC()
	if !reflect.DeepEqual(*got, w) {
		e.t.Errorf("%s:\n got  %+v\n want %+v", what, *got, w)
	}
}

func grantIDs(gs []*rbac.Grant) []uuid.UUID {
	out := make([]uuid.UUID, len(gs))
	for i, g := range gs {
		out[i] = g.ID
	}
	return out
}

func roleIDs(rs []*rbac.Role) []uuid.UUID {
	out := make([]uuid.UUID, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func (e *env) sameIDs(what string, got, want []uuid.UUID) {
	e.t.Helper()
	if got == nil {
		e.t.Errorf("%s: nil slice, want non-nil", what)
	}
	if !slices.Equal(got, want) {
		e.t.Errorf("%s: IDs %v, want %v", what, got, want)
	}
}

func testRoleRoundTrip(e *env) {
	w := e.world()
	p1 := rbac.PracticeOwner(w.g, w.p1)
	r := e.mustRole(p1, "nurse", rbac.AppointmentRead, rbac.PatientClinicalRead)
	got, err := e.st.GetRole(e.ctx, p1, r.ID)
	e.ok(err, "GetRole")
	e.sameRole("GetRole", got, r)

	gr := e.mustRole(rbac.GroupOwner(w.g), "auditor", rbac.AuditRead)
	got, err = e.st.GetRole(e.ctx, rbac.GroupOwner(w.g), gr.ID)
	e.ok(err, "GetRole(group)")
	e.sameRole("GetRole(group)", got, gr)

	// Another owner's role reads as not found, in every direction.
	for _, c := range []struct {
		what  string
		owner rbac.Owner
		id    rbac.RoleID
	}{
		{"practice role via sibling practice", rbac.PracticeOwner(w.g, w.p2), r.ID},
		{"practice role via its group", rbac.GroupOwner(w.g), r.ID},
		{"practice role via another group", rbac.PracticeOwner(w.h, w.p1), r.ID},
		{"group role via a practice", p1, gr.ID},
		{"group role via another group", rbac.GroupOwner(w.h), gr.ID},
		{"unknown id", p1, newID()},
	} {
		_, err := e.st.GetRole(e.ctx, c.owner, c.id)
		e.wantKind("GetRole("+c.what+")", err, errs.KindNotFound)
	}

	// Lists hold the owner's own roles only, by name.
	a := e.mustRole(p1, "assistant", rbac.CalendarRead)
	e.mustRole(rbac.PracticeOwner(w.g, w.p2), "billing", rbac.BillingRead)
	list, err := e.st.ListRoles(e.ctx, p1)
	e.ok(err, "ListRoles(p1)")
	e.sameIDs("ListRoles(p1)", roleIDs(list), []uuid.UUID{a.ID, r.ID})
	if len(list) == 2 {
		e.sameRole("ListRoles(p1)[1]", list[1], r)
	}
	list, err = e.st.ListRoles(e.ctx, rbac.GroupOwner(w.g))
	e.ok(err, "ListRoles(g)")
	e.sameIDs("ListRoles(g)", roleIDs(list), []uuid.UUID{gr.ID})
	list, err = e.st.ListRoles(e.ctx, rbac.PracticeOwner(w.h, w.q))
	e.ok(err, "ListRoles(q)")
	e.sameIDs("ListRoles(q)", roleIDs(list), []uuid.UUID{})

	// An owner that does not exist is not found.
	err = e.st.CreateRole(e.ctx, &rbac.Role{ID: newID(), Owner: rbac.PracticeOwner(w.g, newID()),
		Name: "ghost", Permissions: []rbac.Permission{rbac.AuditRead}, CreatedAt: ts(1), UpdatedAt: ts(1)})
	e.wantKind("CreateRole(unknown practice)", err, errs.KindNotFound)
}

func testRoleNames(e *env) {
	w := e.world()
	p1 := rbac.PracticeOwner(w.g, w.p1)
	e.mustRole(p1, "nurse", rbac.AppointmentRead)
	err := e.st.CreateRole(e.ctx, &rbac.Role{ID: newID(), Owner: p1, Name: "nurse",
		Permissions: []rbac.Permission{rbac.CalendarRead}, CreatedAt: ts(3), UpdatedAt: ts(3)})
	e.wantKind("CreateRole(duplicate name)", err, errs.KindConflict)
	// The same name is free in another practice, in the group, and in
	// another group's.
	e.mustRole(rbac.PracticeOwner(w.g, w.p2), "nurse", rbac.AppointmentRead)
	e.mustRole(rbac.GroupOwner(w.g), "nurse", rbac.AppointmentRead)
	e.mustRole(rbac.GroupOwner(w.h), "nurse", rbac.AppointmentRead)
	err = e.st.CreateRole(e.ctx, &rbac.Role{ID: newID(), Owner: rbac.GroupOwner(w.g), Name: "nurse",
		Permissions: []rbac.Permission{rbac.CalendarRead}, CreatedAt: ts(3), UpdatedAt: ts(3)})
	e.wantKind("CreateRole(duplicate group role name)", err, errs.KindConflict)
}

func testUpdateRole(e *env) {
	w := e.world()
	p1 := rbac.PracticeOwner(w.g, w.p1)
	r := e.mustRole(p1, "nurse", rbac.AppointmentRead)
	e.mustRole(p1, "doctor", rbac.PatientClinicalRead)

	r.Name, r.Permissions, r.UpdatedAt = "senior nurse", []rbac.Permission{rbac.AppointmentRead, rbac.PatientClinicalWrite}, ts(9)
	e.ok(e.st.UpdateRole(e.ctx, r), "UpdateRole")
	got, err := e.st.GetRole(e.ctx, p1, r.ID)
	e.ok(err, "GetRole")
	e.sameRole("GetRole after UpdateRole", got, r)

	taken := *r
	taken.Name = "doctor"
	e.wantKind("UpdateRole(taken name)", e.st.UpdateRole(e.ctx, &taken), errs.KindConflict)
	foreign := *r
	foreign.Owner = rbac.PracticeOwner(w.g, w.p2)
	e.wantKind("UpdateRole(other practice)", e.st.UpdateRole(e.ctx, &foreign), errs.KindNotFound)
	unknown := *r
	unknown.ID = newID()
	e.wantKind("UpdateRole(unknown id)", e.st.UpdateRole(e.ctx, &unknown), errs.KindNotFound)
	got, err = e.st.GetRole(e.ctx, p1, r.ID)
	e.ok(err, "GetRole")
	e.sameRole("GetRole after failed updates", got, r)
}

func testDeleteRole(e *env) {
	w := e.world()
	p1 := rbac.PracticeOwner(w.g, w.p1)
	r := e.mustRole(p1, "nurse", rbac.AppointmentRead)
	e.wantKind("DeleteRole(other practice)", e.st.DeleteRole(e.ctx, rbac.PracticeOwner(w.g, w.p2), r.ID), errs.KindNotFound)
	e.wantKind("DeleteRole(group owner)", e.st.DeleteRole(e.ctx, rbac.GroupOwner(w.g), r.ID), errs.KindNotFound)

	g := &rbac.Grant{ID: newID(), AccountID: newID(), RoleID: r.ID, Scope: rbac.PracticeScope(w.g, w.p1), CreatedAt: ts(4), CreatedBy: "staff:a"}
	e.ok(e.st.CreateGrant(e.ctx, g), "CreateGrant")
	e.wantKind("DeleteRole(still granted)", e.st.DeleteRole(e.ctx, p1, r.ID), errs.KindConflict)
	e.ok(e.st.DeleteGrant(e.ctx, w.g, g.ID), "DeleteGrant")
	e.ok(e.st.DeleteRole(e.ctx, p1, r.ID), "DeleteRole")
	_, err := e.st.GetRole(e.ctx, p1, r.ID)
	e.wantKind("GetRole(deleted)", err, errs.KindNotFound)
	e.wantKind("DeleteRole(again)", e.st.DeleteRole(e.ctx, p1, r.ID), errs.KindNotFound)
}

func testGrantRoundTrip(e *env) {
	w := e.world()
	account := newID()
	custom := e.mustRole(rbac.PracticeOwner(w.g, w.p1), "nurse", rbac.AppointmentRead)
	mk := func(role rbac.RoleID, sc rbac.Scope, sec int) *rbac.Grant {
		g := &rbac.Grant{ID: newID(), AccountID: account, RoleID: role, Scope: sc, CreatedAt: ts(sec), CreatedBy: "staff:a"}
		e.ok(e.st.CreateGrant(e.ctx, g), "CreateGrant "+string(sc.Kind))
		return g
	}
	gGroup := mk(rbac.GroupAdminID, rbac.GroupScope(w.g), 1)
	gPractice := mk(rbac.PracticeAdminID, rbac.PracticeScope(w.g, w.p1), 2)
	gLocation := mk(rbac.FrontDeskID, rbac.LocationScope(w.g, w.p1, w.l1), 3)
	gSelf := mk(rbac.PatientRoleID, rbac.SelfScope(w.g, w.p1, w.pat1), 4)
	gCustom := mk(custom.ID, rbac.PracticeScope(w.g, w.p1), 5)
	gOther := mk(rbac.PracticeAdminID, rbac.PracticeScope(w.h, w.q), 6)
	someoneElse := &rbac.Grant{ID: newID(), AccountID: newID(), RoleID: rbac.FrontDeskID,
		Scope: rbac.PracticeScope(w.g, w.p2), CreatedAt: ts(7), CreatedBy: "staff:b"}
	e.ok(e.st.CreateGrant(e.ctx, someoneElse), "CreateGrant(someone else)")

	for _, g := range []*rbac.Grant{gGroup, gPractice, gLocation, gSelf, gCustom} {
		got, err := e.st.GetGrant(e.ctx, w.g, g.ID)
		e.ok(err, "GetGrant")
		e.sameGrant("GetGrant "+string(g.Scope.Kind), got, g)
		_, err = e.st.GetGrant(e.ctx, w.h, g.ID)
		e.wantKind("GetGrant(other group)", err, errs.KindNotFound)
	}

	all, err := e.st.ListAccountGrants(e.ctx, account)
	e.ok(err, "ListAccountGrants")
	e.sameIDs("ListAccountGrants", grantIDs(all), []uuid.UUID{gGroup.ID, gPractice.ID, gLocation.ID, gSelf.ID, gCustom.ID, gOther.ID})
	none, err := e.st.ListAccountGrants(e.ctx, newID())
	e.ok(err, "ListAccountGrants(nobody)")
	e.sameIDs("ListAccountGrants(nobody)", grantIDs(none), []uuid.UUID{})

	inP1, err := e.st.ListPracticeGrants(e.ctx, w.p1)
	e.ok(err, "ListPracticeGrants")
	e.sameIDs("ListPracticeGrants(p1)", grantIDs(inP1), []uuid.UUID{gPractice.ID, gLocation.ID, gSelf.ID, gCustom.ID})
	if len(inP1) == 4 {
		e.sameGrant("ListPracticeGrants(p1)[1]", inP1[1], gLocation)
	}
	inP2, err := e.st.ListPracticeGrants(e.ctx, w.p2)
	e.ok(err, "ListPracticeGrants(p2)")
	e.sameIDs("ListPracticeGrants(p2)", grantIDs(inP2), []uuid.UUID{someoneElse.ID})

	inG, err := e.st.ListGroupGrants(e.ctx, w.g)
	e.ok(err, "ListGroupGrants")
	e.sameIDs("ListGroupGrants(g)", grantIDs(inG), []uuid.UUID{gGroup.ID})
	inH, err := e.st.ListGroupGrants(e.ctx, w.h)
	e.ok(err, "ListGroupGrants(h)")
	e.sameIDs("ListGroupGrants(h)", grantIDs(inH), []uuid.UUID{})

	// The same role at the same scope twice is a conflict; at another
	// scope it is not.
	dup := *gLocation
	dup.ID = newID()
	e.wantKind("CreateGrant(duplicate)", e.st.CreateGrant(e.ctx, &dup), errs.KindConflict)
	dup.ID, dup.Scope = newID(), rbac.LocationScope(w.g, w.p1, w.l2)
	e.ok(e.st.CreateGrant(e.ctx, &dup), "CreateGrant(same role, other location)")
}

func testGrantRefs(e *env) {
	w := e.world()
	for _, c := range []struct {
		what string
		role rbac.RoleID
		sc   rbac.Scope
	}{
		{"unknown practice", rbac.PracticeAdminID, rbac.PracticeScope(w.g, newID())},
		{"unknown group", rbac.GroupAdminID, rbac.GroupScope(newID())},
		{"location of another practice", rbac.FrontDeskID, rbac.LocationScope(w.h, w.q, w.l1)},
		{"unknown location", rbac.FrontDeskID, rbac.LocationScope(w.g, w.p1, newID())},
		{"unknown custom role", newID(), rbac.PracticeScope(w.g, w.p1)},
	} {
		g := &rbac.Grant{ID: newID(), AccountID: newID(), RoleID: c.role, Scope: c.sc, CreatedAt: ts(1), CreatedBy: "staff:a"}
		e.wantKind("CreateGrant("+c.what+")", e.st.CreateGrant(e.ctx, g), errs.KindNotFound)
	}
}

func testDeleteGrant(e *env) {
	w := e.world()
	g := &rbac.Grant{ID: newID(), AccountID: newID(), RoleID: rbac.FrontDeskID,
		Scope: rbac.PracticeScope(w.g, w.p1), CreatedAt: ts(1), CreatedBy: "staff:a"}
	e.ok(e.st.CreateGrant(e.ctx, g), "CreateGrant")
	e.wantKind("DeleteGrant(other group)", e.st.DeleteGrant(e.ctx, w.h, g.ID), errs.KindNotFound)
	e.ok(e.st.DeleteGrant(e.ctx, w.g, g.ID), "DeleteGrant")
	_, err := e.st.GetGrant(e.ctx, w.g, g.ID)
	e.wantKind("GetGrant(deleted)", err, errs.KindNotFound)
	e.wantKind("DeleteGrant(again)", e.st.DeleteGrant(e.ctx, w.g, g.ID), errs.KindNotFound)
}
