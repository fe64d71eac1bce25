package rbactest

import (
	"fmt"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/tenant"
)

var matrixCases = []testCase{
	{"AuthorizationMatrix", testMatrix},
	{"MemberAndView", testMemberAndView},
	{"HoldsIn", testHoldsIn},
	{"APIKeyPrincipal", testAPIKey},
	{"UnknownPermission", testUnknownPermission},
}

// The built-in roles, as columns of roleHolds.
const (
	ga = iota // group_admin
	pa        // practice_admin
	fd        // front_desk
	pt        // patient
	cl        // clinician
)

// roleHolds is, for every permission, whether each built-in role holds it:
// {group_admin, practice_admin, front_desk, patient, clinician}.
var roleHolds = map[rbac.Permission][5]bool{
	rbac.AppointmentRead:       {true, true, true, true, true},
	rbac.AppointmentBook:       {true, true, true, true, true},
	rbac.AppointmentConfirm:    {true, true, true, false, false},
	rbac.AppointmentReschedule: {true, true, true, true, false},
	rbac.AppointmentCancel:     {true, true, true, true, false},
	rbac.AppointmentStatus:     {true, true, true, false, true},
	rbac.CalendarRead:          {true, true, true, false, true},
	rbac.AvailabilityRead:      {true, true, true, true, true},
	rbac.AvailabilityManage:    {true, true, false, false, false},
	rbac.ProviderManage:        {true, true, false, false, false},
	rbac.ResourceManage:        {true, true, false, false, false},
	rbac.VisitTypeManage:       {true, true, false, false, false},
	rbac.PatientContactRead:    {true, true, true, true, true},
	rbac.PatientContactWrite:   {true, true, true, true, false},
	rbac.PatientClinicalRead:   {true, true, false, true, true},
	rbac.PatientClinicalWrite:  {true, true, false, false, true},
	rbac.PatientRestrictedRead: {true, true, false, false, false},
	rbac.PatientRightsManage:   {true, true, false, false, false},
	rbac.PaymentOffline:        {true, true, true, false, false},
	rbac.PracticeManage:        {true, true, false, false, false},
	rbac.PolicyManage:          {true, true, false, false, false},
	rbac.StaffManage:           {true, true, false, false, false},
	rbac.RolesManage:           {true, true, false, false, false},
	rbac.APIKeyManage:          {true, true, false, false, false},
	rbac.AuditRead:             {true, true, false, false, false},
	rbac.BillingRead:           {true, true, false, false, false},
	rbac.NotifyManage:          {true, true, false, false, false},
	rbac.InboxRead:             {true, true, true, false, true},
	rbac.PatientBreakGlass:     {true, true, false, false, true},
	rbac.PaymentRead:           {true, true, true, true, false},
	rbac.PaymentRefund:         {true, true, true, false, false},
}

// The targets of the matrix, as columns of reach. The principals' home is
// location l1 of practice p1 of group g, and patient pat1 of p1.
const (
	tPractice       = iota // p1, no location, no patient
	tOwnLocation           // p1 at l1
	tOtherLocation         // p1 at l2
	tOwnPatient            // p1, patient pat1
	tOtherPatient          // p1, patient pat2
	tOwnPatientAway        // p1 at l2, patient pat1
	tSibling               // p2, another practice of group g
	tOtherGroup            // q, a practice of group h
	nTargets
)

var targetNames = [nTargets]string{
	"own practice", "own location", "other location", "own patient",
	"other patient", "own patient at other location", "sibling practice", "other group",
}

// A grant of the matrix: a built-in role at one scope.
type matrixGrant struct {
	name  string
	role  int // column of roleHolds
	reach [nTargets]bool
}

// grants lists the principals of the matrix and, for each target, whether
// its scope covers it.
var matrixGrants = []matrixGrant{
	//                                      practice ownLoc otherLoc ownPat otherPat ownPatAway sibling otherGroup
	{"group_admin@group", ga, [nTargets]bool{true, true, true, true, true, true, true, false}},
	{"practice_admin@practice", pa, [nTargets]bool{true, true, true, true, true, true, false, false}},
	{"front_desk@practice", fd, [nTargets]bool{true, true, true, true, true, true, false, false}},
	{"front_desk@location", fd, [nTargets]bool{false, true, false, false, false, false, false, false}},
	{"patient@self", pt, [nTargets]bool{false, false, false, true, false, true, false, false}},
	{"clinician@practice", cl, [nTargets]bool{true, true, true, true, true, true, false, false}},
	{"clinician@location", cl, [nTargets]bool{false, true, false, false, false, false, false, false}},
}

// world is the tenants of the matrix.
type world struct {
	g, h       tenant.GroupID
	p1, p2, q  tenant.PracticeID
	l1, l2, lq tenant.LocationID
	pat1, pat2 rbac.PatientID
}

func (e *env) world() world {
	w := world{g: e.group("Northwind"), h: e.group("Southwind"), pat1: newID(), pat2: newID()}
	w.p1 = e.practice(w.g, "Elm Street")
	w.p2 = e.practice(w.g, "Oak Street")
	w.q = e.practice(w.h, "Pine Street")
	w.l1 = e.location(w.p1, "Downtown")
	w.l2 = e.location(w.p1, "Uptown")
	w.lq = e.location(w.q, "Harbor")
	return w
}

func (w world) targets() [nTargets]rbac.Target {
	return [nTargets]rbac.Target{
		tPractice:       {GroupID: w.g, PracticeID: w.p1},
		tOwnLocation:    {GroupID: w.g, PracticeID: w.p1, LocationID: &w.l1},
		tOtherLocation:  {GroupID: w.g, PracticeID: w.p1, LocationID: &w.l2},
		tOwnPatient:     {GroupID: w.g, PracticeID: w.p1, PatientID: &w.pat1},
		tOtherPatient:   {GroupID: w.g, PracticeID: w.p1, PatientID: &w.pat2},
		tOwnPatientAway: {GroupID: w.g, PracticeID: w.p1, LocationID: &w.l2, PatientID: &w.pat1},
		tSibling:        {GroupID: w.g, PracticeID: w.p2},
		tOtherGroup:     {GroupID: w.h, PracticeID: w.q},
	}
}

// principals grants the matrix's roles through the Service, by a group
// admin bootstrapped at g, and returns them in the order of matrixGrants.
func (e *env) principals(w world) []rbac.Principal {
	_, admin := e.bootstrap(rbac.GroupAdminID, rbac.GroupScope(w.g))
	_, pa := e.grant(admin, rbac.PracticeAdminID, rbac.Scope{Kind: rbac.ScopePractice, PracticeID: w.p1})
	_, fdp := e.grant(pa, rbac.FrontDeskID, rbac.Scope{Kind: rbac.ScopePractice, PracticeID: w.p1})
	_, fdl := e.grant(pa, rbac.FrontDeskID, rbac.Scope{Kind: rbac.ScopeLocation, PracticeID: w.p1, LocationID: w.l1})
	_, pat := e.grant(pa, rbac.PatientRoleID, rbac.Scope{Kind: rbac.ScopeSelf, PracticeID: w.p1, PatientID: w.pat1})
	_, clp := e.grant(pa, rbac.ClinicianID, rbac.Scope{Kind: rbac.ScopePractice, PracticeID: w.p1})
	_, cll := e.grant(pa, rbac.ClinicianID, rbac.Scope{Kind: rbac.ScopeLocation, PracticeID: w.p1, LocationID: w.l1})
	return []rbac.Principal{admin, pa, fdp, fdl, pat, clp, cll}
}

func testMatrix(e *env) {
	if got, want := len(roleHolds), len(rbac.All()); got != want {
		e.t.Fatalf("roleHolds has %d permissions, rbac.All %d", got, want)
	}
	w := e.world()
	targets := w.targets()
	ps := e.principals(w)
	for i, mg := range matrixGrants {
		for _, perm := range rbac.All() {
			holds, ok := roleHolds[perm]
			if !ok {
				e.t.Fatalf("roleHolds misses %s", perm)
			}
			for ti, target := range targets {
				want := holds[mg.role] && mg.reach[ti]
				err := e.svc.Authorize(e.ctx, ps[i], perm, target)
				what := fmt.Sprintf("%s: %s on %s", mg.name, perm, targetNames[ti])
				switch {
				case want && err != nil:
					e.t.Errorf("%s: %v, want allowed", what, err)
				case !want && err == nil:
					e.t.Errorf("%s: allowed, want forbidden", what)
				case !want:
					e.wantKind(what, err, errs.KindForbidden)
				}
				if got := ps[i].Can(perm, target); got != want {
					e.t.Errorf("%s: Can = %v, want %v", what, got, want)
				}
			}
		}
	}
	// The built-in roles say what the table says.
	for i, r := range rbac.BuiltInRoles() {
		for _, perm := range rbac.All() {
			has := false
			for _, q := range r.Permissions {
				has = has || q == perm
			}
			if want := roleHolds[perm][i]; has != want {
				e.t.Errorf("BuiltInRoles()[%d] %s: holds %s = %v, want %v", i, r.Name, perm, has, want)
			}
		}
	}
}

func testMemberAndView(e *env) {
	w := e.world()
	ps := e.principals(w)
	// {p1, p2, q} for each principal of matrixGrants.
	member := [][3]bool{
		{true, true, false},
		{true, false, false},
		{true, false, false},
		{true, false, false},
		{true, false, false},
		{true, false, false},
		{true, false, false},
	}
	for i, mg := range matrixGrants {
		for j, pr := range []struct {
			id    tenant.PracticeID
			group tenant.GroupID
		}{{w.p1, w.g}, {w.p2, w.g}, {w.q, w.h}} {
			if got, want := rbac.Member(ps[i], pr.id, pr.group), member[i][j]; got != want {
				e.t.Errorf("%s: Member(practice %d) = %v, want %v", mg.name, j, got, want)
			}
		}
	}
	targets := w.targets()
	views := []struct {
		who    int
		target int
		want   rbac.PatientView
	}{
		{0, tOwnPatient, rbac.PatientView{Contact: true, Clinical: true}},
		{0, tOtherGroup, rbac.PatientView{}},
		{1, tOtherPatient, rbac.PatientView{Contact: true, Clinical: true}},
		{2, tOwnPatient, rbac.PatientView{Contact: true}},
		{3, tOwnLocation, rbac.PatientView{Contact: true}},
		{3, tOwnPatient, rbac.PatientView{}},
		{4, tOwnPatient, rbac.PatientView{Contact: true, Clinical: true}},
		{4, tOtherPatient, rbac.PatientView{}},
		{5, tOtherPatient, rbac.PatientView{Contact: true, Clinical: true}},
		{6, tOwnPatient, rbac.PatientView{}},
	}
	for _, v := range views {
		if got := rbac.View(ps[v.who], targets[v.target]); got != v.want {
			e.t.Errorf("View(%s, %s) = %+v, want %+v", matrixGrants[v.who].name, targetNames[v.target], got, v.want)
		}
	}
}

// breakGlass is, for each principal of matrixGrants, whether it holds
// patient.breakglass somewhere in p1, p2 and q (HoldsIn).
var breakGlass = [][3]bool{
	{true, true, false},
	{true, false, false},
	{false, false, false},
	{false, false, false},
	{false, false, false},
	{true, false, false},
	{true, false, false},
}

func testHoldsIn(e *env) {
	w := e.world()
	ps := e.principals(w)
	for i, mg := range matrixGrants {
		for j, pr := range []struct {
			id    tenant.PracticeID
			group tenant.GroupID
		}{{w.p1, w.g}, {w.p2, w.g}, {w.q, w.h}} {
			if got, want := rbac.HoldsIn(ps[i], rbac.PatientBreakGlass, pr.id, pr.group), breakGlass[i][j]; got != want {
				e.t.Errorf("%s: HoldsIn(patient.breakglass, practice %d) = %v, want %v", mg.name, j, got, want)
			}
		}
	}
	if rbac.HoldsIn(ps[0], "no.such", w.p1, w.g) {
		e.t.Errorf("HoldsIn(unknown permission) = true")
	}
}

func testAPIKey(e *env) {
	w := e.world()
	targets := w.targets()
	key, err := rbac.PrincipalForAPIKey(w.p1, []rbac.Permission{rbac.AppointmentRead, rbac.AvailabilityRead})
	e.ok(err, "PrincipalForAPIKey")
	if !key.APIKey() {
		e.t.Errorf("APIKey() = false")
	}
	for _, perm := range rbac.All() {
		for ti, target := range targets {
			inList := perm == rbac.AppointmentRead || perm == rbac.AvailabilityRead
			want := inList && ti != tSibling && ti != tOtherGroup
			if got := e.svc.Authorize(e.ctx, key, perm, target) == nil; got != want {
				e.t.Errorf("API key: %s on %s allowed = %v, want %v", perm, targetNames[ti], got, want)
			}
		}
	}
	if !rbac.Member(key, w.p1, w.g) || rbac.Member(key, w.p2, w.g) {
		e.t.Errorf("API key: Member(p1), Member(p2) = %v, %v; want true, false",
			rbac.Member(key, w.p1, w.g), rbac.Member(key, w.p2, w.g))
	}
	// A key may not grant, for it holds no staff.manage.
	_, err = e.svc.Grant(e.ctx, key, rbac.NewGrant{AccountID: newID(), RoleID: rbac.FrontDeskID,
		Scope: rbac.Scope{Kind: rbac.ScopePractice, PracticeID: w.p1}})
	e.wantKind("Grant by an API key without staff.manage", err, errs.KindForbidden)

	_, err = rbac.PrincipalForAPIKey(w.p1, []rbac.Permission{"appointment.delete"})
	e.wantField("PrincipalForAPIKey(unknown permission)", err, "permissions")
}

func testUnknownPermission(e *env) {
	w := e.world()
	_, admin := e.bootstrap(rbac.GroupAdminID, rbac.GroupScope(w.g))
	err := e.svc.Authorize(e.ctx, admin, "appointment.delete", w.targets()[tPractice])
	e.wantField("Authorize(unknown permission)", err, "permission")
	_, err = rbac.ParsePermission("Appointment.Read")
	e.wantField("ParsePermission(wrong case)", err, "permission")
	if p, err := rbac.ParsePermission("audit.read"); err != nil || p != rbac.AuditRead {
		e.t.Errorf("ParsePermission(audit.read) = %q, %v", p, err)
	}
	// The zero principal is denied everything.
	e.wantKind("Authorize(zero principal)", e.svc.Authorize(e.ctx, rbac.Principal{}, rbac.AppointmentRead, w.targets()[tPractice]), errs.KindForbidden)
}
