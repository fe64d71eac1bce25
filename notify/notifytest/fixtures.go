package notifytest

import (
	"fmt"
	"slices"
	"time"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Fixture is a practice with what messages are about: a location, a
// provider with a recurring block there, a visit type, a patient and one
// confirmed appointment of that patient.
type Fixture struct {
	Practice  *tenant.Practice
	Location  *tenant.Location
	Provider  *scheduling.Provider
	VisitType *scheduling.VisitType
	Block     *scheduling.Block
	Patient   *scheduling.Patient
	Appt      *scheduling.Appointment
}

// MustFixture creates a Fixture in a new group and practice named name.
func (e *Env) MustFixture(name string) *Fixture {
	e.T.Helper()
	g := &tenant.Group{ID: newID(), Name: "Group of " + name, CreatedAt: T0}
	e.ok(e.Tenants.CreateGroup(e.Ctx, g), "CreateGroup")
	f := &Fixture{Practice: &tenant.Practice{ID: newID(), GroupID: g.ID, Name: name, Policy: tenant.DefaultPolicy, CreatedAt: T0}}
	e.ok(e.Tenants.CreatePractice(e.Ctx, f.Practice), "CreatePractice")
	f.Location = &tenant.Location{
		ID: newID(), PracticeID: f.Practice.ID, Name: "Main", TimeZone: "America/New_York",
		Address: tenant.Address{Line1: "1 Main Street", Line2: "Suite 200", City: "Springfield",
			Region: "NY", PostalCode: "10001", Country: "US"},
		Geo: tenant.GeoPoint{Lat: 40.7128, Lng: -74.006}, CreatedAt: T0,
	}
	e.ok(e.Tenants.CreateLocation(e.Ctx, f.Location), "CreateLocation")
	e.npis++
	f.Provider = &scheduling.Provider{
		ID: newID(), PracticeID: f.Practice.ID, NPI: npiOf(123456788 + e.npis), GivenName: "Ada",
		FamilyName: "Adams", Specialties: []string{"family-medicine"},
		LocationIDs: []tenant.LocationID{f.Location.ID}, CreatedAt: T0,
	}
	e.ok(e.Scheduling.CreateProvider(e.Ctx, f.Provider), "CreateProvider")
	f.VisitType = &scheduling.VisitType{
		ID: newID(), PracticeID: f.Practice.ID, Name: "Checkup", Duration: 30 * time.Minute,
		Step: 15 * time.Minute, ResourceIDs: []scheduling.ResourceID{}, Audience: scheduling.AnyPatient,
		PriceMinor: 12500, Currency: "USD", CreatedAt: T0,
	}
	e.ok(e.Scheduling.CreateVisitType(e.Ctx, f.VisitType), "CreateVisitType")
	day := time.Date(2031, time.March, 10, 0, 0, 0, 0, zone)
	f.Block = &scheduling.Block{
		ID: newID(), PracticeID: f.Practice.ID, ProviderID: f.Provider.ID, LocationID: f.Location.ID,
		TimeZone: "America/New_York", Start: day.Add(8 * time.Hour), End: day.Add(17 * time.Hour),
		RRule: "FREQ=DAILY", ExDates: []string{}, Overrides: []scheduling.Override{}, Capacity: 4,
		CreatedAt: T0, UpdatedAt: T0,
	}
	e.ok(e.Scheduling.CreateBlock(e.Ctx, f.Block), "CreateBlock")
	f.Patient = e.MustPatient(f, "Pat", "+12025550143", "pat@example.com")
	f.Appt = e.MustAppt(f, f.Patient, T0.Add(48*time.Hour), scheduling.StatusConfirmed)
	return f
}

// MustPatient adds a patient to f's practice.
func (e *Env) MustPatient(f *Fixture, given, phone, email string) *scheduling.Patient {
	e.T.Helper()
	p := &scheduling.Patient{
		ID: newID(), PracticeID: f.Practice.ID, GivenName: given, FamilyName: "Parker",
		BirthDate: "1980-02-29", Phone: phone, Email: email, Language: "en", CreatedAt: T0, UpdatedAt: T0,
	}
	e.ok(e.Scheduling.CreatePatient(e.Ctx, p), "CreatePatient")
	return p
}

// MustAppt books a 30-minute appointment of patient with f's provider, in
// its own seat so that appointments of one test never overlap.
func (e *Env) MustAppt(f *Fixture, patient *scheduling.Patient, start time.Time, status scheduling.Status) *scheduling.Appointment {
	e.T.Helper()
	e.keys++
	a := &scheduling.Appointment{
		ID: newID(), PracticeID: f.Practice.ID, ProviderID: f.Provider.ID, LocationID: f.Location.ID,
		BlockID: f.Block.ID, VisitTypeID: f.VisitType.ID, PatientID: patient.ID,
		Start: start, End: start.Add(30 * time.Minute), HoldStart: start, HoldEnd: start.Add(30 * time.Minute),
		Seat: 1 + e.keys%f.Block.Capacity, Status: status, ResourceIDs: []scheduling.ResourceID{},
		BookedBy: "staff:notifytest", CreatedAt: T0, UpdatedAt: T0,
	}
	e.ok(e.Scheduling.InsertAppointment(e.Ctx, a), "InsertAppointment")
	return a
}

// Msg returns, without storing it, a pending SMS reminder of f's patient
// about f's appointment, due at T0, with a fresh ID and key; mods change it.
func (e *Env) Msg(f *Fixture, mods ...func(*notify.Message)) *notify.Message {
	e.keys++
	id := newID()
	m := &notify.Message{
		ID: id, PracticeID: f.Practice.ID, Key: fmt.Sprintf("test:%d:%s", e.keys, id),
		Kind: notify.KindReminder, Channel: notify.SMS,
		PatientID: ptr(f.Patient.ID), AppointmentID: ptr(f.Appt.ID),
		To: f.Patient.Phone, Text: "See you tomorrow", Language: "en",
		Status: notify.StatusPending, DueAt: T0, CreatedAt: T0.Add(-time.Hour), UpdatedAt: T0.Add(-time.Hour),
	}
	for _, mod := range mods {
		mod(m)
	}
	return m
}

// MustEnqueue enqueues msgs and fails unless all were written.
func (e *Env) MustEnqueue(msgs ...*notify.Message) []*notify.Message {
	e.T.Helper()
	n, err := e.Store.Enqueue(e.Ctx, msgs...)
	e.ok(err, "Enqueue")
	if n != len(msgs) {
		e.T.Fatalf("Enqueue wrote %d of %d messages", n, len(msgs))
	}
	return msgs
}

// MustMessage reads one message.
func (e *Env) MustMessage(practice tenant.PracticeID, id uuid.UUID) *notify.Message {
	e.T.Helper()
	m, err := e.Store.Message(e.Ctx, practice, id)
	e.ok(err, "Message(%s)", id)
	return m
}

// Message modifiers.

func due(t time.Time) func(*notify.Message) { return func(m *notify.Message) { m.DueAt = t } }

func channel(ch notify.Channel, to string) func(*notify.Message) {
	return func(m *notify.Message) { m.Channel, m.To = ch, to }
}

func kind(k notify.Kind) func(*notify.Message) { return func(m *notify.Message) { m.Kind = k } }

func about(p *scheduling.Patient, a *scheduling.Appointment) func(*notify.Message) {
	return func(m *notify.Message) {
		m.PatientID, m.AppointmentID = nil, nil
		if p != nil {
			m.PatientID, m.To = ptr(p.ID), p.Phone
		}
		if a != nil {
			m.AppointmentID = ptr(a.ID)
		}
	}
}

// inApp makes m a front desk message.
func inApp(m *notify.Message) {
	m.Channel, m.To, m.Status, m.Kind = notify.InApp, "", notify.StatusUnread, notify.KindRequested
}

// utcMessage returns a copy of m with its times in UTC, as a store returns
// them.
func utcMessage(m *notify.Message) *notify.Message {
	c := *m
	c.DueAt, c.CreatedAt, c.UpdatedAt = c.DueAt.UTC(), c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	if c.LeaseUntil != nil {
		c.LeaseUntil = ptr(c.LeaseUntil.UTC())
	}
	if c.SentAt != nil {
		c.SentAt = ptr(c.SentAt.UTC())
	}
	return &c
}

// ids returns the IDs of msgs, in order.
func ids(msgs []*notify.Message) []uuid.UUID {
	out := make([]uuid.UUID, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// sortedIDs returns the IDs of msgs in ascending order.
func sortedIDs(msgs []*notify.Message) []uuid.UUID {
	out := ids(msgs)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return out
}

// npiOf returns a 10-digit NPI whose first nine digits are base, with a
// valid Luhn check digit over the prefix 80840.
func npiOf(base int) string {
	payload := fmt.Sprintf("80840%09d", base)
	sum, double := 0, true
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return payload[5:] + string(rune('0'+(10-sum%10)%10))
}
