package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/refserver/api"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
)

// bookingBench is the demo clinic behind the reference server, with the
// demo patient signed in, and the search the booking page makes: 14 days
// of Dr. Chen's open times for a new patient visit at Brooklyn Heights.
type bookingBench struct {
	engine  *carebook.Engine
	srv     *refserver.Server
	token   string
	patient scheduling.PatientID
	query   scheduling.SlotQuery
	page    string
	prac    tenant.PracticeID
}

func newBookingBench(b *testing.B) *bookingBench {
	b.Helper()
	ctx := context.Background()
	e := carebook.NewWithStore(sqltest.SQLite(b), carebook.WithClock(clock.NewFixed(testNow)), carebook.WithLinks(testLinkKey, testPublicURL))
	res, err := demo.SeedWithAdmin(ctx, e)
	if err != nil {
		b.Fatal(err)
	}
	bb := &bookingBench{engine: e, prac: res.PracticeID,
		srv: refserver.New(e, refserver.Options{Authenticate: refserver.SessionAuth(e.Identity),
			RateLimit: refserver.RateLimit{PerIP: -1, PerAccount: -1}}, api.Module, Module)}
	tok, _, err := e.Login(ctx, identity.LoginRequest{Identifier: demo.PatientEmail, Password: res.PatientPassword, Device: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	bb.token = tok
	pts, err := e.Scheduling.Patients(ctx, res.PracticeID, scheduling.PatientFilter{Email: demo.PatientEmail, Limit: 1})
	if err != nil || len(pts) != 1 {
		b.Fatal("no demo patient", err)
	}
	bb.patient = pts[0].ID
	var vt scheduling.VisitTypeID
	vts, _ := e.Scheduling.VisitTypes(ctx, res.PracticeID)
	for _, v := range vts {
		if v.Name == "New patient visit" {
			vt = v.ID
		}
	}
	var loc *tenant.Location
	locs, _ := e.Tenants.Locations(ctx, res.PracticeID)
	for _, l := range locs {
		if l.Name == "Brooklyn Heights" {
			loc = l
		}
	}
	var chen scheduling.ProviderID
	provs, _ := e.Scheduling.Providers(ctx, res.PracticeID, scheduling.ProviderFilter{})
	for _, p := range provs {
		if p.FamilyName == "Chen" {
			chen = p.ID
		}
	}
	ny, _ := time.LoadLocation(loc.TimeZone)
	from := time.Date(2030, 3, 4, 0, 0, 0, 0, ny)
	bb.query = scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{chen}, VisitTypeID: vt, LocationID: &loc.ID,
		From: from, To: from.AddDate(0, 0, bookDays)}
	bb.page = "/p/" + res.PracticeID.String() + "/book?" + url.Values{"visit_type_id": {vt.String()}, "location_id": {loc.ID.String()},
		"provider_id": {chen.String()}, "from": {"2030-03-04"}}.Encode()
	return bb
}

// BenchmarkPatientBookingPage is the booking page with 14 days of one
// provider's open times, through the whole server (session, guard,
// choices, search, template), in process; compare it with
// BenchmarkPatientBookingSlots, the bare search it makes.
func BenchmarkPatientBookingPage(b *testing.B) {
	bb := newBookingBench(b)
	get := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", bb.page, nil)
		r.AddCookie(&http.Cookie{Name: refserver.SessionCookie, Value: bb.token})
		w := httptest.NewRecorder()
		bb.srv.ServeHTTP(w, r)
		return w
	}
	w := get()
	if w.Code != http.StatusOK || strings.Count(w.Body.String(), `name="slot"`) < 90 {
		b.Fatalf("booking page: %d, %d open times\n%.600s", w.Code, strings.Count(w.Body.String(), `name="slot"`), w.Body.String())
	}
	b.ResetTimer()
	for b.Loop() {
		if w := get(); w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkPatientBookingSlots is the open-slot search of the booking
// page, on its own, as the patient.
func BenchmarkPatientBookingSlots(b *testing.B) {
	bb := newBookingBench(b)
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Patient, ID: bb.patient.String()})
	slots, err := bb.engine.Scheduling.OpenSlots(ctx, bb.prac, bb.query)
	if err != nil || len(slots) < 90 {
		b.Fatalf("%d slots, %v", len(slots), err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := bb.engine.Scheduling.OpenSlots(ctx, bb.prac, bb.query); err != nil {
			b.Fatal(err)
		}
	}
}
