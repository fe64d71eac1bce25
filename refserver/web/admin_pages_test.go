package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// HTTP tests of the setup pages and onboarding, through the real stack.

// validNPI is an NPI with a correct check digit, from the nine digits of
// prefix.
func validNPI(t *testing.T, prefix string) string {
	t.Helper()
	for d := 0; d < 10; d++ {
		if n := prefix + strconv.Itoa(d); scheduling.ValidNPI(n) {
			return n
		}
	}
	t.Fatalf("no check digit for %s", prefix)
	return ""
}

// mustUUID is s parsed, failing the test when it is no UUID.
func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return id
}

// admin is the demo administrator, signed in.
func (a *app) admin() *client {
	return a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
}

// brooklyn is the demo location Brooklyn Heights.
func (a *app) brooklyn() *tenant.Location {
	a.t.Helper()
	ls, err := a.engine.Tenants.Locations(context.Background(), a.demo.PracticeID)
	if err != nil {
		a.t.Fatal(err)
	}
	for _, l := range ls {
		if l.Name == "Brooklyn Heights" {
			return l
		}
	}
	a.t.Fatal("no Brooklyn Heights")
	return nil
}

// addProvider adds a provider at loc through the page and returns it.
func (a *app) addProvider(c *client, practice tenant.PracticeID, given, family, npi string, loc tenant.LocationID) *scheduling.Provider {
	a.t.Helper()
	c.post(practicePath(practice)+"/setup/providers", url.Values{"given_name": {given}, "family_name": {family},
		"npi": {npi}, "location_ids": {loc.String()}}).want(a.t, http.StatusSeeOther)
	ps, err := a.engine.Scheduling.Providers(context.Background(), practice, scheduling.ProviderFilter{Limit: 1000})
	if err != nil {
		a.t.Fatal(err)
	}
	for _, p := range ps {
		if p.NPI == npi {
			return p
		}
	}
	a.t.Fatalf("provider %s not created", npi)
	return nil
}

// weekly is the form of a weekly block of prov at loc: weekdays 9 to 12
// from the day after the test's now, for four weeks.
func weekly(prov *scheduling.Provider, loc tenant.LocationID, action string) url.Values {
	return url.Values{"provider_id": {prov.ID.String()}, "location_id": {loc.String()}, "byday": {"MO", "TU", "WE", "TH", "FR"},
		"start_time": {"09:00"}, "end_time": {"12:00"}, "from": {"2030-03-05"}, "until": {"2030-03-29"}, "capacity": {"1"}, "action": {action}}
}

// addBlock publishes form through the page and returns the new block's ID.
func (a *app) addBlock(c *client, practice tenant.PracticeID, form url.Values) string {
	a.t.Helper()
	res := c.post(practicePath(practice)+"/setup/blocks", form).want(a.t, http.StatusSeeOther)
	loc := res.location()
	id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], practicePath(practice)+"/setup/blocks/")
	if len(id) != 36 {
		a.t.Fatalf("the block's page is %q", loc)
	}
	return id
}

func TestAdminSetupHubAndPolicy(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.admin()
		c.get(a.base()+"/setup").want(t, http.StatusOK, "Booking policy", "Locations", "Providers", "Visit types", "Availability",
			`name="min_notice_minutes"`)
		form := url.Values{"auto_confirm": {"1"}, "min_notice_minutes": {"120"}, "max_advance_minutes": {"43200"},
			"cancel_cutoff_minutes": {"1440"}, "arrival_early_minutes": {"30"}, "arrival_late_minutes": {"15"}}
		if got := c.post(a.base()+"/setup/policy", form).want(t, http.StatusSeeOther).location(); got != a.base()+"/setup?saved=policy" {
			t.Fatalf("after saving: %s", got)
		}
		c.get(a.base()+"/setup?saved=policy").want(t, http.StatusOK, "The booking policy is saved.", `value="43200"`, `id="auto_confirm" name="auto_confirm" type="checkbox" value="1" checked`)
		p, err := a.engine.Tenants.Practice(context.Background(), a.demo.PracticeID)
		if err != nil {
			t.Fatal(err)
		}
		want := tenant.BookingPolicy{AutoConfirm: true, MinNotice: 2 * time.Hour, MaxAdvance: 30 * 24 * time.Hour,
			CancelCutoff: 24 * time.Hour, ArrivalEarly: 30 * time.Minute, ArrivalLate: 15 * time.Minute}
		if p.Policy != want {
			t.Fatalf("policy %+v, want %+v", p.Policy, want)
		}
		// The domain's rule, next to its field, with what was typed kept.
		form.Set("max_advance_minutes", "60")
		c.post(a.base()+"/setup/policy", form).want(t, http.StatusUnprocessableEntity,
			`id="max_advance_minutes-error"`, "must be longer than min_notice", `value="60"`)
		form.Set("max_advance_minutes", "soon")
		c.post(a.base()+"/setup/policy", form).want(t, http.StatusUnprocessableEntity, `id="max_advance_minutes-error"`, "whole number")
		form.Set("max_advance_minutes", "")
		c.post(a.base()+"/setup/policy", form).want(t, http.StatusUnprocessableEntity, `id="max_advance_minutes-error"`, "required")
		if p2, _ := a.engine.Tenants.Practice(context.Background(), a.demo.PracticeID); p2.Policy != want {
			t.Fatalf("a refused form changed the policy: %+v", p2.Policy)
		}
		// A practice administrator has no group to switch in.
		if res := c.get(a.base() + "/setup"); strings.Contains(res.body, `id="group-h"`) {
			t.Fatal("a practice administrator sees the group's practices")
		}
	})
}

func TestAdminProviderNPIIsCheckedByField(t *testing.T) {
	a := newSQLiteApp(t)
	c := a.admin()
	loc := a.brooklyn()
	form := url.Values{"given_name": {"Ada"}, "family_name": {"Lovelace"}, "npi": {"1234567890"}, "location_ids": {loc.ID.String()}}
	res := c.post(a.base()+"/setup/providers", form).want(t, http.StatusUnprocessableEntity,
		`id="npi-error"`, "not a valid NPI", `aria-invalid="true"`, `value="Lovelace"`)
	if strings.Count(res.body, `class="field-error"`) != 1 {
		t.Fatalf("the error is not only by the npi field:\n%s", res.body)
	}
	form.Set("npi", validNPI(t, "123456789"))
	c.post(a.base()+"/setup/providers", form).want(t, http.StatusSeeOther)
	c.get(a.base()+"/setup/providers?added=1").want(t, http.StatusOK, "Ada Lovelace", form.Get("npi"), "Brooklyn Heights")
	// The same NPI twice is refused by the npi field too.
	c.post(a.base()+"/setup/providers", form).want(t, http.StatusConflict, `id="npi-error"`)
}

func TestAdminLocationsResourcesVisitTypes(t *testing.T) {
	a := newSQLiteApp(t)
	c := a.admin()
	base := a.base() + "/setup"
	loc := url.Values{"name": {"Harlem"}, "time_zone": {"Mars/Olympus"}, "address.line1": {"1 Main St"}, "address.city": {"New York"},
		"address.country": {"US"}, "geo.lat": {"40.81"}, "geo.lng": {"-73.95"}}
	c.post(base+"/locations", loc).want(t, http.StatusUnprocessableEntity, `id="time_zone-error"`)
	loc.Set("time_zone", "America/New_York")
	loc.Set("geo.lat", "140")
	c.post(base+"/locations", loc).want(t, http.StatusUnprocessableEntity, `id="geo.lat-error"`)
	loc.Set("geo.lat", "40.81")
	c.post(base+"/locations", loc).want(t, http.StatusSeeOther)
	c.get(base+"/locations").want(t, http.StatusOK, "Harlem", "America/New_York", "1 Main St, New York, US", "40.81000, -73.95000")

	brooklyn := a.brooklyn()
	c.post(base+"/resources", url.Values{"name": {"Exam Room 9"}, "kind": {"room"}, "location_id": {brooklyn.ID.String()}}).want(t, http.StatusSeeOther)
	c.post(base+"/resources", url.Values{"name": {"X"}, "kind": {"spaceship"}, "location_id": {brooklyn.ID.String()}}).
		want(t, http.StatusUnprocessableEntity, `id="kind-error"`)
	c.get(base+"/resources").want(t, http.StatusOK, "Exam Room 9", "Brooklyn Heights")
	rs, err := a.engine.Scheduling.Resources(context.Background(), a.demo.PracticeID, &brooklyn.ID)
	if err != nil {
		t.Fatal(err)
	}
	var room string
	for _, r := range rs {
		if r.Name == "Exam Room 9" {
			room = r.ID.String()
		}
	}
	vt := url.Values{"name": {"Long checkup"}, "duration_minutes": {"0"}, "buffer_before_minutes": {"5"}, "buffer_after_minutes": {"10"},
		"step_minutes": {"15"}, "audience": {"new"}, "resource_ids": {room}}
	c.post(base+"/visit-types", vt).want(t, http.StatusUnprocessableEntity, `id="duration_minutes-error"`, "must be positive",
		`value="Long checkup"`, `value="`+room+`" checked`)
	vt.Set("duration_minutes", "45")
	vt.Set("audience", "martians")
	c.post(base+"/visit-types", vt).want(t, http.StatusUnprocessableEntity, `id="audience-error"`)
	vt.Set("audience", "new")
	c.post(base+"/visit-types", vt).want(t, http.StatusSeeOther)
	c.get(base+"/visit-types").want(t, http.StatusOK, "Long checkup", "45 min", "5 / 10 min", "15 min", "New patients only", "Exam Room 9")
}

// TestAdminPagesRefuseOthers checks that the front desk is refused (403)
// every setup page, and that another practice's setup pages read as not
// found to the demo administrator.
func TestAdminPagesRefuseOthers(t *testing.T) {
	a := newSQLiteApp(t)
	ss := a.samples()
	other := a.otherPractice()
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	admin := a.admin()
	n := 0
	for _, rt := range a.pageRoutes() {
		if !strings.Contains(rt.Pattern, "/setup") {
			continue
		}
		n++
		send := func(c *client, path string) page {
			if rt.Method == http.MethodGet {
				return c.get(path)
			}
			return c.post(path, url.Values{"name": {"x"}})
		}
		if res := send(desk, fillPath(rt.Pattern, ss, false, "")); res.status != http.StatusForbidden || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
			t.Errorf("%s %s as the front desk: %d %s, want a 403 page", rt.Method, rt.Pattern, res.status, res.header.Get("Content-Type"))
		}
		if res := send(admin, fillPath(rt.Pattern, ss, false, other)); res.status != http.StatusNotFound {
			t.Errorf("%s %s on another practice: %d, want 404", rt.Method, rt.Pattern, res.status)
		}
	}
	if n < 18 {
		t.Fatalf("only %d setup routes", n)
	}
}

func TestAdminBlockPreviewCreateAndOpenTimes(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.admin()
		ctx := context.Background()
		loc := a.brooklyn()
		prov := a.addProvider(c, a.demo.PracticeID, "Grace", "Hopper", validNPI(t, "198765432"), loc.ID)
		c.post(a.base()+"/setup/visit-types", url.Values{"name": {"Checkup"}, "duration_minutes": {"30"}, "audience": {"any"}}).want(t, http.StatusSeeOther)
		before, _ := a.engine.Scheduling.Blocks(ctx, a.demo.PracticeID, scheduling.BlockFilter{})

		res := c.post(a.base()+"/setup/blocks", weekly(prov, loc.ID, "preview")).want(t, http.StatusOK,
			"The next 8 times", "Tue 2030-03-05 09:00–12:00", "Thu 2030-03-14 09:00–12:00", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20300330T035959Z",
			`value="WE" checked`)
		if got := strings.Count(res.body[strings.Index(res.body, `class="occurrences"`):], "<li>"); got != 8 {
			t.Fatalf("%d occurrences previewed, want 8", got)
		}
		if after, _ := a.engine.Scheduling.Blocks(ctx, a.demo.PracticeID, scheduling.BlockFilter{}); len(after) != len(before) {
			t.Fatal("the preview saved a block")
		}
		bad := weekly(prov, loc.ID, "save")
		bad.Del("byday")
		c.post(a.base()+"/setup/blocks", bad).want(t, http.StatusUnprocessableEntity, `id="byday-error"`, "at least one day")
		bad = weekly(prov, loc.ID, "preview")
		bad.Set("count", "4")
		c.post(a.base()+"/setup/blocks", bad).want(t, http.StatusUnprocessableEntity, `id="count-error"`)

		id := a.addBlock(c, a.demo.PracticeID, weekly(prov, loc.ID, "save"))
		// A second block over the first is the domain's conflict, by the first date.
		c.post(a.base()+"/setup/blocks", weekly(prov, loc.ID, "save")).want(t, http.StatusConflict, `id="from-error"`, "overlaps")
		page := c.get(a.base()+"/setup/blocks/"+id+"?done=created").want(t, http.StatusOK, "The hours are published.", "Grace Hopper",
			"Mon, Tue, Wed, Thu, Fri · 09:00–12:00", "Tue 2030-03-05 09:00–09:30", "Tue 2030-03-05 11:30–12:00")
		vts, _ := a.engine.Scheduling.VisitTypes(ctx, a.demo.PracticeID)
		var checkup string
		for _, v := range vts {
			if v.Name == "Checkup" {
				checkup = v.ID.String()
			}
		}
		page = c.get(a.base()+"/setup/blocks/"+id+"?visit_type_id="+checkup).want(t, http.StatusOK, "For Checkup")
		// The open times are OpenSlots' own.
		pid := mustUUID(t, id)
		slots, err := a.engine.Scheduling.OpenSlots(ctx, a.demo.PracticeID, scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{prov.ID},
			VisitTypeID: mustUUID(t, checkup), From: testNow, To: testNow.AddDate(0, 0, 14)})
		if err != nil || len(slots) == 0 {
			t.Fatalf("OpenSlots: %d, %v", len(slots), err)
		}
		ny, _ := time.LoadLocation("America/New_York")
		for _, s := range slots[:min(len(slots), maxOpenTimes)] {
			if s.BlockID == pid && !strings.Contains(page.body, s.Start.In(ny).Format("2006-01-02 15:04")) {
				t.Fatalf("open time %v not shown", s.Start)
			}
		}
		c.get(a.base()+"/setup/blocks").want(t, http.StatusOK, "<td>Dr. Grace Hopper</td>", "<td>Dr. Maya Chen</td>")
		c.get(a.base()+"/setup/blocks?provider_id="+prov.ID.String()).want(t, http.StatusOK, "<td>Dr. Grace Hopper</td>", "Brooklyn Heights")
		if res := c.get(a.base() + "/setup/blocks?provider_id=" + prov.ID.String()); strings.Contains(res.body, "<td>Dr. Maya Chen</td>") {
			t.Fatal("the list ignores its provider filter")
		}
	})
}

func TestAdminBlockDaysOffAndOneDayChanges(t *testing.T) {
	a := newSQLiteApp(t)
	c := a.admin()
	ctx := context.Background()
	loc := a.brooklyn()
	prov := a.addProvider(c, a.demo.PracticeID, "Grace", "Hopper", validNPI(t, "198765432"), loc.ID)
	id := a.addBlock(c, a.demo.PracticeID, weekly(prov, loc.ID, "save"))
	bp := a.base() + "/setup/blocks/" + id
	c.post(bp+"/exdates", url.Values{"exdates": {"2030-03-06"}}).want(t, http.StatusSeeOther)
	c.post(bp+"/exdates", url.Values{"exdates": {"6 March"}}).want(t, http.StatusUnprocessableEntity, `id="exdates-error"`)
	c.post(bp+"/overrides", url.Values{"override_date": {"2030-03-07"}, "override_start": {"13:00"}, "override_end": {"15:00"}}).want(t, http.StatusSeeOther)
	c.post(bp+"/overrides", url.Values{"override_date": {"2030-03-08"}, "override_start": {"15:00"}, "override_end": {"13:00"}}).
		want(t, http.StatusUnprocessableEntity, `id="override_date-error"`, "must end after it starts")
	b, err := a.engine.Scheduling.Block(ctx, a.demo.PracticeID, mustUUID(t, id))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.ExDates) != 1 || b.ExDates[0] != "2030-03-06" || len(b.Overrides) != 1 || b.Overrides[0] != (scheduling.Override{Date: "2030-03-07", Start: "13:00", End: "15:00"}) {
		t.Fatalf("exdates %v, overrides %v", b.ExDates, b.Overrides)
	}
	res := c.get(bp).want(t, http.StatusOK, "Tue 2030-03-05 09:00–12:00", "Thu 2030-03-07 13:00–15:00")
	if strings.Contains(res.body, "Wed 2030-03-06 09:00") {
		t.Fatal("a skipped date is still shown")
	}
	c.post(bp+"/exdates", url.Values{"exdates": {"2030-03-06"}, "action": {"remove"}}).want(t, http.StatusSeeOther)
	c.post(bp+"/overrides", url.Values{"override_date": {"2030-03-07"}, "action": {"remove"}}).want(t, http.StatusSeeOther)
	c.get(bp).want(t, http.StatusOK, "Wed 2030-03-06 09:00–12:00", "Thu 2030-03-07 09:00–12:00")
}

// book books the demo patient into prov's first open time of vt.
func (a *app) bookFirst(prov *scheduling.Provider, vt scheduling.VisitTypeID) *scheduling.Appointment {
	a.t.Helper()
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Staff, ID: "test"})
	slots, err := a.engine.Scheduling.OpenSlots(ctx, a.demo.PracticeID, scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{prov.ID},
		VisitTypeID: vt, From: testNow, To: testNow.AddDate(0, 0, 14)})
	if err != nil || len(slots) == 0 {
		a.t.Fatalf("no open time: %v", err)
	}
	me, err := a.engine.Scheduling.Patients(ctx, a.demo.PracticeID, scheduling.PatientFilter{Email: demo.PatientEmail, Limit: 1})
	if err != nil || len(me) != 1 {
		a.t.Fatalf("demo patient: %v", err)
	}
	appt, err := a.engine.Scheduling.Book(ctx, a.demo.PracticeID, scheduling.BookRequest{PatientID: me[0].ID, ProviderID: prov.ID,
		VisitTypeID: vt, Start: slots[0].Start, AllowPatientOverlap: true})
	if err != nil {
		a.t.Fatal(err)
	}
	return appt
}

// blockFixture is two providers at Brooklyn with the same weekly hours, a
// visit type, and a booking in the first one's block.
type blockFixture struct {
	from, to string
	appt     *scheduling.Appointment
}

func (a *app) blockFixture(c *client) blockFixture {
	a.t.Helper()
	loc := a.brooklyn()
	p1 := a.addProvider(c, a.demo.PracticeID, "Grace", "Hopper", validNPI(a.t, "198765432"), loc.ID)
	p2 := a.addProvider(c, a.demo.PracticeID, "Alan", "Turing", validNPI(a.t, "112233445"), loc.ID)
	c.post(a.base()+"/setup/visit-types", url.Values{"name": {"Checkup"}, "duration_minutes": {"30"}, "audience": {"any"}}).want(a.t, http.StatusSeeOther)
	var vt scheduling.VisitTypeID
	vts, _ := a.engine.Scheduling.VisitTypes(context.Background(), a.demo.PracticeID)
	for _, v := range vts {
		if v.Name == "Checkup" {
			vt = v.ID
		}
	}
	f := blockFixture{from: a.addBlock(c, a.demo.PracticeID, weekly(p1, loc.ID, "save")), to: a.addBlock(c, a.demo.PracticeID, weekly(p2, loc.ID, "save"))}
	f.appt = a.bookFirst(p1, vt)
	if f.appt.BlockID.String() != f.from {
		a.t.Fatalf("booked in block %s, not %s", f.appt.BlockID, f.from)
	}
	return f
}

func TestAdminDeleteBlockWithBookings(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.admin()
		ctx := context.Background()
		f := a.blockFixture(c)
		bp := a.base() + "/setup/blocks/" + f.from
		// Refused, with the bookings listed and the form that moves them.
		c.post(bp+"/delete", url.Values{}).want(t, http.StatusUnprocessableEntity, "Use the Delete button to confirm.")
		c.post(bp+"/delete", url.Values{"confirm": {"1"}}).want(t, http.StatusConflict,
			"This block still holds bookings (1)", "Tue 2030-03-05 09:00–09:30", `class="status status-`+string(f.appt.Status)+`"`,
			`name="to_block_id"`, `value="`+f.to+`"`, "Alan Turing")
		if _, err := a.engine.Scheduling.Block(ctx, a.demo.PracticeID, mustUUID(t, f.from)); err != nil {
			t.Fatalf("the refused block is gone: %v", err)
		}
		c.post(bp+"/move", url.Values{"to_block_id": {"nonsense"}}).want(t, http.StatusUnprocessableEntity, `id="to_block_id-error"`)
		c.post(bp+"/move", url.Values{"to_block_id": {f.to}, "reason": {"Dr Hopper is away"}}).want(t, http.StatusSeeOther)
		moved, err := a.engine.Scheduling.Appointment(ctx, a.demo.PracticeID, f.appt.ID)
		if err != nil || moved.BlockID.String() != f.to || !moved.Start.Equal(f.appt.Start) {
			t.Fatalf("after the move: %+v, %v", moved, err)
		}
		c.get(bp+"?done=moved&n=1").want(t, http.StatusOK, "Bookings moved: 1.")
		c.post(bp+"/delete", url.Values{"confirm": {"1"}}).want(t, http.StatusSeeOther)
		if _, err := a.engine.Scheduling.Block(ctx, a.demo.PracticeID, mustUUID(t, f.from)); err == nil {
			t.Fatal("the block was not deleted")
		}
		c.get(a.base()+"/setup/blocks?done=deleted").want(t, http.StatusOK, "The block was deleted.")
		c.get(bp).want(t, http.StatusNotFound)
	})
}

// TestOnboardingByInvitation: on an invite-only server the sign-up form
// asks for the operator's invitation code; without a valid one it is
// refused naming the field; with one the clinic is made.
func TestOnboardingByInvitation(t *testing.T) {
	a := serveApp(t, sqltest.SQLite(t), nil, carebook.WithSignUp(carebook.SignUpInvite))
	v := a.client()
	v.get("/onboarding").want(t, http.StatusOK, `name="invitation"`, "Invitation code")
	form := url.Values{"clinic_name": {"Lakeside Family Clinic"}, "email": {"owner@lakeside.example"}, "password": {"a long enough passphrase"}}
	v.post("/onboarding", form).want(t, http.StatusUnprocessableEntity, `id="invitation-error"`)
	form.Set("invitation", "cbs_made_up")
	v.post("/onboarding", form).want(t, http.StatusUnprocessableEntity, `id="invitation-error"`)
	code, err := a.engine.IssueSignUpCode(context.Background(), "Lakeside")
	if err != nil {
		t.Fatal(err)
	}
	form.Set("invitation", code)
	v.post("/onboarding", form).want(t, http.StatusSeeOther)
	if strings.Contains(newApp(t, sqltest.SQLite(t)).client().get("/onboarding").body, `name="invitation"`) {
		t.Error("an open server asks for an invitation")
	}
}

func TestOnboardingToABookablePractice(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		ctx := context.Background()
		v := a.client()
		v.get("/onboarding").want(t, http.StatusOK, "Set up your practice", `name="clinic_name"`)
		form := url.Values{"clinic_name": {"Lakeside Family Clinic"}, "email": {"owner@lakeside.example"}, "password": {"short"}}
		v.post("/onboarding", form).want(t, http.StatusUnprocessableEntity, `id="password-error"`, `value="Lakeside Family Clinic"`)
		form.Set("email", demo.AdminEmail)
		form.Set("password", "a long enough passphrase")
		v.post("/onboarding", form).want(t, http.StatusConflict, `id="email-error"`)
		form.Set("clinic_name", " ")
		form.Set("email", "owner@lakeside.example")
		v.post("/onboarding", form).want(t, http.StatusUnprocessableEntity, `id="clinic_name-error"`)
		form.Set("clinic_name", "Lakeside Family Clinic")
		res := v.post("/onboarding", form).want(t, http.StatusSeeOther)
		start := res.location()
		if !strings.HasPrefix(start, "/p/") || !strings.HasSuffix(start, "/setup/start") {
			t.Fatalf("onboarding goes to %q", start)
		}
		pid := mustUUID(t, strings.Split(start, "/")[2])
		base := practicePath(pid) + "/setup"
		v.get(start).want(t, http.StatusOK, "First steps", "Lakeside Family Clinic", base+"/locations?flow=start", "Next step")
		if strings.Contains(v.get(start).body, practicePath(pid)+"/book\"") {
			t.Fatal("the booking link is shown before the practice is bookable")
		}
		v.post(base+"/locations", url.Values{"flow": {"start"}, "name": {"Main office"}, "time_zone": {"America/Chicago"}, "address.country": {"US"}}).
			want(t, http.StatusSeeOther).location()
		ls, _ := a.engine.Tenants.Locations(ctx, pid)
		if len(ls) != 1 {
			t.Fatalf("%d locations", len(ls))
		}
		v.get(start).want(t, http.StatusOK, base+"/providers?flow=start")
		v.get(base+"/providers?flow=start").want(t, http.StatusOK, `value="`+ls[0].ID.String()+`" checked`, `name="flow" value="start"`)
		if got := v.post(base+"/providers", url.Values{"flow": {"start"}, "given_name": {"Rosa"}, "family_name": {"Diaz"},
			"npi": {validNPI(t, "156789012")}, "location_ids": {ls[0].ID.String()}}).want(t, http.StatusSeeOther).location(); got != start {
			t.Fatalf("the provider step goes to %q", got)
		}
		v.post(base+"/visit-types", url.Values{"flow": {"start"}, "name": {"Visit"}, "duration_minutes": {"20"}, "audience": {"any"}}).want(t, http.StatusSeeOther)
		ps, _ := a.engine.Scheduling.Providers(ctx, pid, scheduling.ProviderFilter{})
		v.get(base+"/blocks/new?flow=start").want(t, http.StatusOK, "Rosa Diaz", `value="MO" checked`, `value="2030-03-05"`)
		form = weekly(ps[0], ls[0].ID, "save")
		form.Set("flow", "start")
		if got := v.post(base+"/blocks", form).want(t, http.StatusSeeOther).location(); got != start {
			t.Fatalf("the block step goes to %q", got)
		}
		v.get(start).want(t, http.StatusOK, "Your practice is bookable", a.http.URL+practicePath(pid)+"/book")
		vts, _ := a.engine.Scheduling.VisitTypes(ctx, pid)
		slots, err := a.engine.Scheduling.OpenSlots(ctx, pid, scheduling.SlotQuery{VisitTypeID: vts[0].ID, From: testNow, To: testNow.AddDate(0, 0, 14)})
		if err != nil || len(slots) == 0 {
			t.Fatalf("the onboarded practice has %d open times (%v)", len(slots), err)
		}
		// The new administrator administers the group: a second practice
		// shows in the switcher, and its pages open.
		p, _ := a.engine.Tenants.Practice(ctx, pid)
		sys := actor.With(ctx, actor.Actor{Kind: actor.System, ID: "test"})
		second, err := a.engine.Tenants.CreatePractice(sys, tenant.NewPractice{GroupID: p.GroupID, Name: "Lakeside Pediatrics"})
		if err != nil {
			t.Fatal(err)
		}
		v.get(base).want(t, http.StatusOK, `id="group-h"`, `href="`+practicePath(second.ID)+`/setup"`, "Lakeside Pediatrics", `aria-current="page">Lakeside Family Clinic`)
		v.get(practicePath(second.ID)+"/setup").want(t, http.StatusOK, "Lakeside Pediatrics", `aria-current="page">Lakeside Pediatrics`)
		v.post(practicePath(second.ID)+"/setup/locations", url.Values{"name": {"Kids' wing"}, "time_zone": {"America/Chicago"}}).want(t, http.StatusSeeOther)
		if ls, _ := a.engine.Tenants.Locations(ctx, second.ID); len(ls) != 1 {
			t.Fatal("the group administrator could not set up the second practice")
		}
		// Not the demo practice, of another group.
		v.get(a.base()+"/setup").want(t, http.StatusNotFound)
	})
}

func TestAdminEditBlock(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.admin()
		ctx := context.Background()
		f := a.blockFixture(c)
		bp := a.base() + "/setup/blocks/" + f.from
		c.get(bp+"/edit").want(t, http.StatusOK, "Change the weekly hours", `value="FR" checked`, `value="09:00"`, `value="12:00"`,
			`value="2030-03-05"`, `value="2030-03-29"`)
		form := weekly(&scheduling.Provider{}, a.brooklyn().ID, "")
		form.Del("provider_id")
		// The booking at 09:00 would be left out: refused, with it listed.
		form.Set("start_time", "10:00")
		c.post(bp, form).want(t, http.StatusConflict, "This block still holds bookings (1)", "Tue 2030-03-05 09:00–09:30", `name="to_block_id"`)
		form.Set("start_time", "08:00")
		form.Set("until", "")
		form.Set("count", "")
		form["byday"] = []string{"TU", "TH"}
		c.post(bp, form).want(t, http.StatusSeeOther)
		b, err := a.engine.Scheduling.Block(ctx, a.demo.PracticeID, mustUUID(t, f.from))
		if err != nil {
			t.Fatal(err)
		}
		if b.RRule != "FREQ=WEEKLY;BYDAY=TU,TH" || b.SpanEnd != nil {
			t.Fatalf("rule %q, span end %v", b.RRule, b.SpanEnd)
		}
		c.get(bp+"?done=changed").want(t, http.StatusOK, "The block was changed.", "Tue, Thu · 08:00–12:00")
		form.Set("end_time", "07:00")
		c.post(bp, form).want(t, http.StatusUnprocessableEntity, `id="end_time-error"`)
	})
}
