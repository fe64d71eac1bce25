package demo_test

import (
	"context"
	"maps"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
)

// counts is how much of each thing the demo practice holds.
type counts struct {
	sizes
	ByStatus map[scheduling.Status]int
}

type sizes struct {
	Practices, Locations, Providers, Resources, VisitTypes, Blocks, Patients, Appointments int
}

func mustEngine(t *testing.T, now time.Time) *carebook.Engine {
	t.Helper()
	e, err := carebook.New(context.Background(),
		carebook.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "demo.db"), Migrate: true, MasterKey: sqltest.MasterKey()},
		carebook.WithClock(clock.NewFixed(now)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func mustCount(t *testing.T, e *carebook.Engine, p tenant.PracticeID) counts {
	t.Helper()
	ctx := context.Background()
	st := e.Store()
	var c counts
	must := func(n int, err error) int {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	c.Practices = must(lenOf(st.Tenants.ListPractices(ctx, demo.GroupID())))
	c.Locations = must(lenOf(st.Tenants.ListLocations(ctx, p)))
	c.Providers = must(lenOf(st.Scheduling.ListProviders(ctx, p, scheduling.ProviderFilter{})))
	c.Resources = must(lenOf(st.Scheduling.ListResources(ctx, p, nil)))
	c.VisitTypes = must(lenOf(st.Scheduling.ListVisitTypes(ctx, p)))
	c.Blocks = must(lenOf(st.Scheduling.ListBlocks(ctx, p, scheduling.BlockFilter{})))
	c.Patients = must(lenOf(st.Scheduling.ListPatients(ctx, p, scheduling.PatientFilter{})))
	appts, err := st.Scheduling.ListAppointments(ctx, p, scheduling.AppointmentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	c.Appointments = len(appts)
	c.ByStatus = make(map[scheduling.Status]int)
	for _, a := range appts {
		c.ByStatus[a.Status]++
	}
	return c
}

func lenOf[T any](s []T, err error) (int, error) { return len(s), err }

func TestSeedTwiceSameCounts(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, time.May, 6, 14, 30, 0, 0, ny)
	t.Run("SQLite", func(t *testing.T) { testSeedTwice(t, mustEngine(t, now)) })
	t.Run("Postgres", func(t *testing.T) {
		// The store is closed by sqltest at cleanup.
		testSeedTwice(t, carebook.NewWithStore(sqltest.Postgres(t), carebook.WithClock(clock.NewFixed(now))))
	})
}

func testSeedTwice(t *testing.T, e *carebook.Engine) {
	ctx := context.Background()
	p1, err := demo.Seed(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	first := mustCount(t, e, p1)
	if v, err := e.Store().Tenants.GetVerification(ctx, p1); err != nil || v.NPI != demo.OrgNPI {
		t.Fatalf("the demo practice is not verified: %+v, %v", v, err)
	}
	p2, err := demo.Seed(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if p2 != p1 {
		t.Errorf("second Seed returned practice %v, want %v", p2, p1)
	}
	if second := mustCount(t, e, p1); !equalCounts(first, second) {
		t.Errorf("counts after a second Seed = %+v, want %+v", second, first)
	}
	want := counts{sizes: sizes{Practices: 1, Locations: 2, Providers: 3, Resources: 3, VisitTypes: 4, Blocks: 8, Patients: 6, Appointments: 10},
		ByStatus: map[scheduling.Status]int{
			scheduling.StatusOut: 2, scheduling.StatusNew: 2, scheduling.StatusConfirmed: 5, scheduling.StatusCanceled: 1,
		}}
	if !equalCounts(first, want) {
		t.Errorf("counts = %+v, want %+v", first, want)
	}
}

func equalCounts(a, b counts) bool {
	return a.sizes == b.sizes && maps.Equal(a.ByStatus, b.ByStatus)
}

// TestSeedAnyDay seeds on days that stress the choice of slots: weekends,
// late evenings, the days around a DST change. The demo must always seed,
// with its appointments in the coming week and its history in the past.
func TestSeedAnyDay(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	for _, now := range []time.Time{
		time.Date(2026, time.May, 8, 23, 50, 0, 0, ny),      // Friday night
		time.Date(2026, time.May, 9, 7, 0, 0, 0, ny),        // Saturday morning
		time.Date(2026, time.May, 10, 12, 0, 0, 0, ny),      // Sunday
		time.Date(2026, time.May, 11, 8, 0, 0, 0, ny),       // Monday morning
		time.Date(2026, time.March, 7, 18, 0, 0, 0, ny),     // the eve of spring forward
		time.Date(2026, time.October, 31, 16, 0, 0, 0, ny),  // the eve of fall back
		time.Date(2026, time.December, 31, 22, 0, 0, 0, ny), // new year's eve
	} {
		t.Run(now.Format("Mon_2006-01-02T15:04"), func(t *testing.T) {
			ctx := context.Background()
			e := mustEngine(t, now)
			p, err := demo.Seed(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			checkDemo(t, e, p, now)
		})
	}
}

func checkDemo(t *testing.T, e *carebook.Engine, p tenant.PracticeID, now time.Time) {
	t.Helper()
	ctx := context.Background()
	prac, err := e.Tenants.Practice(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if prac.Name != demo.PracticeName || prac.Policy != tenant.DefaultPolicy {
		t.Errorf("practice %q with policy %+v, want %q with the default policy", prac.Name, prac.Policy, demo.PracticeName)
	}
	provs, err := e.Scheduling.Providers(ctx, p, scheduling.ProviderFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range provs {
		if !scheduling.ValidNPI(pr.NPI) {
			t.Errorf("provider %s has invalid NPI %q", pr.FamilyName, pr.NPI)
		}
	}
	locs, err := e.Tenants.Locations(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range locs {
		if l.TimeZone != "America/New_York" || l.Address.Line1 == "" || l.Geo.Lat == 0 {
			t.Errorf("location %+v lacks its zone, address or geo point", l)
		}
	}

	// The coming week's calendar: every active appointment is in the future,
	// new requests are flagged, and patients are new or established.
	cal, err := e.Scheduling.Calendar(ctx, p, scheduling.CalendarQuery{From: now, To: now.AddDate(0, 0, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(cal) != 8 {
		t.Errorf("%d appointments in the coming week, want 8", len(cal))
	}
	kinds := make(map[scheduling.PatientKind]int)
	flagged := 0
	for _, c := range cal {
		a := c.Appointment
		if !a.Start.After(now) || a.Start.After(now.AddDate(0, 0, 9)) {
			t.Errorf("appointment at %v is not in the coming week of %v", a.Start, now)
		}
		if c.NeedsConfirmation != (a.Status == scheduling.StatusNew) {
			t.Errorf("appointment %s: NeedsConfirmation = %v", a.Status, c.NeedsConfirmation)
		}
		if c.NeedsConfirmation {
			flagged++
		}
		if c.Patient.FamilyName == "" {
			t.Errorf("appointment at %v has no patient", a.Start)
		}
		kinds[a.PatientKind]++
	}
	if flagged != 2 || kinds[scheduling.NewPatient] == 0 || kinds[scheduling.EstablishedPatient] == 0 {
		t.Errorf("%d flagged requests and patient kinds %v; want 2 flagged, both kinds", flagged, kinds)
	}
	reqs, err := e.Scheduling.Requests(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 {
		t.Errorf("%d requests waiting, want 2", len(reqs))
	}

	// The history: two finished visits about two weeks ago.
	past, err := e.Scheduling.Calendar(ctx, p, scheduling.CalendarQuery{From: now.AddDate(0, 0, -21), To: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(past) != 2 {
		t.Fatalf("%d past appointments, want 2", len(past))
	}
	for _, c := range past {
		if c.Appointment.Status != scheduling.StatusOut {
			t.Errorf("past appointment is %s, want out", c.Appointment.Status)
		}
	}

	// The group class has two of its eight seats taken.
	classSeats := 0
	for _, c := range cal {
		if c.Appointment.End.Sub(c.Appointment.Start) == time.Hour {
			classSeats++
		}
	}
	if classSeats != 2 {
		t.Errorf("%d seats taken in the group class, want 2", classSeats)
	}
}

// TestSeedConcurrent starts two seedings at once, as two replicas starting
// together would: both must return the one demo practice.
func TestSeedConcurrent(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, time.May, 6, 14, 30, 0, 0, ny)
	t.Run("SQLite", func(t *testing.T) { testSeedConcurrent(t, mustEngine(t, now)) })
	t.Run("Postgres", func(t *testing.T) {
		testSeedConcurrent(t, carebook.NewWithStore(sqltest.Postgres(t), carebook.WithClock(clock.NewFixed(now))))
	})
}

func testSeedConcurrent(t *testing.T, e *carebook.Engine) {
	ctx := context.Background()
	var ids [2]tenant.PracticeID
	var errs [2]error
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() { ids[i], errs[i] = demo.Seed(ctx, e) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if ids[0] != ids[1] {
		t.Errorf("concurrent seedings returned practices %v and %v", ids[0], ids[1])
	}
	if c := mustCount(t, e, ids[0]); c.Practices != 1 || c.Appointments != 10 {
		t.Errorf("after concurrent seedings: %+v", c)
	}
}

// TestSeedCreatesTheAdmin checks that the first seeding creates the demo
// administrator, who signs in with the password shown once and holds
// practice_admin over the demo practice, and that a second one shows none.
func TestSeedCreatesTheAdmin(t *testing.T) {
	ctx := context.Background()
	e := mustEngine(t, time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	r, err := demo.SeedWithAdmin(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.AdminPassword) < 20 {
		t.Fatalf("admin password %q", r.AdminPassword)
	}
	_, sess, err := e.Identity.Login(ctx, identity.LoginRequest{Identifier: demo.AdminEmail, Password: r.AdminPassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.OperatorSignIn(ctx, demo.OperatorEmail, r.OperatorPassword); err != nil {
		t.Fatalf("the demo support staff member signs in: %v", err)
	}
	pr, err := e.RBAC.Principal(ctx, sess.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Tenants.Practice(ctx, r.PracticeID)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Can(rbac.StaffManage, rbac.Target{GroupID: p.GroupID, PracticeID: p.ID}) {
		t.Error("the demo admin cannot manage staff")
	}
	again, err := demo.SeedWithAdmin(ctx, e)
	if err != nil || again.PracticeID != r.PracticeID || again.AdminPassword != "" {
		t.Fatalf("second seeding = %+v, %v", again, err)
	}
}

// TestSeedCharts checks the demo charts: the clinician signs in and reads
// Marcus Johnson's locked visit (its encounter tied to his finished
// appointment) and lists, but not Grace O'Neil's restricted problem, which
// the administrator sees; every chain verifies.
func TestSeedCharts(t *testing.T) {
	ctx := context.Background()
	e := mustEngine(t, time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	r, err := demo.SeedWithAdmin(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	as := func(email, pw string) context.Context {
		_, sess, err := e.Identity.Login(ctx, identity.LoginRequest{Identifier: email, Password: pw})
		if err != nil {
			t.Fatalf("%s signs in: %v", email, err)
		}
		pr, err := e.RBAC.Principal(ctx, sess.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		return carebook.WithCaller(ctx, carebook.Caller{Actor: actor.Actor{Kind: actor.Staff, ID: sess.AccountID.String()}, Principal: pr})
	}
	doc, admin := as(demo.ClinicianEmail, r.ClinicianPassword), as(demo.AdminEmail, r.AdminPassword)
	patient := func(email string) scheduling.PatientID {
		pts, err := e.Scheduling.Patients(ctx, r.PracticeID, scheduling.PatientFilter{Email: email, Limit: 1})
		if err != nil || len(pts) != 1 {
			t.Fatalf("patient %s: %v", email, err)
		}
		return pts[0].ID
	}
	kinds := func(who context.Context, pt scheduling.PatientID) map[ehr.Kind]int {
		entries, err := e.Chart(who, r.PracticeID, pt, ehr.ChartFilter{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[ehr.Kind]int{}
		for _, en := range entries {
			out[en.Kind]++
			if en.Kind == ehr.KindEncounter && en.Status == ehr.Locked {
				if enc := en.Body.(*ehr.Encounter); enc.AppointmentID == nil || enc.End == nil {
					t.Errorf("the locked encounter %+v is not tied to its finished appointment", enc)
				}
			}
		}
		if err := e.VerifyChart(who, r.PracticeID, pt); err != nil {
			t.Errorf("the chain of %s: %v", pt, err)
		}
		return out
	}
	marcus := kinds(doc, patient("marcus.johnson@example.com"))
	want := map[ehr.Kind]int{ehr.KindEncounter: 1, ehr.KindVital: 4, ehr.KindNote: 1, ehr.KindProblem: 2, ehr.KindAllergy: 1,
		ehr.KindMedication: 2, ehr.KindImmunization: 1}
	if !maps.Equal(marcus, want) {
		t.Errorf("Marcus's chart = %v, want %v", marcus, want)
	}
	grace := patient("grace.oneil@example.net")
	if got := kinds(doc, grace)[ehr.KindProblem]; got != 1 {
		t.Errorf("the clinician sees %d of Grace's problems, want 1 (the other is restricted)", got)
	}
	if got := kinds(admin, grace)[ehr.KindProblem]; got != 2 {
		t.Errorf("the administrator sees %d of Grace's problems, want 2", got)
	}
}

// TestSeedPublishes: the demo practice is in the public directory, so that
// "back pain" near ZIP 11201's centroid finds Dr. Chen with a next open
// time a patient may book, and its group class is not listed.
func TestSeedPublishes(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	e := mustEngine(t, time.Date(2026, 12, 3, 10, 0, 0, 0, ny))
	ctx := context.Background()
	p, err := demo.Seed(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	q := directory.Query{Near: &directory.Point{Lat: 40.6937, Lon: -73.9897}, RadiusKm: 10}
	q.ParseWords("back pain")
	hits, err := e.SearchDirectory(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Provider.FamilyName != "Chen" || hits[0].PracticeID != p || hits[0].Location.Name != "Brooklyn Heights" {
		t.Fatalf("back pain near 11201 = %+v, want Dr. Chen in Brooklyn Heights", hits)
	}
	loc := hits[0].Location
	if loc.NextOpen == nil || hits[0].DistanceKm > 1 {
		t.Fatalf("Dr. Chen at %.2f km, next open %v", hits[0].DistanceKm, loc.NextOpen)
	}
	pc := actor.With(ctx, actor.Actor{Kind: actor.Patient, ID: "someone"})
	slots, err := e.Scheduling.OpenSlots(pc, p, scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{hits[0].Provider.ID},
		VisitTypeID: loc.NextOpenVisitType, LocationID: &loc.ID, From: *loc.NextOpen, To: loc.NextOpen.Add(time.Minute)})
	if err != nil || len(slots) != 1 {
		t.Fatalf("next open %v is not offered to a patient: %v, %v", loc.NextOpen, slots, err)
	}
	for _, v := range loc.VisitTypes {
		if v.Name == "Diabetes group class" || v.Name == "Follow-up" {
			t.Errorf("listed %s", v.Name)
		}
	}
	l, err := e.DirectoryPractice(ctx, p)
	if err != nil || len(l.Providers) != 3 {
		t.Fatalf("DirectoryPractice = %+v, %v, want the three doctors", l, err)
	}
	// Seeding again finds the clinic and publishes nothing twice.
	if _, err := demo.Seed(ctx, e); err != nil {
		t.Fatal(err)
	}
	idx, err := e.DirectoryIndex(ctx, "", 0)
	if err != nil || len(idx) != 4 {
		t.Fatalf("index = %v, %v, want the practice and its three doctors", idx, err)
	}
}
