package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/refserver/api"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The front desk's week at scale: 40 providers × 7 days × 20 appointments
// a day (5,600), every status, in New York, on SQLite.
const (
	benchProviders = 40
	benchPerDay    = 20
	benchPatients  = 200
)

// benchWeek is the week of the benchmarks, Monday 4 March 2030 (New York).
var benchWeek = time.Date(2030, 3, 4, 0, 0, 0, 0, mustZone("America/New_York"))

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// deskBench is the practice of the week, served behind session
// authentication, with a front desk session.
type deskBench struct {
	engine   *carebook.Engine
	srv      *refserver.Server
	pages    *pages
	practice tenant.PracticeID
	token    string
}

// npi makes a valid NPI from n (its check digit found by trial).
func npi(n int) string {
	base := fmt.Sprintf("18%07d", n)
	for d := range 10 {
		if s := base + strconv.Itoa(d); scheduling.ValidNPI(s) {
			return s
		}
	}
	panic("no NPI for " + base)
}

func newDeskBench(b *testing.B) *deskBench {
	b.Helper()
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Staff, ID: "bench"})
	st := sqltest.SQLite(b)
	clk := clock.NewFixed(benchWeek.Add(-24 * time.Hour))
	e := carebook.NewWithStore(st, carebook.WithClock(clk))
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	g, err := e.Tenants.CreateGroup(ctx, "Bench group")
	must(err)
	p, err := e.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Bench clinic"})
	must(err)
	loc, err := e.Tenants.CreateLocation(ctx, p.ID, tenant.NewLocation{Name: "Main", TimeZone: "America/New_York",
		Address: tenant.Address{Line1: "1 Main St", City: "New York", Region: "NY", Country: "US"}, Geo: tenant.GeoPoint{Lat: 40.7, Lng: -74}})
	must(err)
	vt, err := e.Scheduling.CreateVisitType(ctx, p.ID, scheduling.NewVisitType{Name: "Check-up", Duration: 20 * time.Minute})
	must(err)
	var pats []*scheduling.Patient
	for i := range benchPatients {
		pt, err := e.Scheduling.CreatePatient(ctx, p.ID, scheduling.PatientInput{GivenName: "Patient", FamilyName: "Number " + strconv.Itoa(i),
			BirthDate: "1980-01-01"})
		must(err)
		pats = append(pats, pt)
	}
	statuses := []scheduling.Status{scheduling.StatusConfirmed, scheduling.StatusNew, scheduling.StatusArrived,
		scheduling.StatusOut, scheduling.StatusCanceled, scheduling.StatusNoVisit}
	must(st.InTx(ctx, func(ctx context.Context) error {
		for i := range benchProviders {
			pr, err := e.Scheduling.CreateProvider(ctx, p.ID, scheduling.NewProvider{NPI: npi(i), GivenName: "Provider", FamilyName: strconv.Itoa(i),
				LocationIDs: []tenant.LocationID{loc.ID}})
			if err != nil {
				return err
			}
			blk, err := e.Scheduling.CreateBlock(ctx, p.ID, scheduling.NewBlock{ProviderID: pr.ID, BlockInput: scheduling.BlockInput{
				LocationID: loc.ID, Start: benchWeek.Add(8 * time.Hour), End: benchWeek.Add(16 * time.Hour), RRule: "FREQ=DAILY", Capacity: 1}})
			if err != nil {
				return err
			}
			for d := range 7 {
				for k := range benchPerDay {
					start := time.Date(2030, 3, 4+d, 8, 20*k, 0, 0, benchWeek.Location()).UTC()
					// At one time, 40 distinct patients.
					pt := pats[(i+benchProviders*((d*benchPerDay+k)%(benchPatients/benchProviders)))%benchPatients]
					now := clk.Now()
					a := &scheduling.Appointment{ID: e.IDs.New(), PracticeID: p.ID, ProviderID: pr.ID, LocationID: loc.ID, BlockID: blk.ID,
						VisitTypeID: vt.ID, PatientID: pt.ID, Start: start, End: start.Add(20 * time.Minute), HoldStart: start,
						HoldEnd: start.Add(20 * time.Minute), Seat: 1, Status: statuses[(i+k)%len(statuses)], ResourceIDs: []scheduling.ResourceID{},
						BookedBy: "staff:bench", CreatedAt: now, UpdatedAt: now}
					c := &scheduling.Change{ID: e.IDs.New(), PracticeID: p.ID, AppointmentID: a.ID, Action: "book", To: a.Status, By: a.BookedBy, At: now}
					if err := st.Scheduling.InsertAppointment(ctx, a, c); err != nil {
						return err
					}
					if err := benchPayment(ctx, st.Billing, a, (d*benchPerDay+k)%benchPayEvery); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}))
	tok, _, err := e.Identity.CreateInvitation(ctx, p.ID, "desk@bench.example", rbac.FrontDesk, identity.AccountID{})
	must(err)
	acct, _, err := e.Identity.AcceptInvitation(ctx, tok, "a long bench password")
	must(err)
	_, err = e.RBAC.GrantAsSystem(ctx, rbac.NewGrant{AccountID: acct.ID, RoleID: rbac.FrontDeskID, Scope: rbac.PracticeScope(g.ID, p.ID)})
	must(err)
	session, _, err := e.Login(context.Background(), identity.LoginRequest{Identifier: "desk@bench.example", Password: "a long bench password", Device: "bench"})
	must(err)
	srv := refserver.New(e, refserver.Options{Authenticate: refserver.SessionAuth(e.Identity), RateLimit: refserver.RateLimit{PerIP: -1, PerAccount: -1}},
		api.Module, Module)
	return &deskBench{engine: e, srv: srv, pages: &pages{engine: e, srv: srv, opts: srv.Options()}, practice: p.ID, token: session}
}

// benchPayEvery: of every benchPayEvery appointments, one is paid, one
// owes a fee, one was paid and partly refunded, and the rest have no
// payment (1,680 payments in the week).
const benchPayEvery = 10

// benchPayment writes the payment of appointment a for its place n in
// every benchPayEvery (see there), straight to the store.
func benchPayment(ctx context.Context, st billing.Store, a *scheduling.Appointment, n int) error {
	if n > 2 {
		return nil
	}
	p, err := billing.NewPayment(uuid.New(), a.PracticeID, billing.Money{Amount: 4500, Currency: "USD"}, billing.Method{Kind: billing.MethodCash})
	if err != nil {
		return err
	}
	by := actor.Actor{Kind: actor.Staff, ID: "bench"}
	pt, appt := a.PatientID, a.ID
	p.Provider, p.Purpose, p.Patient, p.Appointment, p.CreatedAt, p.CreatedBy = billing.ProviderDesk, billing.PurposeVisit, &pt, &appt, a.CreatedAt, by
	if n == 1 {
		p.Purpose = billing.PurposeNoShowFee
	}
	if err := st.CreatePayment(ctx, p); err != nil || n == 1 {
		return err
	}
	steps := []billing.Result{{Ref: billing.Ref(p.ID.String()), Kind: billing.EntryCharged, Amount: p.Amount, At: a.CreatedAt}}
	if n == 2 {
		steps = append(steps, billing.Result{Ref: billing.Ref(p.ID.String()), Kind: billing.EntryRefunded, Amount: billing.Money{Amount: 500, Currency: "USD"}, At: a.CreatedAt})
	}
	for _, r := range steps {
		e, err := p.Record(r, p.KeyFor(billing.OpPurchase), by, "")
		if err != nil {
			return err
		}
		if err := st.AppendEntry(ctx, p, e); err != nil {
			return err
		}
	}
	return nil
}

// get answers a GET of path as the front desk, failing unless 200.
func (d *deskBench) get(b *testing.B, path string, header http.Header) int {
	r := httptest.NewRequest("GET", path, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	d.srv.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("GET %s: %d\n%.500s", path, w.Code, w.Body.String())
	}
	return w.Body.Len()
}

// BenchmarkDeskWeekPage renders the front desk's week of 5,600
// appointments: "render" is the page from the calendar's entries (the
// grid and its template), "request" the whole GET of the page (session,
// authorization and its activity-log entry, the calendar's queries, the
// navigation's count, the render).
func BenchmarkDeskWeekPage(b *testing.B) {
	d := newDeskBench(b)
	ctx := context.Background()
	f, err := d.pages.facts(ctx, d.practice)
	if err != nil {
		b.Fatal(err)
	}
	cq := calendarQuery{Week: true, Day: benchWeek}
	from, to := cq.span()
	entries, err := d.engine.Scheduling.Calendar(ctx, d.practice, scheduling.CalendarQuery{From: from, To: to})
	if err != nil {
		b.Fatal(err)
	}
	if len(entries) != benchProviders*7*benchPerDay {
		b.Fatalf("%d appointments in the week, want %d", len(entries), benchProviders*7*benchPerDay)
	}
	ids := make([]uuid.UUID, len(entries))
	for i := range entries {
		ids[i] = entries[i].Appointment.ID
	}
	list, err := d.engine.Billing.Store().Payments(ctx, d.practice, billing.PaymentFilter{Appointments: ids})
	if err != nil {
		b.Fatal(err)
	}
	pay, err := billing.Standings(list)
	if err != nil || len(pay) != len(entries)*3/benchPayEvery {
		b.Fatalf("%d appointments with a payment standing, want %d (%v)", len(pay), len(entries)*3/benchPayEvery, err)
	}
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		var n int64
		cpu := startCPU()
		for b.Loop() {
			v := &view{Lang: "en", cat: catalogs["en"], Requests: -1}
			v.Title = v.T("desk.calendar.title")
			p := &calendarPage{view: v, Base: practicePath(d.practice)}
			d.pages.fillCalendar(p, f, cq, entries, pay)
			w := &countingWriter{header: http.Header{}}
			if err := d.pages.render(w, http.StatusOK, "desk_calendar.html", p); err != nil {
				b.Fatal(err)
			}
			n = w.n
		}
		cpu.report(b)
		b.ReportMetric(float64(n), "bytes/page")
	})
	b.Run("request", func(b *testing.B) {
		h := http.Header{"Cookie": {refserver.SessionCookie + "=" + d.token}}
		path := practicePath(d.practice) + "/calendar?view=week&day=2030-03-04"
		var n int
		cpu := startCPU()
		for b.Loop() {
			n = d.get(b, path, h)
		}
		cpu.report(b)
		b.ReportMetric(float64(n), "bytes/page")
	})
}

// BenchmarkDeskWeekJSON is the baseline: the API's GET /calendar of the
// same week, as JSON, the whole request.
func BenchmarkDeskWeekJSON(b *testing.B) {
	d := newDeskBench(b)
	h := http.Header{"Authorization": {"Bearer " + d.token}}
	path := "/api/v1/practices/" + d.practice.String() + "/calendar?from=" + benchWeek.Format(time.RFC3339) +
		"&to=" + benchWeek.AddDate(0, 0, 7).Format(time.RFC3339)
	var n int
	cpu := startCPU()
	for b.Loop() {
		n = d.get(b, path, h)
	}
	cpu.report(b)
	b.ReportMetric(float64(n), "bytes/page")
}

// cpuClock reads the process's CPU time (user and system, every thread:
// the GC's too), which other processes on a shared machine slow less
// than the wall clock.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

// report adds the CPU time per operation since c started as cpu-ns/op.
func (c cpuClock) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
	}
}

// countingWriter is a ResponseWriter that counts what is written.
type countingWriter struct {
	header http.Header
	n      int64
}

func (c *countingWriter) Header() http.Header { return c.header }
func (c *countingWriter) WriteHeader(int)     {}
func (c *countingWriter) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	return len(b), nil
}

var _ io.Writer = (*countingWriter)(nil)
