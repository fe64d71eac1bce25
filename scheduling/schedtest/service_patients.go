package schedtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// testUnknownPatient: a patient the practice does not have is 404 naming
// patient_id, before the visit type's audience rule could call the patient
// new, and nothing is written.
func testUnknownPatient(t *testing.T, w *world) {
	estOnly := must(w.svc.CreateVisitType(w.ctx, w.practice.ID, scheduling.NewVisitType{Name: "Follow-up", Duration: 30 * time.Minute, Audience: scheduling.EstablishedOnly}))(t)
	newOnly := must(w.svc.CreateVisitType(w.ctx, w.practice.ID, scheduling.NewVisitType{Name: "New patient", Duration: 30 * time.Minute, Audience: scheduling.NewOnly}))(t)
	other := must(w.ten.CreatePractice(w.ctx, tenant.NewPractice{GroupID: w.practice.GroupID, Name: "Elsewhere"}))(t)
	stranger := must(w.svc.CreatePatient(w.ctx, other.ID, scheduling.PatientInput{GivenName: "Eve", FamilyName: "Elsewhere", BirthDate: "1990-01-01"}))(t)
	for _, vt := range []*scheduling.VisitType{estOnly, newOnly, w.visit} {
		for name, id := range map[string]scheduling.PatientID{"random": uuid.New(), "another practice's": stranger.ID} {
			t.Run(vt.Name+"/"+name, func(t *testing.T) {
				_, err := w.book(w.staff, w.at(1, "09:00"), func(r *scheduling.BookRequest) { r.PatientID = id; r.VisitTypeID = vt.ID })
				wantKind(t, err, errs.KindNotFound, "patient_id")
			})
		}
	}
	if n := w.count(); n != 0 {
		t.Errorf("%d appointments after refused bookings", n)
	}
}

// wantPatientBusy checks that err is the Service's 409 naming start for a
// patient's overlapping visit.
func wantPatientBusy(t *testing.T, err error) {
	t.Helper()
	wantKind(t, err, errs.KindConflict, "start")
	if !errors.Is(err, scheduling.ErrPatientBusy) {
		t.Fatalf("err = %v, want it to wrap ErrPatientBusy", err)
	}
}

// testPatientOneVisitAtATime: a patient is in one visit at a time, also in a
// group visit; staff may waive it on purpose, recorded; patients may not.
func testPatientOneVisitAtATime(t *testing.T, w *world) {
	other := w.provider("1245319599", "cardiology")
	w.weekdayBlock(other, 1, "09:00", 3*time.Hour)
	withOther := func(r *scheduling.BookRequest) { r.ProviderID = other.ID }
	w.mustBook(w.staff, w.at(2, "09:00"))
	before := w.count()
	_, err := w.book(w.staff, w.at(2, "09:00"), withOther)
	wantPatientBusy(t, err)
	_, err = w.book(w.staff, w.at(2, "09:15"), withOther)
	wantPatientBusy(t, err)
	_, err = w.book(w.self, w.at(2, "09:00"), withOther)
	wantPatientBusy(t, err)
	// Patients may not waive the rule, even where nothing overlaps.
	for _, at := range []string{"09:00", "11:00"} {
		_, err = w.book(w.self, w.at(2, at), withOther, func(r *scheduling.BookRequest) { r.AllowPatientOverlap = true })
		wantKind(t, err, errs.KindForbidden, "allow_patient_overlap")
	}
	if n := w.count(); n != before {
		t.Fatalf("%d appointments after refusals, want %d", n, before)
	}
	// Back to back is fine.
	w.mustBook(w.staff, w.at(2, "09:30"), withOther)
	// Staff waive it: stored, and in the history.
	a := w.mustBook(w.staff, w.at(2, "09:00"), withOther, func(r *scheduling.BookRequest) { r.AllowPatientOverlap = true; r.Start = w.at(3, "09:00") })
	b := w.mustBook(w.staff, w.at(3, "09:00"), func(r *scheduling.BookRequest) { r.AllowPatientOverlap = true })
	for _, x := range []*scheduling.Appointment{a, b} {
		if !x.AllowPatientOverlap || !must(w.svc.Appointment(w.ctx, w.practice.ID, x.ID))(t).AllowPatientOverlap {
			t.Errorf("appointment %v does not show the waiver", x.ID)
		}
		h := must(w.svc.History(w.ctx, w.practice.ID, x.ID))(t)
		if len(h) != 1 || h[0].Action != "book" || !h[0].AllowPatientOverlap {
			t.Errorf("history = %+v, want the booking with the waiver", h)
		}
	}
	// A group visit is no exception: one patient takes one seat at a time.
	coach := w.provider("1386427508", "endocrinology")
	w.weekdayBlock(coach, 3, "14:00", time.Hour)
	class := must(w.svc.CreateVisitType(w.ctx, w.practice.ID, scheduling.NewVisitType{Name: "Class", Duration: time.Hour}))(t)
	inClass := func(r *scheduling.BookRequest) { r.ProviderID = coach.ID; r.VisitTypeID = class.ID }
	w.mustBook(w.staff, w.at(4, "14:00"), inClass)
	_, err = w.book(w.staff, w.at(4, "14:00"), inClass)
	wantPatientBusy(t, err)
	w.mustBook(w.staff, w.at(4, "14:00"), inClass, func(r *scheduling.BookRequest) { r.PatientID = w.newPatient("Alan", "Turing").ID })
}

// testReschedulePatient: a move keeps the patient's rule; staff may waive it
// for the new time, patients may not, and a move without the waiver puts the
// visit under the rule again.
func testReschedulePatient(t *testing.T, w *world) {
	other := w.provider("1245319599", "cardiology")
	w.weekdayBlock(other, 1, "09:00", 3*time.Hour)
	w.mustBook(w.staff, w.at(3, "09:00"))
	b := w.mustBook(w.staff, w.at(3, "10:00"), func(r *scheduling.BookRequest) { r.ProviderID = other.ID })
	move := func(ctx context.Context, start string, allow bool) (*scheduling.Appointment, error) {
		return w.svc.Reschedule(ctx, w.practice.ID, b.ID, scheduling.RescheduleRequest{Start: w.at(3, start), AllowPatientOverlap: allow})
	}
	_, err := move(w.staff, "09:15", false)
	wantPatientBusy(t, err)
	_, err = move(w.self, "09:15", true)
	wantKind(t, err, errs.KindForbidden, "allow_patient_overlap")
	if got := must(w.svc.Appointment(w.ctx, w.practice.ID, b.ID))(t); !got.Start.Equal(w.at(3, "10:00")) {
		t.Fatalf("a refused move moved the visit to %v", got.Start)
	}
	// Moving with another provider onto the patient's visit is refused too.
	_, err = w.svc.Reschedule(w.staff, w.practice.ID, b.ID, scheduling.RescheduleRequest{Start: w.at(3, "09:00"), ProviderID: &w.prov.ID})
	wantKind(t, err, errs.KindConflict, "start")
	moved := must(move(w.staff, "09:15", true))(t)
	if !moved.AllowPatientOverlap {
		t.Error("the waived move does not show the waiver")
	}
	h := must(w.svc.History(w.ctx, w.practice.ID, b.ID))(t)
	if last := h[len(h)-1]; last.Action != "reschedule" || !last.AllowPatientOverlap {
		t.Errorf("history last = %+v, want a reschedule with the waiver", last)
	}
	_, err = move(w.staff, "09:20", false)
	wantPatientBusy(t, err)
	back := must(move(w.staff, "10:30", false))(t)
	if back.AllowPatientOverlap {
		t.Error("a move without the waiver kept it")
	}
}

// testArrivalWindow: arrival is recorded only around the visit, by the
// practice's policy; no-visit only once the visit has started.
func testArrivalWindow(t *testing.T, w *world) {
	// Tuesday 1 December 2026, 09:00–09:30 in New York.
	a := w.mustBook(w.staff, w.at(1, "09:00"))
	arrive := func() error {
		_, err := w.svc.Transition(w.staff, w.practice.ID, a.ID, scheduling.StatusArrived, "")
		return err
	}
	tooEarly := func(at time.Time) {
		t.Helper()
		w.clock.Set(at)
		err := arrive()
		wantKind(t, err, errs.KindPreconditionFailed, "status")
		e, _ := errs.As(err)
		if d, ok := e.Details.(map[string]string); !ok || d["arrival_from"] == "" || d["arrival_until"] == "" {
			t.Errorf("details = %v, want the window", e.Details)
		}
	}
	// The case: nine days before (the clock is on 30 November).
	w.clock.Set(w.at(1, "09:00").AddDate(0, 0, -9))
	wantKind(t, arrive(), errs.KindPreconditionFailed, "status")
	// By default, from the start of the visit's local day until its end.
	tooEarly(w.at(1, "00:00").Add(-time.Minute))
	b := w.mustBook(w.staff, w.at(1, "11:00"), func(r *scheduling.BookRequest) { r.PatientID = w.newPatient("Alan", "Turing").ID })
	w.clock.Set(w.at(2, "00:00"))
	_, err := w.svc.Transition(w.staff, w.practice.ID, b.ID, scheduling.StatusArrived, "")
	wantKind(t, err, errs.KindPreconditionFailed, "status")
	// A practice that checks in at most 30 minutes early and 15 late.
	pol := w.practice.Policy
	pol.ArrivalEarly, pol.ArrivalLate = 30*time.Minute, 15*time.Minute
	if err := w.ten.SetPolicy(w.ctx, w.practice.ID, pol); err != nil {
		t.Fatal(err)
	}
	tooEarly(w.at(1, "08:29"))
	w.clock.Set(w.at(1, "09:46"))
	_, err = w.svc.Transition(w.staff, w.practice.ID, a.ID, scheduling.StatusArrived, "")
	wantKind(t, err, errs.KindPreconditionFailed, "status")
	w.clock.Set(w.at(1, "08:30"))
	if err := arrive(); err != nil {
		t.Fatalf("arrival 30 minutes early: %v", err)
	}
	// out needs arrived first; a no-show needs the start to have passed.
	c := w.mustBook(w.staff, w.at(1, "10:00"))
	_, err = w.svc.Transition(w.staff, w.practice.ID, c.ID, scheduling.StatusOut, "")
	wantKind(t, err, errs.KindConflict, "status")
	_, err = w.svc.Transition(w.staff, w.practice.ID, c.ID, scheduling.StatusNoVisit, "")
	wantKind(t, err, errs.KindPreconditionFailed, "status")
	w.clock.Set(w.at(1, "10:01"))
	must(w.svc.Transition(w.staff, w.practice.ID, c.ID, scheduling.StatusNoVisit, ""))(t)
	// A bad window is refused, naming the field.
	pol.ArrivalEarly = 25 * time.Hour
	wantKind(t, w.ten.SetPolicy(w.ctx, w.practice.ID, pol), errs.KindInvalid, "policy.arrival_early")
	pol.ArrivalEarly, pol.ArrivalLate = 0, -time.Minute
	wantKind(t, w.ten.SetPolicy(w.ctx, w.practice.ID, pol), errs.KindInvalid, "policy.arrival_late")
}

// testConcurrentPatient has many clients book one patient with as many
// providers at the same time: exactly one wins, every other gets 409 naming
// start, and the patient's visits do not overlap afterwards.
func testConcurrentPatient(t *testing.T, w *world) {
	const n = 24
	provs := make([]*scheduling.Provider, n)
	for i := range provs {
		provs[i] = w.provider(npiFor(t, 200000000+i), "family-medicine")
		w.weekdayBlock(provs[i], 1, "09:00", 3*time.Hour)
	}
	errc := make([]error, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range provs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			// Starts 09:00, 09:10 and 09:20: every pair overlaps.
			_, errc[i] = w.book(w.staff, w.at(2, "09:00").Add(time.Duration(i%3)*10*time.Minute),
				func(r *scheduling.BookRequest) { r.ProviderID = provs[i].ID })
		}()
	}
	close(gate)
	wg.Wait()
	won := 0
	for i, err := range errc {
		switch {
		case err == nil:
			won++
		case errs.KindOf(err) != errs.KindConflict || errs.FieldOf(err) != "start" || !errors.Is(err, scheduling.ErrPatientBusy):
			t.Errorf("booking %d: %v (kind %v, field %q), want 409 naming start for the patient", i, err, errs.KindOf(err), errs.FieldOf(err))
		}
	}
	if won != 1 {
		t.Errorf("%d bookings of one patient at one time succeeded, want 1", won)
	}
	all := must(w.st.Scheduling.ListAppointments(w.ctx, w.practice.ID, scheduling.AppointmentFilter{PatientID: &w.patient.ID, Status: scheduling.ActiveStatuses}))(t)
	for i, a := range all {
		for _, b := range all[i+1:] {
			if a.Start.Before(b.End) && b.Start.Before(a.End) {
				t.Errorf("overlapping visits of one patient: %v–%v and %v–%v", a.Start, a.End, b.Start, b.End)
			}
		}
	}
	if len(all) != 1 {
		t.Errorf("%d active appointments of the patient, want 1", len(all))
	}
}

// npiFor returns a valid NPI from nine digits.
func npiFor(t *testing.T, nine int) string {
	t.Helper()
	s := fmt.Sprintf("%09d", nine)
	for d := '0'; d <= '9'; d++ {
		if scheduling.ValidNPI(s + string(d)) {
			return s + string(d)
		}
	}
	t.Fatalf("no check digit for %s", s)
	return ""
}
