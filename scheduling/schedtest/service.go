package schedtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// RunService runs the scheduling.Service over the stores that open returns:
// booking rules, status transitions, reschedules, block changes, the
// calendar, and concurrent bookings that must never double-book. Each
// subtest gets a fresh database.
func RunService(t *testing.T, open func(t *testing.T) Stores) {
	cases := []struct {
		name string
		fn   func(t *testing.T, w *world)
	}{
		{"BookStatusByActorAndPolicy", testBookStatus},
		{"BookRefusalsWriteNothing", testBookRefusals},
		{"Transitions", testServiceTransitions},
		{"CancelFreesTheSlot", testCancelFrees},
		{"RescheduleIsAtomic", testReschedule},
		{"BlockRules", testBlockRules},
		{"BlockObserver", testBlockObserver},
		{"MoveAppointmentsThenDelete", testMoveThenDelete},
		{"PatientKindAndAudience", testPatientKind},
		{"CalendarAndRequests", testCalendar},
		{"OpenSlotsSeeBookings", testSlotsSeeBookings},
		{"CacheExpires", testCache},
		{"CacheInTx", testCacheInTx},
		{"ConcurrentOneProvider", testConcurrentProvider},
		{"ConcurrentSharedRoom", testConcurrentRoom},
		{"ConcurrentGroupSeats", testConcurrentSeats},
		{"UnknownPatientBeforeAudience", testUnknownPatient},
		{"PatientOneVisitAtATime", testPatientOneVisitAtATime},
		{"RescheduleKeepsPatientRule", testReschedulePatient},
		{"ArrivalWindow", testArrivalWindow},
		{"ConcurrentOnePatient", testConcurrentPatient},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newWorld(t, open(t))) })
	}
}

// world is a practice in New York with one provider, a 30-minute visit type
// and a weekday 09:00–12:00 block, seen at a fixed time: Monday 2026-11-30,
// 08:00 local.
type world struct {
	t        *testing.T
	ctx      context.Context
	clock    *clock.Fixed
	ten      *tenant.Service
	svc      *scheduling.Service
	st       Stores
	loc      *time.Location
	practice *tenant.Practice
	location *tenant.Location
	prov     *scheduling.Provider
	visit    *scheduling.VisitType
	block    *scheduling.Block
	patient  *scheduling.Patient
	staff    context.Context
	self     context.Context // the patient acting
}

func newWorld(t *testing.T, st Stores) *world {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	w := &world{t: t, ctx: ctx, st: st, loc: ny, clock: clock.NewFixed(time.Date(2026, 11, 30, 8, 0, 0, 0, ny))}
	ids := clock.UUIDv7{}
	w.svc = scheduling.NewService(st.Scheduling, st.Tenants, w.clock, ids)
	w.ten = tenant.NewService(st.Tenants, w.clock, ids, tenant.OnPolicyChange(w.svc.ForgetPolicy))
	g := must(w.ten.CreateGroup(ctx, "Harbor Health"))(t)
	pol := tenant.BookingPolicy{MinNotice: 2 * time.Hour, MaxAdvance: 30 * 24 * time.Hour, CancelCutoff: 24 * time.Hour}
	w.practice = must(w.ten.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Clinic", Policy: &pol}))(t)
	w.location = must(w.ten.CreateLocation(ctx, w.practice.ID, tenant.NewLocation{Name: "Main St", TimeZone: "America/New_York"}))(t)
	w.prov = w.provider("1234567893", "cardiology")
	w.visit = must(w.svc.CreateVisitType(ctx, w.practice.ID, scheduling.NewVisitType{Name: "Consult", Duration: 30 * time.Minute}))(t)
	w.block = w.weekdayBlock(w.prov, 1, "09:00", 3*time.Hour)
	w.patient = w.newPatient("Ada", "Lovelace")
	w.staff = actor.With(ctx, actor.Actor{Kind: actor.Staff, ID: "desk-1"})
	w.self = actor.With(ctx, actor.Actor{Kind: actor.Patient, ID: w.patient.ID.String()})
	return w
}

func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (w *world) provider(npi string, specialties ...string) *scheduling.Provider {
	w.t.Helper()
	return must(w.svc.CreateProvider(w.ctx, w.practice.ID, scheduling.NewProvider{
		NPI: npi, GivenName: "Grace", FamilyName: "Hopper " + npi, Specialties: specialties,
		LocationIDs: []tenant.LocationID{w.location.ID}}))(w.t)
}

func (w *world) newPatient(given, family string) *scheduling.Patient {
	w.t.Helper()
	return must(w.svc.CreatePatient(w.ctx, w.practice.ID, scheduling.PatientInput{
		GivenName: given, FamilyName: family, BirthDate: "1980-05-17", Phone: "+12025550143"}))(w.t)
}

// at returns local time hh:mm on day d of December 2026 (1 is a Tuesday).
func (w *world) at(d int, hhmm string) time.Time {
	c, err := time.Parse("15:04", hhmm)
	if err != nil {
		w.t.Fatal(err)
	}
	return time.Date(2026, 12, d, c.Hour(), c.Minute(), 0, 0, w.loc)
}

func (w *world) weekdayBlock(p *scheduling.Provider, capacity int, start string, length time.Duration) *scheduling.Block {
	w.t.Helper()
	s := w.at(1, start)
	return must(w.svc.CreateBlock(w.ctx, w.practice.ID, scheduling.NewBlock{ProviderID: p.ID, BlockInput: scheduling.BlockInput{
		LocationID: w.location.ID, Start: s, End: s.Add(length), RRule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", Capacity: capacity}}))(w.t)
}

func (w *world) book(ctx context.Context, start time.Time, mods ...func(*scheduling.BookRequest)) (*scheduling.Appointment, error) {
	r := scheduling.BookRequest{PatientID: w.patient.ID, ProviderID: w.prov.ID, VisitTypeID: w.visit.ID, Start: start}
	for _, m := range mods {
		m(&r)
	}
	return w.svc.Book(ctx, w.practice.ID, r)
}

func (w *world) mustBook(ctx context.Context, start time.Time, mods ...func(*scheduling.BookRequest)) *scheduling.Appointment {
	w.t.Helper()
	return must(w.book(ctx, start, mods...))(w.t)
}

func (w *world) count() int {
	w.t.Helper()
	all := must(w.st.Scheduling.ListAppointments(w.ctx, w.practice.ID, scheduling.AppointmentFilter{}))(w.t)
	return len(all)
}

func wantKind(t *testing.T, err error, kind errs.Kind, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v on %q", kind, field)
	}
	if got := errs.KindOf(err); got != kind {
		t.Fatalf("kind = %v (%v), want %v", got, err, kind)
	}
	if field != "" && errs.FieldOf(err) != field {
		t.Fatalf("field = %q (%v), want %q", errs.FieldOf(err), err, field)
	}
}

func testBookStatus(t *testing.T, w *world) {
	a := w.mustBook(w.self, w.at(1, "09:00"))
	if a.Status != scheduling.StatusNew || a.Seat != 1 || a.BlockID != w.block.ID || a.PatientKind != scheduling.NewPatient {
		t.Fatalf("patient booking: %+v", a)
	}
	if a.BookedBy != "patient:"+w.patient.ID.String() {
		t.Errorf("BookedBy = %q", a.BookedBy)
	}
	b := w.mustBook(w.staff, w.at(1, "09:30"))
	if b.Status != scheduling.StatusConfirmed {
		t.Errorf("staff booking status = %s, want confirmed", b.Status)
	}
	pol := w.practice.Policy
	pol.AutoConfirm = true
	if err := w.ten.SetPolicy(w.ctx, w.practice.ID, pol); err != nil {
		t.Fatal(err)
	}
	c := w.mustBook(w.self, w.at(1, "10:00"))
	if c.Status != scheduling.StatusConfirmed {
		t.Errorf("auto-confirmed booking status = %s", c.Status)
	}
	h := must(w.svc.History(w.ctx, w.practice.ID, a.ID))(t)
	if len(h) != 1 || h[0].Action != "book" || h[0].To != scheduling.StatusNew || h[0].By != a.BookedBy {
		t.Errorf("history = %+v", h)
	}
	if _, err := w.book(w.ctx, w.at(1, "11:00")); !errs.Is(err, errs.KindUnauthenticated) {
		t.Errorf("booking without an actor: %v", err)
	}
}

func testBookRefusals(t *testing.T, w *world) {
	other := must(w.ten.CreatePractice(w.ctx, tenant.NewPractice{GroupID: w.practice.GroupID, Name: "Elsewhere"}))(t)
	otherLoc := must(w.ten.CreateLocation(w.ctx, other.ID, tenant.NewLocation{Name: "B", TimeZone: "UTC"}))(t)
	otherSvcProv := must(w.svc.CreateProvider(w.ctx, other.ID, scheduling.NewProvider{NPI: "1234567893", GivenName: "A", FamilyName: "B", LocationIDs: []tenant.LocationID{otherLoc.ID}}))(t)
	w.mustBook(w.staff, w.at(2, "09:00"))
	before := w.count()
	cases := []struct {
		name  string
		ctx   context.Context
		start time.Time
		mod   func(*scheduling.BookRequest)
		kind  errs.Kind
		field string
	}{
		{"in the past", w.staff, w.at(1, "09:00").AddDate(0, 0, -7), nil, errs.KindInvalid, "start"},
		{"inside minimum notice", w.self, w.clock.Now().Add(90 * time.Minute), nil, errs.KindPreconditionFailed, "start"},
		{"beyond maximum advance", w.self, w.at(1, "09:00").AddDate(0, 0, 35), nil, errs.KindPreconditionFailed, "start"},
		{"outside any block", w.staff, w.at(1, "13:00"), nil, errs.KindPreconditionFailed, "start"},
		{"running past the block's end", w.staff, w.at(1, "11:45"), nil, errs.KindPreconditionFailed, "start"},
		{"patient off the slot grid", w.self, w.at(1, "09:10"), nil, errs.KindPreconditionFailed, "start"},
		{"taken", w.staff, w.at(2, "09:15"), nil, errs.KindConflict, "start"},
		{"no start", w.staff, time.Time{}, nil, errs.KindInvalid, "start"},
		{"unknown patient", w.staff, w.at(1, "09:00"), func(r *scheduling.BookRequest) { r.PatientID = uuid.New() }, errs.KindNotFound, "patient_id"},
		{"another practice's provider", w.staff, w.at(1, "09:00"), func(r *scheduling.BookRequest) { r.ProviderID = otherSvcProv.ID }, errs.KindNotFound, "provider_id"},
		{"missing visit type", w.staff, w.at(1, "09:00"), func(r *scheduling.BookRequest) { r.VisitTypeID = uuid.Nil }, errs.KindInvalid, "visit_type_id"},
		{"wrong location", w.staff, w.at(1, "09:00"), func(r *scheduling.BookRequest) { r.LocationID = &otherLoc.ID }, errs.KindPreconditionFailed, "start"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mods := []func(*scheduling.BookRequest){}
			if c.mod != nil {
				mods = append(mods, c.mod)
			}
			_, err := w.book(c.ctx, c.start, mods...)
			wantKind(t, err, c.kind, c.field)
			if got := w.count(); got != before {
				t.Errorf("appointments = %d after a refused booking, want %d", got, before)
			}
		})
	}
}

func testServiceTransitions(t *testing.T, w *world) {
	a := w.mustBook(w.self, w.at(1, "09:00"))
	if _, err := w.svc.Confirm(w.self, w.practice.ID, a.ID); !errs.Is(err, errs.KindForbidden) {
		t.Errorf("patient confirming: %v, want forbidden", err)
	}
	steps := []scheduling.Status{scheduling.StatusConfirmed, scheduling.StatusArrived, scheduling.StatusOut}
	w.clock.Set(w.at(1, "08:50")) // arrival is recorded on the visit's day
	for _, st := range steps {
		got, err := w.svc.Transition(w.staff, w.practice.ID, a.ID, st, "")
		if err != nil || got.Status != st {
			t.Fatalf("to %s: %v, %v", st, got, err)
		}
	}
	_, err := w.svc.Transition(w.staff, w.practice.ID, a.ID, scheduling.StatusConfirmed, "")
	wantKind(t, err, errs.KindConflict, "status")
	if e, _ := errs.As(err); fmt.Sprint(e.Details) != "map[current_status:out]" {
		t.Errorf("details = %v, want the current status", e.Details)
	}
	_, err = w.svc.Transition(w.staff, w.practice.ID, a.ID, "done", "")
	wantKind(t, err, errs.KindInvalid, "status")
	h := must(w.svc.History(w.ctx, w.practice.ID, a.ID))(t)
	var actions []string
	for _, c := range h {
		actions = append(actions, c.Action+":"+string(c.From)+">"+string(c.To))
	}
	if want := "[book:>new confirm:new>confirmed arrive:confirmed>arrived out:arrived>out]"; fmt.Sprint(actions) != want {
		t.Errorf("history %v, want %s", actions, want)
	}

	b := w.mustBook(w.staff, w.at(1, "10:00"))
	_, err = w.svc.Transition(w.staff, w.practice.ID, b.ID, scheduling.StatusNoVisit, "")
	wantKind(t, err, errs.KindPreconditionFailed, "status")
	w.clock.Set(w.at(1, "10:20"))
	if _, err := w.svc.Transition(w.staff, w.practice.ID, b.ID, scheduling.StatusNoVisit, ""); err != nil {
		t.Errorf("no-visit after the start: %v", err)
	}

	c := w.mustBook(w.self, w.at(2, "09:00")) // less than 24 hours ahead
	_, err = w.svc.Cancel(w.self, w.practice.ID, c.ID, "")
	wantKind(t, err, errs.KindPreconditionFailed, "start")
	got, err := w.svc.Cancel(w.staff, w.practice.ID, c.ID, "patient called")
	if err != nil || got.Status != scheduling.StatusCanceled {
		t.Fatalf("staff cancel: %v, %v", got, err)
	}
	h = must(w.svc.History(w.ctx, w.practice.ID, c.ID))(t)
	if last := h[len(h)-1]; last.Reason != "patient called" || last.By != "staff:desk-1" {
		t.Errorf("cancel recorded as %+v", last)
	}
}

func testCancelFrees(t *testing.T, w *world) {
	a := w.mustBook(w.self, w.at(3, "09:00"))
	if _, err := w.book(w.staff, w.at(3, "09:00")); !errs.Is(err, errs.KindConflict) {
		t.Fatalf("double booking: %v", err)
	}
	if _, err := w.svc.Cancel(w.self, w.practice.ID, a.ID, "can't make it"); err != nil {
		t.Fatal(err)
	}
	w.mustBook(w.staff, w.at(3, "09:00"))
}

func testReschedule(t *testing.T, w *world) {
	a := w.mustBook(w.staff, w.at(3, "09:00"))
	b := w.mustBook(w.staff, w.at(3, "10:00"))
	_, err := w.svc.Reschedule(w.staff, w.practice.ID, a.ID, scheduling.RescheduleRequest{Start: w.at(3, "10:00")})
	wantKind(t, err, errs.KindConflict, "start")
	if got := must(w.svc.Appointment(w.ctx, w.practice.ID, a.ID))(t); !got.Start.Equal(w.at(3, "09:00")) {
		t.Fatalf("a failed reschedule moved the visit to %v", got.Start)
	}
	moved := must(w.svc.Reschedule(w.staff, w.practice.ID, a.ID, scheduling.RescheduleRequest{Start: w.at(3, "10:30"), Reason: "later"}))(t)
	if !moved.Start.Equal(w.at(3, "10:30")) || !moved.End.Equal(w.at(3, "11:00")) {
		t.Fatalf("rescheduled to %v–%v", moved.Start, moved.End)
	}
	w.mustBook(w.staff, w.at(3, "09:00")) // the old time is free
	// Onto an overlapping time of its own: no conflict with itself.
	must(w.svc.Reschedule(w.staff, w.practice.ID, a.ID, scheduling.RescheduleRequest{Start: w.at(3, "10:45")}))(t)
	h := must(w.svc.History(w.ctx, w.practice.ID, a.ID))(t)
	if last := h[len(h)-1]; last.Action != "reschedule" || last.PrevStart == nil || !last.PrevStart.Equal(w.at(3, "10:30")) {
		t.Errorf("history last = %+v", last)
	}
	if _, err := w.svc.Cancel(w.staff, w.practice.ID, b.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Reschedule(w.staff, w.practice.ID, b.ID, scheduling.RescheduleRequest{Start: w.at(4, "09:00")})
	wantKind(t, err, errs.KindConflict, "status")
}

func testBlockRules(t *testing.T, w *world) {
	blk := func(start time.Time, length time.Duration, rule string) (*scheduling.Block, error) {
		return w.svc.CreateBlock(w.ctx, w.practice.ID, scheduling.NewBlock{ProviderID: w.prov.ID, BlockInput: scheduling.BlockInput{
			LocationID: w.location.ID, Start: start, End: start.Add(length), RRule: rule}})
	}
	before := len(must(w.svc.Blocks(w.ctx, w.practice.ID, scheduling.BlockFilter{}))(t))
	_, err := blk(w.at(8, "11:00"), 2*time.Hour, "") // overlaps Tuesday's 09:00–12:00
	wantKind(t, err, errs.KindConflict, "start")
	_, err = blk(w.at(5, "10:00"), time.Hour, "FREQ=WEEKLY;BYDAY=TH") // Saturday start, Thursday 10:00 overlaps
	wantKind(t, err, errs.KindConflict, "start")
	_, err = blk(w.at(5, "10:00"), time.Hour, "FREQ=WEEKLY;BYDAY=QQ")
	wantKind(t, err, errs.KindInvalid, "rrule")
	_, err = blk(w.at(5, "10:00"), -time.Hour, "")
	wantKind(t, err, errs.KindInvalid, "end")
	if got := len(must(w.svc.Blocks(w.ctx, w.practice.ID, scheduling.BlockFilter{}))(t)); got != before {
		t.Fatalf("blocks = %d after refusals, want %d", got, before)
	}
	sat := must(blk(w.at(5, "09:00"), 3*time.Hour, "FREQ=WEEKLY;BYDAY=SA"))(t) // Saturdays are free
	must(blk(w.at(1, "12:00"), time.Hour, ""))(t)                              // touching Tuesday's block is fine

	a := w.mustBook(w.staff, w.at(12, "10:00")) // a Saturday
	err = w.svc.DeleteBlock(w.ctx, w.practice.ID, sat.ID)
	wantKind(t, err, errs.KindPreconditionFailed, "block")
	e, _ := errs.As(err)
	if d := fmt.Sprint(e.Details); !contains(d, a.ID.String()) {
		t.Errorf("details %s do not list the appointment", d)
	}
	// Shrinking to 09:00–10:00 would strand the 10:00 visit.
	_, err = w.svc.UpdateBlock(w.ctx, w.practice.ID, sat.ID, scheduling.BlockInput{LocationID: w.location.ID,
		Start: w.at(5, "09:00"), End: w.at(5, "10:00"), RRule: "FREQ=WEEKLY;BYDAY=SA"})
	wantKind(t, err, errs.KindPreconditionFailed, "block")
	// Skipping that Saturday would too.
	_, err = w.svc.UpdateBlock(w.ctx, w.practice.ID, sat.ID, scheduling.BlockInput{LocationID: w.location.ID,
		Start: w.at(5, "09:00"), End: w.at(5, "12:00"), RRule: "FREQ=WEEKLY;BYDAY=SA", ExDates: []string{"2026-12-12"}})
	wantKind(t, err, errs.KindPreconditionFailed, "block")
	// Growing it is fine, and so is skipping another Saturday.
	must(w.svc.UpdateBlock(w.ctx, w.practice.ID, sat.ID, scheduling.BlockInput{LocationID: w.location.ID,
		Start: w.at(5, "08:00"), End: w.at(5, "12:00"), RRule: "FREQ=WEEKLY;BYDAY=SA", ExDates: []string{"2026-12-19"}}))(t)
	if _, err := w.svc.Cancel(w.staff, w.practice.ID, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.DeleteBlock(w.ctx, w.practice.ID, sat.ID); err != nil {
		t.Fatalf("deleting a block whose visits are canceled: %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func testMoveThenDelete(t *testing.T, w *world) {
	other := w.provider("1245319599", "cardiology")
	dst := w.weekdayBlock(other, 1, "09:00", 3*time.Hour)
	a := w.mustBook(w.staff, w.at(2, "09:00"))
	b := w.mustBook(w.self, w.at(3, "11:00"))
	// The other provider is busy on the 3rd at 11:00: nothing moves.
	someone := w.newPatient("Alan", "Turing")
	blocker := w.mustBook(w.staff, w.at(3, "11:00"), func(r *scheduling.BookRequest) { r.ProviderID = other.ID; r.PatientID = someone.ID })
	_, err := w.svc.MoveAppointments(w.staff, w.practice.ID, w.block.ID, dst.ID, "Dr. away")
	wantKind(t, err, errs.KindConflict, "to_block_id")
	if got := must(w.svc.Appointment(w.ctx, w.practice.ID, a.ID))(t); got.ProviderID != w.prov.ID {
		t.Fatal("a failed move moved an appointment")
	}
	if _, err := w.svc.Cancel(w.staff, w.practice.ID, blocker.ID, ""); err != nil {
		t.Fatal(err)
	}
	moved := must(w.svc.MoveAppointments(w.staff, w.practice.ID, w.block.ID, dst.ID, "Dr. away"))(t)
	if len(moved) != 2 {
		t.Fatalf("moved %d, want 2", len(moved))
	}
	for _, id := range []scheduling.AppointmentID{a.ID, b.ID} {
		got := must(w.svc.Appointment(w.ctx, w.practice.ID, id))(t)
		if got.ProviderID != other.ID || got.BlockID != dst.ID {
			t.Errorf("appointment %v not moved: %+v", id, got)
		}
	}
	if err := w.svc.DeleteBlock(w.ctx, w.practice.ID, w.block.ID); err != nil {
		t.Fatalf("delete after move: %v", err)
	}
}

func testPatientKind(t *testing.T, w *world) {
	newOnly := must(w.svc.CreateVisitType(w.ctx, w.practice.ID, scheduling.NewVisitType{Name: "New patient", Duration: 30 * time.Minute, Audience: scheduling.NewOnly}))(t)
	estOnly := must(w.svc.CreateVisitType(w.ctx, w.practice.ID, scheduling.NewVisitType{Name: "Follow-up", Duration: 30 * time.Minute, Audience: scheduling.EstablishedOnly}))(t)
	_, err := w.book(w.staff, w.at(1, "10:00"), func(r *scheduling.BookRequest) { r.VisitTypeID = estOnly.ID })
	wantKind(t, err, errs.KindPreconditionFailed, "visit_type_id")

	first := w.mustBook(w.staff, w.at(1, "09:00"), func(r *scheduling.BookRequest) { r.VisitTypeID = newOnly.ID })
	if first.PatientKind != scheduling.NewPatient {
		t.Fatalf("first visit: %s", first.PatientKind)
	}
	w.clock.Set(w.at(1, "09:00"))
	for _, st := range []scheduling.Status{scheduling.StatusArrived, scheduling.StatusOut} {
		if _, err := w.svc.Transition(w.staff, w.practice.ID, first.ID, st, ""); err != nil {
			t.Fatal(err)
		}
	}
	colleague := w.provider("1245319599", "cardiology")
	w.weekdayBlock(colleague, 1, "13:00", 3*time.Hour)
	next := w.mustBook(w.staff, w.at(8, "13:00"), func(r *scheduling.BookRequest) { r.ProviderID = colleague.ID; r.VisitTypeID = estOnly.ID })
	if next.PatientKind != scheduling.EstablishedPatient {
		t.Errorf("after a finished cardiology visit: %s", next.PatientKind)
	}
	_, err = w.book(w.staff, w.at(9, "09:00"), func(r *scheduling.BookRequest) { r.VisitTypeID = newOnly.ID })
	wantKind(t, err, errs.KindPreconditionFailed, "visit_type_id")
}

func testCalendar(t *testing.T, w *world) {
	p2 := w.newPatient("Alan", "Turing")
	a := w.mustBook(w.self, w.at(2, "10:00"))
	w.clock.Advance(time.Minute)
	b := w.mustBook(w.self, w.at(2, "09:00"), func(r *scheduling.BookRequest) { r.PatientID = p2.ID })
	c := w.mustBook(w.staff, w.at(3, "09:00"))
	reqs := must(w.svc.Requests(w.ctx, w.practice.ID, 0))(t)
	if len(reqs) != 2 || reqs[0].Appointment.ID != a.ID || reqs[1].Appointment.ID != b.ID {
		t.Fatalf("requests not oldest first: %v", reqs)
	}
	day := must(w.svc.Calendar(w.ctx, w.practice.ID, scheduling.CalendarQuery{From: w.at(2, "00:00"), To: w.at(3, "00:00")}))(t)
	if len(day) != 2 || day[0].Appointment.ID != b.ID || !day[0].NeedsConfirmation || day[0].Patient.FamilyName != "Turing" ||
		day[0].Appointment.PatientKind != scheduling.NewPatient {
		t.Fatalf("calendar for the 2nd: %+v", day)
	}
	if _, err := w.svc.Confirm(w.staff, w.practice.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	week := must(w.svc.Calendar(w.ctx, w.practice.ID, scheduling.CalendarQuery{From: w.at(1, "00:00"), To: w.at(8, "00:00"), ProviderID: &w.prov.ID}))(t)
	flags := map[scheduling.AppointmentID]bool{}
	for _, e := range week {
		flags[e.Appointment.ID] = e.NeedsConfirmation
	}
	if len(week) != 3 || flags[a.ID] || !flags[b.ID] || flags[c.ID] {
		t.Errorf("week flags = %v", flags)
	}
	if reqs := must(w.svc.Requests(w.ctx, w.practice.ID, 0))(t); len(reqs) != 1 {
		t.Errorf("requests after confirming one: %d", len(reqs))
	}
	if n := must(w.svc.CountRequests(w.ctx, w.practice.ID, 100))(t); n != 1 {
		t.Errorf("CountRequests after confirming one = %d, want 1", n)
	}
	if n := must(w.svc.CountRequests(w.ctx, w.practice.ID, 1))(t); n != 1 {
		t.Errorf("CountRequests up to 1 = %d, want 1", n)
	}
	_, err := w.svc.CountRequests(w.ctx, w.practice.ID, 0)
	wantKind(t, err, errs.KindInvalid, "limit")
	_, err = w.svc.Calendar(w.ctx, w.practice.ID, scheduling.CalendarQuery{From: w.at(1, "00:00"), To: w.at(1, "00:00").AddDate(0, 2, 0)})
	wantKind(t, err, errs.KindInvalid, "to")
}

func testSlotsSeeBookings(t *testing.T, w *world) {
	q := scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{w.prov.ID}, VisitTypeID: w.visit.ID, From: w.at(1, "00:00"), To: w.at(2, "00:00")}
	slots := must(w.svc.OpenSlots(w.self, w.practice.ID, q))(t)
	if len(slots) != 6 {
		t.Fatalf("%d slots on an empty morning, want 6", len(slots))
	}
	w.mustBook(w.self, w.at(1, "10:00"))
	slots = must(w.svc.OpenSlots(w.self, w.practice.ID, q))(t)
	if len(slots) != 5 {
		t.Fatalf("%d slots after one booking, want 5", len(slots))
	}
	for _, s := range slots {
		if s.Start.Equal(w.at(1, "10:00")) {
			t.Fatal("the booked time is still offered")
		}
	}
	// On the 2nd at 08:00, with 2 hours' notice, patients see 10:00 onwards.
	w.clock.Set(w.at(2, "08:00"))
	today := scheduling.SlotQuery{VisitTypeID: w.visit.ID, From: w.at(2, "00:00"), To: w.at(3, "00:00")}
	if got := len(must(w.svc.OpenSlots(w.self, w.practice.ID, today))(t)); got != 4 {
		t.Errorf("patient sees %d slots today, want 4", got)
	}
	if got := len(must(w.svc.OpenSlots(w.staff, w.practice.ID, today))(t)); got != 6 {
		t.Errorf("staff sees %d slots today, want 6", got)
	}
}

// race runs n bookings at once and counts successes; any error but a
// conflict fails the test.
func race(t *testing.T, n int, book func(i int) (*scheduling.Appointment, error)) []*scheduling.Appointment {
	t.Helper()
	var (
		mu   sync.Mutex
		won  []*scheduling.Appointment
		bad  []error
		wg   sync.WaitGroup
		gate = make(chan struct{})
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			a, err := book(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, a)
			case !errs.Is(err, errs.KindConflict):
				bad = append(bad, err)
			}
		}(i)
	}
	close(gate)
	wg.Wait()
	for _, err := range bad {
		t.Errorf("a booking failed with %v (kind %v), want success or conflict", err, errs.KindOf(err))
	}
	return won
}

func testConcurrentProvider(t *testing.T, w *world) {
	// Starts at 09:00, 09:15, 09:30, 09:45 for 30 minutes: whoever wins,
	// exactly two fit.
	won := race(t, 64, func(i int) (*scheduling.Appointment, error) {
		return w.book(w.staff, w.at(2, "09:00").Add(time.Duration(i%4)*15*time.Minute))
	})
	if len(won) != 2 {
		t.Fatalf("%d bookings succeeded, want 2", len(won))
	}
	if won[0].Start.Sub(won[1].Start).Abs() < 30*time.Minute {
		t.Fatalf("overlapping bookings: %v and %v", won[0].Start, won[1].Start)
	}
	if got := w.count(); got != 2 {
		t.Errorf("%d appointments stored, want 2", got)
	}
}

func testConcurrentRoom(t *testing.T, w *world) {
	room := must(w.svc.CreateResource(w.ctx, w.practice.ID, scheduling.NewResource{LocationID: w.location.ID, Name: "Echo room", Kind: scheduling.Room}))(t)
	echo := must(w.svc.CreateVisitType(w.ctx, w.practice.ID, scheduling.NewVisitType{Name: "Echo", Duration: 30 * time.Minute, ResourceIDs: []scheduling.ResourceID{room.ID}}))(t)
	other := w.provider("1245319599", "cardiology")
	w.weekdayBlock(other, 1, "09:00", 3*time.Hour)
	provs := []scheduling.ProviderID{w.prov.ID, other.ID}
	won := race(t, 64, func(i int) (*scheduling.Appointment, error) {
		return w.book(w.staff, w.at(2, "09:00"), func(r *scheduling.BookRequest) { r.ProviderID = provs[i%2]; r.VisitTypeID = echo.ID })
	})
	if len(won) != 1 {
		t.Fatalf("%d bookings of one room succeeded, want 1", len(won))
	}
	// The room is free again later: the other provider can use it then.
	if _, err := w.book(w.staff, w.at(2, "09:30"), func(r *scheduling.BookRequest) { r.ProviderID = other.ID; r.VisitTypeID = echo.ID }); err != nil {
		t.Fatal(err)
	}
}

func testConcurrentSeats(t *testing.T, w *world) {
	coach := w.provider("1245319599", "endocrinology")
	w.weekdayBlock(coach, 3, "14:00", time.Hour)
	// The class's seats share one room.
	room := must(w.svc.CreateResource(w.ctx, w.practice.ID, scheduling.NewResource{LocationID: w.location.ID, Name: "Community room", Kind: scheduling.Room}))(t)
	class := must(w.svc.CreateVisitType(w.ctx, w.practice.ID, scheduling.NewVisitType{Name: "Diabetes class", Duration: time.Hour,
		ResourceIDs: []scheduling.ResourceID{room.ID}}))(t)
	// Each racer books another patient: one patient takes one seat at most.
	pats := make([]*scheduling.Patient, 64)
	for i := range pats {
		pats[i] = w.newPatient("Pat", fmt.Sprintf("No. %d", i))
	}
	won := race(t, len(pats), func(i int) (*scheduling.Appointment, error) {
		return w.book(w.staff, w.at(2, "14:00"), func(r *scheduling.BookRequest) {
			r.ProviderID = coach.ID
			r.VisitTypeID = class.ID
			r.PatientID = pats[i].ID
		})
	})
	if len(won) != 3 {
		t.Fatalf("%d seats taken in a 3-seat block, want 3", len(won))
	}
	seats := map[int]bool{}
	for _, a := range won {
		seats[a.Seat] = true
	}
	if !seats[1] || !seats[2] || !seats[3] {
		t.Errorf("seats = %v, want 1, 2, 3", seats)
	}
	// Another provider's visit cannot take the class's room meanwhile.
	talk := must(w.svc.CreateVisitType(w.ctx, w.practice.ID, scheduling.NewVisitType{Name: "Talk", Duration: 30 * time.Minute,
		ResourceIDs: []scheduling.ResourceID{room.ID}}))(t)
	_, err := w.book(w.staff, w.at(2, "09:00"), func(r *scheduling.BookRequest) { r.VisitTypeID = talk.ID })
	if err != nil {
		t.Fatalf("the room is free in the morning: %v", err)
	}
	must(w.svc.CreateBlock(w.ctx, w.practice.ID, scheduling.NewBlock{ProviderID: w.prov.ID, BlockInput: scheduling.BlockInput{
		LocationID: w.location.ID, Start: w.at(2, "14:00"), End: w.at(2, "15:00")}}))(t)
	_, err = w.book(w.staff, w.at(2, "14:30"), func(r *scheduling.BookRequest) { r.VisitTypeID = talk.ID })
	wantKind(t, err, errs.KindConflict, "start")
}

// testCacheInTx: inside a transaction a booking reads the policy in the
// transaction, unless its context is marked by CacheInTx, when it takes the
// cached one, as outside a transaction.
func testCacheInTx(t *testing.T, w *world) {
	w.clock.Set(w.at(2, "08:00"))
	q := scheduling.SlotQuery{VisitTypeID: w.visit.ID, From: w.at(2, "00:00"), To: w.at(3, "00:00")}
	must(w.svc.OpenSlots(w.self, w.practice.ID, q))(t) // caches the 2 hours' notice
	pol := w.practice.Policy
	pol.MinNotice = 0
	if err := tenant.NewService(w.st.Tenants, w.clock, clock.UUIDv7{}).SetPolicy(w.ctx, w.practice.ID, pol); err != nil {
		t.Fatal(err)
	}
	book := func(ctx context.Context) error {
		return w.st.Scheduling.InTx(ctx, func(ctx context.Context) error {
			_, err := w.svc.Book(ctx, w.practice.ID, scheduling.BookRequest{PatientID: w.patient.ID, ProviderID: w.prov.ID,
				VisitTypeID: w.visit.ID, Start: w.at(2, "09:00")})
			return err
		})
	}
	wantKind(t, book(scheduling.CacheInTx(w.self)), errs.KindPreconditionFailed, "start")
	if err := book(w.self); err != nil {
		t.Fatalf("in a transaction, unmarked: %v; want the stored policy's no notice", err)
	}
}

func testCache(t *testing.T, w *world) {
	w.clock.Set(w.at(2, "08:00"))
	q := scheduling.SlotQuery{VisitTypeID: w.visit.ID, From: w.at(2, "00:00"), To: w.at(3, "00:00")}
	count := func(svc *scheduling.Service) int {
		t.Helper()
		return len(must(svc.OpenSlots(w.self, w.practice.ID, q))(t))
	}
	if got := count(w.svc); got != 4 { // 2 hours' notice: 10:00 onwards
		t.Fatalf("%d slots, want 4", got)
	}
	// Another replica changes the policy: this one learns of it by the
	// cache's expiry only.
	elsewhere := tenant.NewService(w.st.Tenants, w.clock, clock.UUIDv7{})
	pol := w.practice.Policy
	pol.MinNotice = 0
	if err := elsewhere.SetPolicy(w.ctx, w.practice.ID, pol); err != nil {
		t.Fatal(err)
	}
	if got := count(w.svc); got != 4 {
		t.Errorf("within the cache's life: %d slots, want the cached policy's 4", got)
	}
	uncached := scheduling.NewService(w.st.Scheduling, w.st.Tenants, w.clock, clock.UUIDv7{}, scheduling.WithCache(0))
	if got := count(uncached); got != 6 {
		t.Errorf("without a cache: %d slots, want 6", got)
	}
	w.clock.Advance(scheduling.DefaultCacheTTL)
	// Now 08:00:05: 09:00 onwards is bookable without notice.
	if got := count(w.svc); got != 6 {
		t.Errorf("after the cache's life: %d slots, want 6", got)
	}
	// Bookings read the policy through the same cache: a stricter notice
	// applies once the cached one expires.
	pol.MinNotice = 3 * time.Hour
	if err := elsewhere.SetPolicy(w.ctx, w.practice.ID, pol); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(scheduling.DefaultCacheTTL)
	_, err := w.book(w.self, w.at(2, "10:00"))
	wantKind(t, err, errs.KindPreconditionFailed, "start")
	_, err = uncached.Book(w.self, w.practice.ID, scheduling.BookRequest{PatientID: w.patient.ID, ProviderID: w.prov.ID, VisitTypeID: w.visit.ID, Start: w.at(2, "10:00")})
	wantKind(t, err, errs.KindPreconditionFailed, "start")
	// In this process, a change reaches the cache at once.
	pol.MinNotice = 0
	if err := w.ten.SetPolicy(w.ctx, w.practice.ID, pol); err != nil {
		t.Fatal(err)
	}
	if got := count(w.svc); got != 6 {
		t.Errorf("after a change in this process: %d slots, want 6", got)
	}
}
