package api

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// BenchmarkAuthOverhead measures what authentication and authorization add
// to a cheap route: GET …/visit-types of a small SQLite practice through the
// whole handler stack, signed in with a session token behind SessionAuth and
// the route's authorization ("session"), beside the same request in header
// mode, where neither runs ("none"). Both servers share one engine and one
// database, so the difference is the auth work: finding and touching the
// session, loading the account's grants, deciding the route's access.
func BenchmarkAuthOverhead(b *testing.B) {
	ctx := context.Background()
	st := sqltest.SQLite(b)
	eng := carebook.NewWithStore(st, carebook.WithClock(clock.NewFixed(testNow)),
		carebook.WithIdentityConfig(identity.Config{Argon2: fastArgon2}))
	g, err := eng.Tenants.CreateGroup(ctx, "Harbor Health")
	if err != nil {
		b.Fatal(err)
	}
	p, err := eng.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Pediatrics"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 5 {
		if _, err := eng.Scheduling.CreateVisitType(ctx, p.ID, scheduling.NewVisitType{
			Name: fmt.Sprintf("Visit %d", i), Duration: 30 * time.Minute}); err != nil {
			b.Fatal(err)
		}
	}
	_, tok := benchSignIn(b, eng, p.ID, rbac.PracticeAdminID, rbac.PracticeScope(g.ID, p.ID))

	path := "/api/v1/practices/" + p.ID.String() + "/visit-types"
	for _, c := range []struct {
		name string
		srv  *refserver.Server
		set  func(*http.Request)
	}{
		{"session", newServer(eng, refserver.Options{Authenticate: refserver.SessionAuth(eng.Identity)}),
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }},
		{"none", newServer(eng, refserver.Options{}),
			func(r *http.Request) { r.Header.Set(refserver.ActorHeader, staff) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			serve := func() *httptest.ResponseRecorder {
				r := httptest.NewRequest("GET", path, nil)
				c.set(r)
				w := httptest.NewRecorder()
				c.srv.ServeHTTP(w, r)
				return w
			}
			if w := serve(); w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
			b.ReportAllocs()
			for b.Loop() {
				if w := serve(); w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// benchSignIn makes a staff account (invited to practice), grants it role
// at scope and signs it in, returning the account and its session token.
func benchSignIn(b *testing.B, eng *carebook.Engine, practice tenant.PracticeID, role rbac.RoleID, scope rbac.Scope) (identity.AccountID, string) {
	b.Helper()
	ctx := context.Background()
	inv, _, err := eng.Identity.CreateInvitation(ctx, practice, "admin@example.com", "practice_admin", uuid.Nil)
	if err != nil {
		b.Fatal(err)
	}
	acct, _, err := eng.Identity.AcceptInvitation(ctx, inv, password)
	if err != nil {
		b.Fatal(err)
	}
	if err := eng.Store().RBAC.CreateGrant(ctx, &rbac.Grant{ID: uuid.New(), AccountID: acct.ID, RoleID: role,
		Scope: scope, CreatedAt: testNow, CreatedBy: "system:bench"}); err != nil {
		b.Fatal(err)
	}
	tok, _, err := eng.Identity.Login(ctx, identity.LoginRequest{Identifier: "admin@example.com", Password: password, Device: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return acct.ID, tok
}

// benchDay is the first day of the booking benchmarks' calendars, the day
// after testNow.
var benchDay = time.Date(2030, 3, 5, 0, 0, 0, 0, time.UTC)

// benchPractice is a practice of group with providers working every day
// 07:00 to 19:00 UTC from benchDay (24 half hours a day), a visit type of
// 30 minutes, and patients with a phone and an email, so that each booking
// writes its messages to the outbox.
type benchPractice struct {
	id        tenant.PracticeID
	visitType scheduling.VisitTypeID
	providers []scheduling.ProviderID
	patients  []scheduling.PatientID
}

// benchNPIs numbers the providers of a benchmark's practices, each NPI
// being taken once.
var benchNPIs atomic.Int64

func newBenchPractice(b *testing.B, eng *carebook.Engine, group tenant.GroupID, providers, patients int) *benchPractice {
	b.Helper()
	ctx := context.Background()
	p, err := eng.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: group, Name: "Bench Clinic"})
	if err != nil {
		b.Fatal(err)
	}
	bp := &benchPractice{id: p.ID}
	l, err := eng.Tenants.CreateLocation(ctx, p.ID, tenant.NewLocation{Name: "Main", TimeZone: "UTC"})
	if err != nil {
		b.Fatal(err)
	}
	vt, err := eng.Scheduling.CreateVisitType(ctx, p.ID, scheduling.NewVisitType{Name: "Visit", Duration: 30 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	bp.visitType = vt.ID
	for range providers {
		pr, err := eng.Scheduling.CreateProvider(ctx, p.ID, scheduling.NewProvider{NPI: npi(b, fmt.Sprintf("18%07d", benchNPIs.Add(1))),
			GivenName: "Doc", FamilyName: "Bench", Specialties: []string{"family-medicine"}, LocationIDs: []tenant.LocationID{l.ID}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := eng.Scheduling.CreateBlock(ctx, p.ID, scheduling.NewBlock{ProviderID: pr.ID, BlockInput: scheduling.BlockInput{
			LocationID: l.ID, Start: benchDay.Add(7 * time.Hour), End: benchDay.Add(19 * time.Hour), RRule: "FREQ=DAILY"}}); err != nil {
			b.Fatal(err)
		}
		bp.providers = append(bp.providers, pr.ID)
	}
	for i := range patients {
		pt, err := eng.Scheduling.CreatePatient(ctx, p.ID, scheduling.PatientInput{GivenName: "Pat", FamilyName: fmt.Sprintf("No. %d", i),
			BirthDate: "1980-01-01", Phone: fmt.Sprintf("+1202555%04d", i), Email: fmt.Sprintf("pat%d@example.com", i), Language: "en"})
		if err != nil {
			b.Fatal(err)
		}
		bp.patients = append(bp.patients, pt.ID)
	}
	return bp
}

// bookingPlan hands out bookings that never meet: booking n goes to the
// (n mod P)-th of the P providers of its practices, at that provider's
// (n div P)-th half hour from benchDay, with patient n mod len(patients) of
// the provider's practice (so a patient's bookings at one time, which are
// less than P apart, are never the same patient's, when each practice has
// at least as many patients as providers).
type bookingPlan struct {
	seats []planSeat
	n     atomic.Int64
}

type planSeat struct {
	practice *benchPractice
	provider scheduling.ProviderID
}

func newBookingPlan(practices ...*benchPractice) *bookingPlan {
	pl := &bookingPlan{}
	for _, p := range practices {
		for _, pr := range p.providers {
			pl.seats = append(pl.seats, planSeat{p, pr})
		}
	}
	return pl
}

// next returns the next booking and its practice.
func (pl *bookingPlan) next() (*benchPractice, scheduling.BookRequest) {
	n := pl.n.Add(1)
	s := pl.seats[n%int64(len(pl.seats))]
	k := int(n / int64(len(pl.seats)))
	start := benchDay.AddDate(0, 0, k/24).Add(7*time.Hour + time.Duration(k%24)*30*time.Minute)
	return s.practice, scheduling.BookRequest{PatientID: s.practice.patients[n%int64(len(s.practice.patients))],
		ProviderID: s.provider, VisitTypeID: s.practice.visitType, Start: start}
}

// bookThroughEngine books through the Engine what the server's booking
// route does in its request (see authorized and writePatientData): read
// the account's principal, and through the access guard authorize
// appointment.book over the patient, book (the observer writing the
// outbox messages) and append the allowed entry in one transaction. It is
// how an embedder books.
func bookThroughEngine(ctx context.Context, e *carebook.Engine, account identity.AccountID, practice tenant.PracticeID, in scheduling.BookRequest) error {
	pr, err := e.RBAC.Principal(ctx, account)
	if err != nil {
		return err
	}
	ctx = carebook.WithCaller(ctx, carebook.Caller{Actor: actor.Actor{Kind: actor.Staff, ID: account.String()}, Principal: pr})
	_, err = e.Book(ctx, practice, in)
	return err
}

// commitCounter reads PostgreSQL's count of committed transactions of a
// store's database (pg_stat_database.xact_commit), through a connection to
// the server's own database, whose queries count there.
type commitCounter struct {
	st, admin *sqlstore.Store
	name      string
}

func newCommitCounter(b *testing.B, st *sqlstore.Store) *commitCounter {
	b.Helper()
	ctx := context.Background()
	admin, err := sqlstore.Open(ctx, sqltest.PostgresDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { admin.Close() })
	c := &commitCounter{st: st, admin: admin}
	if err := st.DB().QueryRowContext(ctx, "SELECT current_database()").Scan(&c.name); err != nil {
		b.Fatal(err)
	}
	return c
}

// read returns the count once every backend of the store has reported.
// A backend sends its counts at most once a second, and when it exits
// (PostgreSQL 15: pg_stat_force_next_flush acts only on the backend that
// calls it), so read closes the store's idle connections and waits until
// their backends are gone. Then it opens conns connections again, so that
// the next run does not pay for them, and counts the transaction each of
// them starts with as done already.
func (c *commitCounter) read(b *testing.B, conns int) int64 {
	b.Helper()
	ctx := context.Background()
	db := c.st.DB()
	db.SetMaxIdleConns(0)
	db.SetMaxIdleConns(16) // as sqlstore.Open sets it
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var left int
		if err := c.admin.DB().QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = ?", c.name).Scan(&left); err != nil {
			b.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d backends of %s still live", left, c.name)
		}
	}
	var n int64
	if err := c.admin.DB().QueryRowContext(ctx, "SELECT xact_commit FROM pg_stat_database WHERE datname = ?", c.name).Scan(&n); err != nil {
		b.Fatal(err)
	}
	held := make([]*sql.Conn, conns)
	for i := range held {
		var err error
		if held[i], err = db.DB.Conn(ctx); err != nil {
			b.Fatal(err)
		}
	}
	for _, h := range held {
		h.Close()
	}
	return n + int64(conns)
}

// BenchmarkBookHTTP books with 8 concurrent clients on PostgreSQL through
// the whole handler stack (in process, httptest without a network: session
// auth with a real session token of a group administrator, the route's
// authorization, decoding, the booking with its outbox messages and its
// activity-log entry), beside the same bookings through the Engine
// (bookThroughEngine), in the same run: on 1 practice of 50 providers, and
// spread over 50 practices of 1 provider each (each practice has its own
// activity-log chain). It reports bookings/s, the HTTP path's rate as a
// share of the Engine path's measured just before it (%engine), and
// PostgreSQL's committed transactions per booking (commits/booking: the
// xact_commit delta over the run, read transactions included).
func BenchmarkBookHTTP(b *testing.B) {
	ctx := context.Background()
	st := sqltest.Postgres(b)
	eng := carebook.NewWithStore(st, carebook.WithClock(clock.NewFixed(testNow)),
		carebook.WithIdentityConfig(identity.Config{Argon2: fastArgon2}))
	g, err := eng.Tenants.CreateGroup(ctx, "Bench Health")
	if err != nil {
		b.Fatal(err)
	}
	one := newBookingPlan(newBenchPractice(b, eng, g.ID, 50, 100))
	var fifty []*benchPractice
	for range 50 {
		fifty = append(fifty, newBenchPractice(b, eng, g.ID, 1, 2))
	}
	spread := newBookingPlan(fifty...)
	account, tok := benchSignIn(b, eng, one.seats[0].practice.id, rbac.GroupAdminID, rbac.GroupScope(g.ID))
	srv := newServer(eng, refserver.Options{Authenticate: refserver.SessionAuth(eng.Identity)})
	staffCtx := actor.With(ctx, actor.Actor{Kind: actor.Staff, ID: account.String()})
	commits := newCommitCounter(b, st)
	parallel := (8 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
	clients := parallel * runtime.GOMAXPROCS(0)

	book := map[string]func(pl *bookingPlan) error{
		"engine": func(pl *bookingPlan) error {
			p, in := pl.next()
			return bookThroughEngine(staffCtx, eng, account, p.id, in)
		},
		"http": func(pl *bookingPlan) error {
			p, in := pl.next()
			body := fmt.Sprintf(`{"patient_id":%q,"provider_id":%q,"visit_type_id":%q,"start":%q}`,
				in.PatientID, in.ProviderID, in.VisitTypeID, in.Start.Format(time.RFC3339))
			r := httptest.NewRequest("POST", "/api/v1/practices/"+p.id.String()+"/appointments", strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+tok)
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != http.StatusCreated {
				return fmt.Errorf("status %d: %s", w.Code, w.Body)
			}
			return nil
		},
	}
	for _, c := range []struct {
		name string
		plan *bookingPlan
	}{{"practices=1", one}, {"practices=50", spread}} {
		var engineRate float64
		for _, path := range []string{"engine", "http"} {
			b.Run(c.name+"/"+path, func(b *testing.B) {
				before := commits.read(b, clients)
				b.ResetTimer()
				b.SetParallelism(parallel)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := book[path](c.plan); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				rate := float64(b.N) / b.Elapsed().Seconds()
				b.ReportMetric(rate, "bookings/s")
				b.ReportMetric(float64(commits.read(b, clients)-before)/float64(b.N), "commits/booking")
				if path == "engine" {
					engineRate = rate
				} else if engineRate > 0 {
					b.ReportMetric(100*rate/engineRate, "%engine")
				}
			})
		}
	}
}

// BenchmarkOpenSlotsHTTP is the open-slot search of one provider over 14
// days through the whole handler stack (in process, httptest without a
// network; session auth with a real session token, the route's
// authorization, decoding, encoding), beside the same search in process
// through the Engine's Scheduling service, on the same data: a provider
// working 07:00 to 19:00 every day, half of whose half hours are booked.
// The HTTP path reports its time as a multiple of the service's, measured
// just before it (x-service).
func BenchmarkOpenSlotsHTTP(b *testing.B) {
	ctx := context.Background()
	st := sqltest.Postgres(b)
	eng := carebook.NewWithStore(st, carebook.WithClock(clock.NewFixed(testNow)),
		carebook.WithIdentityConfig(identity.Config{Argon2: fastArgon2}))
	g, err := eng.Tenants.CreateGroup(ctx, "Bench Health")
	if err != nil {
		b.Fatal(err)
	}
	p := newBenchPractice(b, eng, g.ID, 1, 4)
	account, tok := benchSignIn(b, eng, p.id, rbac.PracticeAdminID, rbac.PracticeScope(g.ID, p.id))
	staffCtx := actor.With(ctx, actor.Actor{Kind: actor.Staff, ID: account.String()})
	for i := range 14 * 12 {
		start := benchDay.AddDate(0, 0, i/12).Add(7*time.Hour + time.Duration(i%12)*time.Hour)
		if _, err := eng.Scheduling.Book(staffCtx, p.id, scheduling.BookRequest{PatientID: p.patients[i%len(p.patients)],
			ProviderID: p.providers[0], VisitTypeID: p.visitType, Start: start}); err != nil {
			b.Fatal(err)
		}
	}
	from, to := benchDay, benchDay.AddDate(0, 0, 14)
	q := scheduling.SlotQuery{ProviderIDs: p.providers, VisitTypeID: p.visitType, From: from, To: to}
	path := fmt.Sprintf("/api/v1/practices/%s/slots?provider_id=%s&visit_type_id=%s&from=%s&to=%s", p.id, p.providers[0], p.visitType,
		from.Format(time.RFC3339), to.Format(time.RFC3339))
	srv := newServer(eng, refserver.Options{Authenticate: refserver.SessionAuth(eng.Identity)})
	const want = 14 * 12 // the free half hours
	var serviceTime float64

	b.Run("service", func(b *testing.B) {
		for b.Loop() {
			s, err := eng.Scheduling.OpenSlots(staffCtx, p.id, q)
			if err != nil {
				b.Fatal(err)
			}
			if len(s) != want {
				b.Fatalf("%d open slots, want %d", len(s), want)
			}
		}
		serviceTime = float64(b.Elapsed()) / float64(b.N)
	})
	b.Run("http", func(b *testing.B) {
		for b.Loop() {
			r := httptest.NewRequest("GET", path, nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
		if serviceTime > 0 {
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/serviceTime, "x-service")
		}
	})
}
