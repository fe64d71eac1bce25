package schedtest

import (
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
)

var bookingInputCases = []testCase{
	{"BookingInputs", testBookingInputs},
	{"BookingInputsUnknownPatient", testBookingInputsUnknownPatient},
}

// testBookingInputs checks that BookingInputs answers as SlotInputs for one
// provider and FinishedVisits for one patient before the window.
func testBookingInputs(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	q := e.mustFixture("Oak Street Clinic")
	prov2, blk2 := e.mustProviderIn(w)
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	other := e.mustPatient(w.p.ID)
	out := withStatus(scheduling.StatusOut)
	e.mustAppt(w, tm(1, 9, 0), withResources(r1.ID))
	e.mustAppt(w, tm(1, 10, 0), withProvider(prov2, blk2), withResources(r1.ID))
	e.mustAppt(w, tm(0, 9, 0), out)                        // the patient's, before the window
	e.mustAppt(w, tm(0, 10, 0), out, withPatient(other))   // another patient's
	e.mustAppt(w, tm(0, 11, 0), withProvider(prov2, blk2)) // not finished
	e.mustAppt(w, tm(-1200, 9, 0), out)                    // before visitsFrom
	e.mustAppt(w, tm(1, 11, 0), out)                       // inside the window: not before it
	e.mustAppt(q, tm(0, 9, 0), out, withPatient(q.pat))    // another practice

	from, to, visitsFrom := tm(1, 0, 0), tm(2, 0, 0), tm(-1000, 0, 0)
	res := []scheduling.ResourceID{r1.ID}
	blocks, holds, visits, err := e.s.BookingInputs(e.ctx, w.p.ID, w.prov.ID, res, w.pat.ID, from, to, visitsFrom)
	e.ok(err, "BookingInputs")
	wantBlocks, wantHolds, err := e.s.SlotInputs(e.ctx, w.p.ID, []scheduling.ProviderID{w.prov.ID}, res, from, to)
	e.ok(err, "SlotInputs")
	sameList(e.t, "BookingInputs blocks", blocks, wantBlocks)
	checkHoldsPair(e.t, "BookingInputs holds", holds, wantHolds.Provider, wantHolds.Resource)
	wantVisits, err := e.s.FinishedVisits(e.ctx, w.p.ID, []scheduling.PatientID{w.pat.ID}, visitsFrom, from)
	e.ok(err, "FinishedVisits")
	if len(wantVisits) != 1 {
		e.t.Fatalf("fixture: %d finished visits before the window, want 1", len(wantVisits))
	}
	assertEqual(e.t, wantVisits, visits, "BookingInputs visits")
}

// testBookingInputsUnknownPatient checks that BookingInputs refuses, with
// KindNotFound, a patient who is not the practice's: a random ID and another
// practice's patient, even where the calendar holds appointments.
func testBookingInputsUnknownPatient(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	q := e.mustFixture("Oak Street Clinic")
	e.mustAppt(w, tm(1, 9, 0))
	from, to := tm(1, 0, 0), tm(2, 0, 0)
	for name, id := range map[string]scheduling.PatientID{"random": newID(), "other practice's": q.pat.ID} {
		_, _, _, err := e.s.BookingInputs(e.ctx, w.p.ID, w.prov.ID, nil, id, from, to, tm(-1000, 0, 0))
		wantErrKind(e.t, "BookingInputs("+name+" patient)", err, errs.KindNotFound)
	}
	_, _, _, err := e.s.BookingInputs(e.ctx, w.p.ID, w.prov.ID, nil, w.pat.ID, from, to, tm(-1000, 0, 0))
	e.ok(err, "BookingInputs(the practice's patient)")
}
