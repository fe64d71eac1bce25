package schedtest

import (
	"errors"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
)

var patientCases = []testCase{
	{"PatientOneVisitAtATime", testPatientOneVisit},
	{"PatientOverlapAllowed", testPatientOverlapAllowed},
	{"PatientOverlapUpdate", testPatientOverlapUpdate},
	{"ConcurrentInsertSamePatient", testConcurrentInsertSamePatient},
}

// wantPatientBusy checks that inserting a fails with KindConflict wrapping
// scheduling.ErrPatientBusy and leaves no trace of a.
func (e *env) wantPatientBusy(what string, a *scheduling.Appointment) {
	e.t.Helper()
	err := e.s.InsertAppointment(e.ctx, a)
	wantErrKind(e.t, what, err, errs.KindConflict)
	if err != nil && !errors.Is(err, scheduling.ErrPatientBusy) {
		e.t.Errorf("%s: err = %v, want it to wrap scheduling.ErrPatientBusy", what, err)
	}
	if _, err := e.s.GetAppointment(e.ctx, a.PracticeID, a.ID); errs.KindOf(err) != errs.KindNotFound {
		e.t.Errorf("%s: GetAppointment of the rejected appointment: err = %v, want KindNotFound", what, err)
	}
}

// testPatientOneVisit: a patient's active visits must not overlap, whatever
// the providers, blocks, seats and resources; buffers and inactive visits do
// not count.
func testPatientOneVisit(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	prov2, blk2 := e.mustProviderIn(w)
	prov3, blk3 := e.mustProviderIn(w)
	// 09:00–09:30 with Dr. 1, holding 08:50–09:45.
	e.mustAppt(w, tm(1, 9, 0), withSpan(tm(1, 9, 0), 30*time.Minute, 10*time.Minute, 15*time.Minute))

	e.wantPatientBusy("same time, other provider", e.appt(w, tm(1, 9, 0), withProvider(prov2, blk2)))
	e.wantPatientBusy("overlapping the end", e.appt(w, tm(1, 9, 15), withProvider(prov2, blk2)))
	e.wantPatientBusy("overlapping the start", e.appt(w, tm(1, 8, 45), withProvider(prov2, blk2)))
	e.wantPatientBusy("inside", e.appt(w, tm(1, 9, 10), withProvider(prov2, blk2), withSpan(tm(1, 9, 10), 5*time.Minute, 0, 0)))
	e.wantPatientBusy("around", e.appt(w, tm(1, 8, 0), withProvider(prov2, blk2), withSpan(tm(1, 8, 0), 3*time.Hour, 0, 0)))
	// A group visit is no exception: another seat of the same block.
	e.wantPatientBusy("another seat of the same block", e.appt(w, tm(1, 9, 0), withSeat(2)))
	for _, s := range []scheduling.Status{scheduling.StatusNew, scheduling.StatusArrived, scheduling.StatusOut} {
		e.wantPatientBusy("status "+string(s), e.appt(w, tm(1, 9, 0), withProvider(prov3, blk3), withStatus(s)))
	}
	// The visits, not the holds: buffers are the provider's time.
	e.mustAppt(w, tm(1, 9, 30), withProvider(prov2, blk2), withSpan(tm(1, 9, 30), 30*time.Minute, 10*time.Minute, 0))
	e.mustAppt(w, tm(1, 8, 30), withProvider(prov3, blk3), withSpan(tm(1, 8, 30), 30*time.Minute, 0, 20*time.Minute))
	// Inactive visits hold nothing, and an inactive newcomer is no conflict.
	c := e.mustAppt(w, tm(2, 9, 0), withStatus(scheduling.StatusCanceled))
	e.mustAppt(w, tm(2, 9, 0), withProvider(prov2, blk2), withStatus(scheduling.StatusNoVisit))
	e.mustAppt(w, tm(1, 9, 0), withProvider(prov3, blk3), withStatus(scheduling.StatusCanceled))
	e.mustAppt(w, tm(2, 9, 0), withProvider(prov3, blk3))
	// Reactivating the canceled one over the patient's visit is a conflict.
	react := *c
	react.Status, react.UpdatedAt = scheduling.StatusConfirmed, e.ts()
	err := e.s.UpdateAppointment(e.ctx, &react)
	wantErrKind(e.t, "UpdateAppointment(reactivate over the patient's visit)", err, errs.KindConflict)
	if !errors.Is(err, scheduling.ErrPatientBusy) {
		e.t.Errorf("reactivation: err = %v, want ErrPatientBusy", err)
	}
	e.wantUnchanged("after rejected reactivation", c)
	// Other patients, and the same patient's namesake in another practice, are
	// free at that time.
	e.mustApptApart(w, tm(1, 9, 0), withProvider(prov2, blk2), withStatus(scheduling.StatusConfirmed), withSeat(2))
	q := e.mustFixture("Oak Street Clinic")
	e.mustAppt(q, tm(1, 9, 0))
}

// testPatientOverlapAllowed: an appointment that allows the overlap is out
// of the patient's rule, both ways; the provider's rule still holds.
func testPatientOverlapAllowed(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	prov2, blk2 := e.mustProviderIn(w)
	prov3, blk3 := e.mustProviderIn(w)
	allow := func(a *scheduling.Appointment) { a.AllowPatientOverlap = true }
	a := e.mustAppt(w, tm(1, 9, 0))
	b := e.mustAppt(w, tm(1, 9, 15), withProvider(prov2, blk2), allow)
	got, err := e.s.GetAppointment(e.ctx, w.p.ID, b.ID)
	e.ok(err, "GetAppointment")
	if !got.AllowPatientOverlap {
		e.t.Errorf("AllowPatientOverlap not stored: %+v", got)
	}
	// b may overlap a, but still keeps a visit that does not allow it off
	// its time: 09:40 overlaps b only.
	e.wantPatientBusy("over the visit that allows an overlap", e.appt(w, tm(1, 9, 40), withProvider(prov3, blk3)))
	// Another visit that allows it may overlap both.
	e.mustAppt(w, tm(1, 9, 40), withProvider(prov3, blk3), allow)
	// a keeps its time: b, which came over it, does not refuse a's changes.
	same := *a
	same.UpdatedAt = e.ts()
	e.ok(e.s.UpdateAppointment(e.ctx, &same), "UpdateAppointment(a at its own time)")
	// A visit moved onto b's time is refused like a new one.
	prov4, blk4 := e.mustProviderIn(w)
	c := e.mustAppt(w, tm(1, 11, 0), withProvider(prov4, blk4))
	onto := *c
	withSpan(tm(1, 9, 30), 30*time.Minute, 0, 0)(&onto)
	onto.UpdatedAt = e.ts()
	if err := e.s.UpdateAppointment(e.ctx, &onto); !errors.Is(err, scheduling.ErrPatientBusy) {
		e.t.Errorf("move onto the visit that allows an overlap: err = %v, want ErrPatientBusy", err)
	}
	// a still blocks a third visit that does not allow it.
	e.wantPatientBusy("over the visit that keeps the rule", e.appt(w, tm(1, 9, 0), withProvider(prov3, blk3)))
	// The provider's rule is not waived.
	e.wantInsertConflict("provider busy, overlap allowed", e.apptApart(w, tm(1, 9, 0), allow))
	// Allowing it on a stored visit is a change like any other; a new visit
	// over it still has to allow it too.
	upd := *a
	upd.AllowPatientOverlap, upd.UpdatedAt = true, e.ts()
	e.ok(e.s.UpdateAppointment(e.ctx, &upd), "UpdateAppointment(allow)")
	e.wantUnchanged("after allowing", &upd)
	e.wantPatientBusy("over a visit allowed afterwards", e.appt(w, tm(1, 9, 0), withProvider(prov3, blk3), withSpan(tm(1, 9, 0), 10*time.Minute, 0, 0)))
	e.mustAppt(w, tm(1, 9, 0), withProvider(prov3, blk3), withSpan(tm(1, 9, 0), 10*time.Minute, 0, 0), allow)
}

// testPatientOverlapUpdate: moving a visit onto another of the patient's is a
// conflict and changes nothing; allowed, it goes through.
func testPatientOverlapUpdate(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	prov2, blk2 := e.mustProviderIn(w)
	e.mustAppt(w, tm(1, 9, 0))
	b := e.mustAppt(w, tm(1, 10, 0), withProvider(prov2, blk2))
	moved := *b
	withSpan(tm(1, 9, 15), 30*time.Minute, 0, 0)(&moved)
	moved.UpdatedAt = e.ts()
	err := e.s.UpdateAppointment(e.ctx, &moved)
	wantErrKind(e.t, "UpdateAppointment(onto the patient's other visit)", err, errs.KindConflict)
	if !errors.Is(err, scheduling.ErrPatientBusy) {
		e.t.Errorf("move: err = %v, want ErrPatientBusy", err)
	}
	e.wantUnchanged("after rejected move", b)
	// Onto its own old time is no conflict.
	self := *b
	withSpan(tm(1, 10, 15), 30*time.Minute, 0, 0)(&self)
	self.UpdatedAt = e.ts()
	e.ok(e.s.UpdateAppointment(e.ctx, &self), "UpdateAppointment(overlapping its own old time)")
	moved.AllowPatientOverlap = true
	e.ok(e.s.UpdateAppointment(e.ctx, &moved), "UpdateAppointment(allowed)")
	e.wantUnchanged("after allowed move", &moved)
	// A history entry records the waiver.
	c := &scheduling.Change{ID: newID(), PracticeID: w.p.ID, AppointmentID: b.ID, Action: "reschedule",
		From: scheduling.StatusConfirmed, To: scheduling.StatusConfirmed, By: "staff:desk", At: e.ts(), AllowPatientOverlap: true}
	e.ok(e.s.AppendChange(e.ctx, c), "AppendChange")
	h, err := e.s.ListChanges(e.ctx, w.p.ID, b.ID)
	e.ok(err, "ListChanges")
	if len(h) != 1 || !h[0].AllowPatientOverlap {
		e.t.Errorf("history = %+v, want one entry that allows the overlap", h)
	}
}

// testConcurrentInsertSamePatient has every racer book the same patient with
// another provider at the same time, with no lock or check first.
func testConcurrentInsertSamePatient(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	appts := make([]*scheduling.Appointment, racers)
	for i := range appts {
		p, b := e.mustProviderIn(w)
		appts[i] = e.appt(w, tm(1, 9, 0), withProvider(p, b))
	}
	e.race(func(i int) error { return e.s.InsertAppointment(e.ctx, appts[i]) })
	e.wantOneActive(w)
}
