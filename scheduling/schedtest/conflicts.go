package schedtest

import (
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
)

var conflictCases = []testCase{
	{"ConflictSameProviderSeat", testConflictSameProviderSeat},
	{"ConflictDifferentSeatOrProvider", testConflictDifferentSeatOrProvider},
	{"ConflictAdjacentHolds", testConflictAdjacent},
	{"ConflictInactiveDoNotHold", testConflictInactive},
	{"ConflictResource", testConflictResource},
	{"ConflictFailedInsertWritesNothing", testConflictFailedInsert},
	{"ConflictUpdate", testConflictUpdate},
	{"ConflictUpdateCancelFrees", testConflictUpdateCancelFrees},
	{"ConflictUpdateNoSelfConflict", testConflictUpdateSelf},
}

// wantInsertConflict checks that inserting a fails with KindConflict and
// leaves no trace of a.
func (e *env) wantInsertConflict(what string, a *scheduling.Appointment) {
	e.t.Helper()
	wantErrKind(e.t, what, e.s.InsertAppointment(e.ctx, a), errs.KindConflict)
	if _, err := e.s.GetAppointment(e.ctx, a.PracticeID, a.ID); errs.KindOf(err) != errs.KindNotFound {
		e.t.Errorf("%s: GetAppointment of the rejected appointment: err = %v, want KindNotFound", what, err)
	}
}

// wantUnchanged checks that the stored appointment is still a.
func (e *env) wantUnchanged(what string, a *scheduling.Appointment) {
	e.t.Helper()
	got, err := e.s.GetAppointment(e.ctx, a.PracticeID, a.ID)
	e.ok(err, "%s: GetAppointment", what)
	same(e.t, what+": stored appointment", got, a)
}

func testConflictSameProviderSeat(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	e.mustApptApart(w, tm(1, 9, 0))

	e.wantInsertConflict("same provider, seat and time", e.apptApart(w, tm(1, 9, 0)))
	e.wantInsertConflict("overlapping the end", e.apptApart(w, tm(1, 9, 15)))
	e.wantInsertConflict("overlapping the start", e.apptApart(w, tm(1, 8, 45)))
	e.wantInsertConflict("inside", e.apptApart(w, tm(1, 9, 10), withSpan(tm(1, 9, 10), 10*time.Minute, 0, 0)))
	e.wantInsertConflict("around", e.apptApart(w, tm(1, 8, 0), withSpan(tm(1, 8, 0), 3*time.Hour, 0, 0)))
	for _, s := range []scheduling.Status{scheduling.StatusNew, scheduling.StatusArrived, scheduling.StatusOut} {
		e.wantInsertConflict("status "+string(s), e.apptApart(w, tm(1, 9, 0), withStatus(s)))
	}
	// The rule is per provider and seat, whatever the block.
	other := e.mustBlock(w.p.ID, w.prov.ID, w.loc.ID)
	e.wantInsertConflict("other block of the same provider", e.apptApart(w, tm(1, 9, 0),
		func(a *scheduling.Appointment) { a.BlockID = other.ID }))
	// Buffers count: the visits do not overlap, the holds do.
	e.wantInsertConflict("holds overlap through buffers", e.apptApart(w, tm(1, 9, 40),
		withSpan(tm(1, 9, 40), 30*time.Minute, 15*time.Minute, 0)))
}

func testConflictDifferentSeatOrProvider(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	prov2, blk2 := e.mustProviderIn(w)
	e.mustApptApart(w, tm(1, 9, 0))
	e.mustApptApart(w, tm(1, 9, 0), withSeat(2))
	e.wantInsertConflict("seat 2 taken too", e.apptApart(w, tm(1, 9, 15), withSeat(2)))
	// A provider busy in one block is busy in all: a free seat number in
	// another block does not help.
	other := e.mustBlock(w.p.ID, w.prov.ID, w.loc.ID)
	e.wantInsertConflict("same provider, another block", e.apptApart(w, tm(1, 9, 15), withSeat(3), withProvider(w.prov, other)))
	e.mustApptApart(w, tm(1, 9, 30), withSeat(3), withProvider(w.prov, other)) // touching is fine
	// The provider, patient and visit type must be the practice's.
	for name, mod := range map[string]func(*scheduling.Appointment){
		"unknown patient":    func(a *scheduling.Appointment) { a.PatientID = newID() },
		"unknown provider":   func(a *scheduling.Appointment) { a.ProviderID = newID() },
		"unknown visit type": func(a *scheduling.Appointment) { a.VisitTypeID = newID() },
	} {
		a := e.apptApart(w, tm(3, 9, 0), mod)
		if err := e.s.InsertAppointment(e.ctx, a); errs.KindOf(err) != errs.KindNotFound {
			e.t.Errorf("InsertAppointment(%s) = %v, want KindNotFound", name, err)
		}
	}
	e.mustApptApart(w, tm(1, 9, 0), withProvider(prov2, blk2))
	e.wantInsertConflict("other provider, once booked", e.apptApart(w, tm(1, 9, 0), withProvider(prov2, blk2)))
	// Another practice's calendar is its own.
	q := e.mustFixture("Oak Street Clinic")
	e.mustAppt(q, tm(1, 9, 0))
}

func testConflictAdjacent(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	// Holds are half-open: [8:55, 9:40) and [9:40, 10:25) touch, no overlap.
	e.mustApptApart(w, tm(1, 9, 0), withSpan(tm(1, 9, 0), 30*time.Minute, 5*time.Minute, 10*time.Minute))
	e.mustApptApart(w, tm(1, 9, 45), withSpan(tm(1, 9, 45), 30*time.Minute, 5*time.Minute, 10*time.Minute))
	e.mustApptApart(w, tm(1, 8, 25), withSpan(tm(1, 8, 25), 30*time.Minute, 0, 0))
	e.wantInsertConflict("one minute into the next hold", e.apptApart(w, tm(1, 10, 24), withSpan(tm(1, 10, 24), 30*time.Minute, 0, 0)))
	e.mustApptApart(w, tm(1, 10, 25), withSpan(tm(1, 10, 25), 30*time.Minute, 0, 0))
}

func testConflictInactive(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	// Canceled and no-visit appointments hold nothing, not even against
	// each other.
	e.mustApptApart(w, tm(1, 9, 0), withStatus(scheduling.StatusCanceled))
	e.mustApptApart(w, tm(1, 9, 0), withStatus(scheduling.StatusNoVisit))
	e.mustApptApart(w, tm(1, 9, 0), withStatus(scheduling.StatusCanceled))
	e.mustApptApart(w, tm(1, 9, 0))
	// Inactive appointments can be written over active ones.
	e.mustApptApart(w, tm(1, 9, 0), withStatus(scheduling.StatusCanceled))
	e.mustApptApart(w, tm(1, 9, 15), withStatus(scheduling.StatusNoVisit))
	// Every active status holds.
	for i, s := range scheduling.ActiveStatuses {
		e.mustApptApart(w, tm(2, 9+i, 0), withStatus(s))
		e.wantInsertConflict("over "+string(s), e.apptApart(w, tm(2, 9+i, 0), withStatus(scheduling.StatusConfirmed)))
	}
}

func testConflictResource(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	prov2, blk2 := e.mustProviderIn(w)
	prov3, blk3 := e.mustProviderIn(w)
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	r2 := e.mustResource(w.p.ID, w.loc.ID, "Room 2", scheduling.Room)
	e.mustApptApart(w, tm(1, 9, 0), withResources(r1.ID))

	e.wantInsertConflict("resource held by another provider", e.apptApart(w, tm(1, 9, 15), withProvider(prov2, blk2), withResources(r1.ID)))
	e.wantInsertConflict("one of the resources held", e.apptApart(w, tm(1, 9, 15), withProvider(prov2, blk2), withResources(r2.ID, r1.ID)))
	e.mustApptApart(w, tm(1, 9, 15), withProvider(prov2, blk2), withResources(r2.ID))
	e.wantInsertConflict("second resource held now", e.apptApart(w, tm(1, 9, 20), withProvider(prov3, blk3), withResources(r2.ID)))
	e.mustApptApart(w, tm(1, 9, 30), withProvider(prov3, blk3), withResources(r1.ID)) // touching
	// Buffers count for resources too.
	e.wantInsertConflict("resource hold through buffer", e.apptApart(w, tm(1, 10, 5), withProvider(prov2, blk2),
		withResources(r1.ID), withSpan(tm(1, 10, 5), 30*time.Minute, 10*time.Minute, 0)))

	// The seats of one block share its resources (a group visit in one room);
	// another block's appointment may not use them.
	e.mustApptApart(w, tm(1, 16, 0), withResources(r1.ID))
	e.mustApptApart(w, tm(1, 16, 0), withSeat(2), withResources(r1.ID))
	e.wantInsertConflict("resource held, other block of the provider", e.apptApart(w, tm(1, 16, 0), withSeat(3),
		withProvider(w.prov, e.mustBlock(w.p.ID, w.prov.ID, w.loc.ID)), withResources(r1.ID)))

	// A canceled holder frees the resource, and a canceled newcomer takes none.
	e.mustApptApart(w, tm(1, 14, 0), withResources(r1.ID), withStatus(scheduling.StatusCanceled))
	e.mustApptApart(w, tm(1, 14, 0), withProvider(prov2, blk2), withResources(r1.ID))
	e.mustApptApart(w, tm(1, 14, 0), withProvider(prov3, blk3), withResources(r1.ID), withStatus(scheduling.StatusCanceled))
	e.mustApptApart(w, tm(1, 14, 0), withProvider(prov3, blk3), withResources(r1.ID), withStatus(scheduling.StatusNoVisit))
}

func testConflictFailedInsert(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	prov2, blk2 := e.mustProviderIn(w)
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	r2 := e.mustResource(w.p.ID, w.loc.ID, "Room 2", scheduling.Room)
	r3 := e.mustResource(w.p.ID, w.loc.ID, "Room 3", scheduling.Room)
	held := e.mustApptApart(w, tm(1, 9, 0), withResources(r1.ID))

	// Rejected for r1: r2 must not stay held.
	e.wantInsertConflict("resource conflict", e.apptApart(w, tm(1, 9, 0), withProvider(prov2, blk2), withResources(r2.ID, r1.ID)))
	// Rejected for the provider's seat: r3 must not stay held.
	e.wantInsertConflict("seat conflict", e.apptApart(w, tm(1, 9, 0), withResources(r3.ID)))

	for _, r := range []*scheduling.Resource{r2, r3} {
		list, err := e.s.ListAppointments(e.ctx, w.p.ID, scheduling.AppointmentFilter{ResourceID: &r.ID})
		e.ok(err, "ListAppointments(%s)", r.Name)
		wantIDs(e.t, "ListAppointments("+r.Name+") after rejected inserts", list)
	}
	h, err := e.s.Holds(e.ctx, w.p.ID, nil, []scheduling.ResourceID{r2.ID, r3.ID}, tm(1, 0, 0), tm(2, 0, 0))
	e.ok(err, "Holds")
	if len(h.Resource) != 0 {
		e.t.Errorf("Holds of r2, r3 after rejected inserts = %+v, want none", h.Resource)
	}
	list, err := e.s.ListAppointments(e.ctx, w.p.ID, scheduling.AppointmentFilter{})
	e.ok(err, "ListAppointments")
	wantIDs(e.t, "ListAppointments after rejected inserts", list, held.ID)

	e.mustApptApart(w, tm(1, 9, 0), withProvider(prov2, blk2), withResources(r2.ID, r3.ID))
}

func testConflictUpdate(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	prov2, blk2 := e.mustProviderIn(w)
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	e.mustApptApart(w, tm(1, 9, 0), withResources(r1.ID))
	b := e.mustApptApart(w, tm(1, 10, 0))
	c := e.mustApptApart(w, tm(1, 9, 0), withProvider(prov2, blk2))
	d := e.mustApptApart(w, tm(1, 11, 0), withStatus(scheduling.StatusCanceled))

	moved := *b
	withSpan(tm(1, 9, 15), 30*time.Minute, 0, 0)(&moved)
	moved.UpdatedAt = e.ts()
	wantErrKind(e.t, "UpdateAppointment(onto a held seat)", e.s.UpdateAppointment(e.ctx, &moved), errs.KindConflict)
	e.wantUnchanged("after rejected move", b)

	moved.Seat = 2
	e.ok(e.s.UpdateAppointment(e.ctx, &moved), "UpdateAppointment(onto a free seat)")
	e.wantUnchanged("after move to a free seat", &moved)

	withR := *c
	withR.ResourceIDs = []scheduling.ResourceID{r1.ID}
	withR.UpdatedAt = e.ts()
	wantErrKind(e.t, "UpdateAppointment(adding a held resource)", e.s.UpdateAppointment(e.ctx, &withR), errs.KindConflict)
	e.wantUnchanged("after rejected resource", c)

	toProv := *c
	toProv.ProviderID, toProv.BlockID = w.prov.ID, w.blk.ID
	toProv.UpdatedAt = e.ts()
	wantErrKind(e.t, "UpdateAppointment(to a busy provider)", e.s.UpdateAppointment(e.ctx, &toProv), errs.KindConflict)
	e.wantUnchanged("after rejected provider change", c)

	// Reactivating a canceled appointment over a held seat is a conflict.
	back := *d
	withSpan(tm(1, 9, 0), 30*time.Minute, 0, 0)(&back)
	back.UpdatedAt = e.ts()
	e.ok(e.s.UpdateAppointment(e.ctx, &back), "UpdateAppointment(canceled, over a held seat)")
	react := back
	react.Status = scheduling.StatusConfirmed
	react.UpdatedAt = e.ts()
	wantErrKind(e.t, "UpdateAppointment(reactivate over a held seat)", e.s.UpdateAppointment(e.ctx, &react), errs.KindConflict)
	e.wantUnchanged("after rejected reactivation", &back)
}

func testConflictUpdateCancelFrees(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	prov2, blk2 := e.mustProviderIn(w)
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	for i, s := range []scheduling.Status{scheduling.StatusCanceled, scheduling.StatusNoVisit} {
		start := tm(1+i, 9, 0)
		a := e.mustApptApart(w, start, withResources(r1.ID))
		e.wantInsertConflict("before "+string(s), e.apptApart(w, start, withProvider(prov2, blk2), withResources(r1.ID)))
		upd := *a
		upd.Status = s
		upd.UpdatedAt = e.ts()
		e.ok(e.s.UpdateAppointment(e.ctx, &upd), "UpdateAppointment(%s)", s)
		// The seat and the resource are free again; the appointment stays.
		e.mustApptApart(w, start, withResources(r1.ID))
		e.wantUnchanged("after "+string(s), &upd)
		// Now it cannot come back.
		react := upd
		react.Status = scheduling.StatusConfirmed
		react.UpdatedAt = e.ts()
		wantErrKind(e.t, "reactivate after "+string(s), e.s.UpdateAppointment(e.ctx, &react), errs.KindConflict)
		e.wantUnchanged("after rejected reactivation", &upd)
	}
}

func testConflictUpdateSelf(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	a := e.mustApptApart(w, tm(1, 9, 0), withResources(r1.ID))

	unchanged := *a
	unchanged.UpdatedAt = e.ts()
	e.ok(e.s.UpdateAppointment(e.ctx, &unchanged), "UpdateAppointment(unchanged times)")
	moved := unchanged
	withSpan(tm(1, 9, 15), 30*time.Minute, 5*time.Minute, 5*time.Minute)(&moved)
	moved.Status = scheduling.StatusArrived
	moved.UpdatedAt = e.ts()
	e.ok(e.s.UpdateAppointment(e.ctx, &moved), "UpdateAppointment(overlapping its own old time)")
	e.wantUnchanged("after move onto its own time", &moved)

	// Its old time is free, its new time is held.
	e.mustApptApart(w, tm(1, 8, 40), withSpan(tm(1, 8, 40), 30*time.Minute, 0, 0), withResources(r1.ID))
	e.wantInsertConflict("new time is held", e.apptApart(w, tm(1, 9, 30), withSeat(2), withProvider(w.prov, e.mustBlock(w.p.ID, w.prov.ID, w.loc.ID)), withResources(r1.ID)))
}
