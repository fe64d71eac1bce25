package schedtest

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// zone is where the suite's input times live: not UTC, so that a store that
// returns times in the caller's zone instead of UTC is caught.
var zone = time.FixedZone("UTC-5", -5*60*60)

// day0 is midnight of the first day the suite's calendars use.
var day0 = time.Date(2031, time.March, 10, 0, 0, 0, 0, zone)

// tm returns day d (from day0) at hh:mm in zone.
func tm(d, hh, mm int) time.Time {
	return day0.AddDate(0, 0, d).Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
}

// newID returns a fresh UUIDv7.
func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// sortedIDs returns n fresh IDs in ascending order.
func sortedIDs(n int) []uuid.UUID {
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = newID()
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return ids
}

// ts returns a distinct, increasing timestamp with a microsecond part, in zone,
// for CreatedAt and UpdatedAt fields.
func (e *env) ts() time.Time {
	e.clock++
	return time.Date(2031, time.January, 2, 3, 4, 5, 0, zone).
		Add(time.Duration(e.clock)*time.Second + 123456*time.Microsecond)
}

// npiOf returns a 10-digit NPI whose first nine digits are base and whose
// check digit passes the Luhn check with the prefix 80840, so 123456789
// gives 1234567893.
func npiOf(base int) string {
	payload := fmt.Sprintf("%09d", base)
	sum := 0
	double := true
	for i := len("80840"+payload) - 1; i >= 0; i-- {
		d := int(("80840" + payload)[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return payload + string(rune('0'+(10-sum%10)%10))
}

// nextNPI returns an NPI not yet used in this subtest.
func (e *env) nextNPI() string {
	e.npis++
	return npiOf(123456788 + e.npis)
}

// apply runs mods on v.
func apply[T any](v *T, mods []func(*T)) *T {
	for _, m := range mods {
		m(v)
	}
	return v
}

func (e *env) mustGroup(name string) *tenant.Group {
	e.t.Helper()
	g := &tenant.Group{ID: newID(), Name: name, CreatedAt: e.ts()}
	e.ok(e.ten.CreateGroup(e.ctx, g), "CreateGroup")
	return g
}

// mustPractice creates a practice named name in group (a new group when
// group is the zero ID).
func (e *env) mustPractice(group tenant.GroupID, name string) *tenant.Practice {
	e.t.Helper()
	if group == uuid.Nil {
		group = e.mustGroup("Group of " + name).ID
	}
	p := &tenant.Practice{
		ID:        newID(),
		GroupID:   group,
		Name:      name,
		Policy:    tenant.DefaultPolicy,
		CreatedAt: e.ts(),
	}
	e.ok(e.ten.CreatePractice(e.ctx, p), "CreatePractice")
	return p
}

func (e *env) mustLocation(practice tenant.PracticeID, name string) *tenant.Location {
	e.t.Helper()
	l := &tenant.Location{
		ID:         newID(),
		PracticeID: practice,
		Name:       name,
		TimeZone:   "America/New_York",
		Address: tenant.Address{
			Line1:      "1 Main Street",
			Line2:      "Suite 200",
			City:       "Springfield",
			Region:     "NY",
			PostalCode: "10001",
			Country:    "US",
		},
		Geo:       tenant.GeoPoint{Lat: 40.7128, Lng: -74.006},
		CreatedAt: e.ts(),
	}
	e.ok(e.ten.CreateLocation(e.ctx, l), "CreateLocation")
	return l
}

func (e *env) newProvider(practice tenant.PracticeID, mods ...func(*scheduling.Provider)) *scheduling.Provider {
	return apply(&scheduling.Provider{
		ID:          newID(),
		PracticeID:  practice,
		NPI:         e.nextNPI(),
		GivenName:   "Ada",
		FamilyName:  "Adams",
		Specialties: []string{},
		LocationIDs: []tenant.LocationID{},
		CreatedAt:   e.ts(),
	}, mods)
}

func (e *env) mustProvider(practice tenant.PracticeID, mods ...func(*scheduling.Provider)) *scheduling.Provider {
	e.t.Helper()
	p := e.newProvider(practice, mods...)
	e.ok(e.s.CreateProvider(e.ctx, p), "CreateProvider")
	return p
}

func (e *env) mustResource(practice tenant.PracticeID, location tenant.LocationID, name string, kind scheduling.ResourceKind) *scheduling.Resource {
	e.t.Helper()
	r := &scheduling.Resource{
		ID:         newID(),
		PracticeID: practice,
		LocationID: location,
		Name:       name,
		Kind:       kind,
		CreatedAt:  e.ts(),
	}
	e.ok(e.s.CreateResource(e.ctx, r), "CreateResource")
	return r
}

func (e *env) mustPatient(practice tenant.PracticeID, mods ...func(*scheduling.Patient)) *scheduling.Patient {
	e.t.Helper()
	now := e.ts()
	p := apply(&scheduling.Patient{
		ID:         newID(),
		PracticeID: practice,
		GivenName:  "Pat",
		FamilyName: "Parker",
		BirthDate:  "1980-02-29",
		Phone:      "+12025550143",
		Email:      "pat@example.com",
		Language:   "en",
		CreatedAt:  now,
		UpdatedAt:  now,
	}, mods)
	e.ok(e.s.CreatePatient(e.ctx, p), "CreatePatient")
	return p
}

func (e *env) mustVisitType(practice tenant.PracticeID, mods ...func(*scheduling.VisitType)) *scheduling.VisitType {
	e.t.Helper()
	v := apply(&scheduling.VisitType{
		ID:           newID(),
		PracticeID:   practice,
		Name:         "Checkup",
		Duration:     30 * time.Minute,
		BufferBefore: 5 * time.Minute,
		BufferAfter:  10 * time.Minute,
		Step:         15 * time.Minute,
		ResourceIDs:  []scheduling.ResourceID{},
		Audience:     scheduling.AnyPatient,
		PriceMinor:   12500,
		Currency:     "USD",
		CreatedAt:    e.ts(),
	}, mods)
	e.ok(e.s.CreateVisitType(e.ctx, v), "CreateVisitType")
	return v
}

func (e *env) newBlock(practice tenant.PracticeID, provider scheduling.ProviderID, location tenant.LocationID, mods ...func(*scheduling.Block)) *scheduling.Block {
	now := e.ts()
	return apply(&scheduling.Block{
		ID:         newID(),
		PracticeID: practice,
		ProviderID: provider,
		LocationID: location,
		TimeZone:   "America/New_York",
		Start:      tm(0, 8, 0),
		End:        tm(0, 17, 0),
		RRule:      "FREQ=DAILY",
		ExDates:    []string{},
		Overrides:  []scheduling.Override{},
		Capacity:   2,
		CreatedAt:  now,
		UpdatedAt:  now,
	}, mods)
}

func (e *env) mustBlock(practice tenant.PracticeID, provider scheduling.ProviderID, location tenant.LocationID, mods ...func(*scheduling.Block)) *scheduling.Block {
	e.t.Helper()
	b := e.newBlock(practice, provider, location, mods...)
	e.ok(e.s.CreateBlock(e.ctx, b), "CreateBlock")
	return b
}

// fixture is a practice with what an appointment needs: a location, a
// provider working there, a visit type, a patient and a recurring block.
type fixture struct {
	p    *tenant.Practice
	loc  *tenant.Location
	prov *scheduling.Provider
	vt   *scheduling.VisitType
	pat  *scheduling.Patient
	blk  *scheduling.Block
}

func (e *env) mustFixture(name string) *fixture {
	e.t.Helper()
	w := &fixture{p: e.mustPractice(uuid.Nil, name)}
	w.loc = e.mustLocation(w.p.ID, "Main")
	w.prov = e.mustProvider(w.p.ID, func(p *scheduling.Provider) {
		p.LocationIDs = []tenant.LocationID{w.loc.ID}
		p.Specialties = []string{"family-medicine"}
	})
	w.vt = e.mustVisitType(w.p.ID)
	w.pat = e.mustPatient(w.p.ID)
	w.blk = e.mustBlock(w.p.ID, w.prov.ID, w.loc.ID)
	return w
}

// mustProviderIn adds a provider with its own block at w's location and
// returns both.
func (e *env) mustProviderIn(w *fixture, mods ...func(*scheduling.Provider)) (*scheduling.Provider, *scheduling.Block) {
	e.t.Helper()
	p := e.mustProvider(w.p.ID, append([]func(*scheduling.Provider){func(p *scheduling.Provider) {
		p.LocationIDs = []tenant.LocationID{w.loc.ID}
	}}, mods...)...)
	return p, e.mustBlock(w.p.ID, p.ID, w.loc.ID)
}

// appt returns, without storing it, a confirmed 30-minute appointment in w
// starting at start, whose hold is the visit itself.
func (e *env) appt(w *fixture, start time.Time, mods ...func(*scheduling.Appointment)) *scheduling.Appointment {
	now := e.ts()
	end := start.Add(30 * time.Minute)
	return apply(&scheduling.Appointment{
		ID:          newID(),
		PracticeID:  w.p.ID,
		ProviderID:  w.prov.ID,
		LocationID:  w.loc.ID,
		BlockID:     w.blk.ID,
		VisitTypeID: w.vt.ID,
		PatientID:   w.pat.ID,
		Start:       start,
		End:         end,
		HoldStart:   start,
		HoldEnd:     end,
		Seat:        1,
		Status:      scheduling.StatusConfirmed,
		ResourceIDs: []scheduling.ResourceID{},
		BookedBy:    "staff:" + w.p.ID.String(),
		CreatedAt:   now,
		UpdatedAt:   now,
	}, mods)
}

func (e *env) mustInsert(a *scheduling.Appointment) *scheduling.Appointment {
	e.t.Helper()
	e.ok(e.s.InsertAppointment(e.ctx, a), "InsertAppointment(%s %v-%v)", a.Status, a.HoldStart, a.HoldEnd)
	return a
}

// mustAppt builds and stores an appointment.
func (e *env) mustAppt(w *fixture, start time.Time, mods ...func(*scheduling.Appointment)) *scheduling.Appointment {
	e.t.Helper()
	return e.mustInsert(e.appt(w, start, mods...))
}

// Appointment modifiers.

func withStatus(s scheduling.Status) func(*scheduling.Appointment) {
	return func(a *scheduling.Appointment) { a.Status = s }
}

func withSeat(n int) func(*scheduling.Appointment) {
	return func(a *scheduling.Appointment) { a.Seat = n }
}

func withResources(ids ...scheduling.ResourceID) func(*scheduling.Appointment) {
	return func(a *scheduling.Appointment) { a.ResourceIDs = ids }
}

// withSpan sets the visit to [start, start+d) and the hold to the visit
// widened by before and after.
func withSpan(start time.Time, d, before, after time.Duration) func(*scheduling.Appointment) {
	return func(a *scheduling.Appointment) {
		a.Start, a.End = start, start.Add(d)
		a.HoldStart, a.HoldEnd = a.Start.Add(-before), a.End.Add(after)
	}
}

func withProvider(p *scheduling.Provider, b *scheduling.Block) func(*scheduling.Appointment) {
	return func(a *scheduling.Appointment) { a.ProviderID, a.BlockID = p.ID, b.ID }
}

func withPatient(p *scheduling.Patient) func(*scheduling.Appointment) {
	return func(a *scheduling.Appointment) { a.PatientID = p.ID }
}

// apptApart is appt with a patient of its own (unless mods set one), for
// tests of the provider's and resources' rules, which the patient's rule
// (one visit at a time) must not decide.
func (e *env) apptApart(w *fixture, start time.Time, mods ...func(*scheduling.Appointment)) *scheduling.Appointment {
	e.t.Helper()
	return e.appt(w, start, append([]func(*scheduling.Appointment){withPatient(e.mustPatient(w.p.ID))}, mods...)...)
}

// mustApptApart builds and stores an appointment with a patient of its own.
func (e *env) mustApptApart(w *fixture, start time.Time, mods ...func(*scheduling.Appointment)) *scheduling.Appointment {
	e.t.Helper()
	return e.mustInsert(e.apptApart(w, start, mods...))
}
