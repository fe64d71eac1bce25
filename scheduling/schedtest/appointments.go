package schedtest

import (
	"slices"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/google/uuid"
)

var appointmentCases = []testCase{
	{"AppointmentRoundTrip", testAppointmentRoundTrip},
	{"AppointmentUpdate", testAppointmentUpdate},
	{"ListAppointments", testListAppointments},
	{"Changes", testChanges},
}

func testAppointmentRoundTrip(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	q := e.mustFixture("Oak Street Clinic")
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	r2 := e.mustResource(w.p.ID, w.loc.ID, "Echo", scheduling.Equipment)

	full := e.appt(w, tm(1, 9, 0), withSeat(2), withStatus(scheduling.StatusNew), withResources(r1.ID, r2.ID),
		withSpan(tm(1, 9, 0).Add(321*time.Microsecond), 45*time.Minute, 10*time.Minute, 5*time.Minute),
		func(a *scheduling.Appointment) {
			a.BookedBy = "patient:" + w.pat.ID.String()
			a.PatientKind = scheduling.NewPatient
			a.UpdatedAt = a.CreatedAt.Add(90 * time.Second)
		})
	e.mustInsert(full)
	got, err := e.s.GetAppointment(e.ctx, w.p.ID, full.ID)
	e.ok(err, "GetAppointment")
	want := *full
	want.PatientKind = "" // computed by the Service, never stored
	same(e.t, "GetAppointment", got, &want)

	// Every status round-trips; an appointment without resources comes
	// back with an empty, non-nil ResourceIDs.
	for i, s := range []scheduling.Status{
		scheduling.StatusNew, scheduling.StatusConfirmed, scheduling.StatusArrived,
		scheduling.StatusOut, scheduling.StatusCanceled, scheduling.StatusNoVisit,
	} {
		a := e.mustAppt(w, tm(2, 8+i, 0), withStatus(s), withResources())
		a.ResourceIDs = nil
		got, err := e.s.GetAppointment(e.ctx, w.p.ID, a.ID)
		e.ok(err, "GetAppointment(%s)", s)
		same(e.t, "GetAppointment("+string(s)+")", got, a)
	}

	_, err = e.s.GetAppointment(e.ctx, q.p.ID, full.ID)
	wantErrKind(e.t, "GetAppointment(other practice)", err, errs.KindNotFound)
	_, err = e.s.GetAppointment(e.ctx, w.p.ID, newID())
	wantErrKind(e.t, "GetAppointment(unknown id)", err, errs.KindNotFound)
}

// testAppointmentUpdate reads the list in UpdateAppointment's comment as
// exhaustive: VisitTypeID, PatientID, BookedBy and CreatedAt keep their
// stored values whatever the update carries.
func testAppointmentUpdate(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	q := e.mustFixture("Oak Street Clinic")
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	r2 := e.mustResource(w.p.ID, w.loc.ID, "Room 2", scheduling.Room)
	loc2 := e.mustLocation(w.p.ID, "Uptown")
	prov2, _ := e.mustProviderIn(w)
	blk2 := e.mustBlock(w.p.ID, prov2.ID, loc2.ID)
	vt2 := e.mustVisitType(w.p.ID, func(v *scheduling.VisitType) { v.Name = "Long" })
	pat2 := e.mustPatient(w.p.ID)

	orig := e.mustAppt(w, tm(1, 9, 0), withResources(r1.ID))
	bystander := e.mustAppt(w, tm(1, 11, 0), withResources(r1.ID))

	upd := *orig
	upd.ProviderID, upd.LocationID, upd.BlockID = prov2.ID, loc2.ID, blk2.ID
	withSpan(tm(3, 14, 0).Add(7*time.Microsecond), time.Hour, 15*time.Minute, 15*time.Minute)(&upd)
	upd.Seat = 2
	upd.Status = scheduling.StatusArrived
	upd.ResourceIDs = []scheduling.ResourceID{r2.ID}
	upd.UpdatedAt = e.ts()
	// Not in the list of written fields:
	upd.VisitTypeID, upd.PatientID, upd.BookedBy = vt2.ID, pat2.ID, "staff:someone-else"
	upd.CreatedAt = orig.CreatedAt.Add(-time.Hour)
	upd.PatientKind = scheduling.EstablishedPatient
	e.ok(e.s.UpdateAppointment(e.ctx, &upd), "UpdateAppointment")

	want := upd
	want.VisitTypeID, want.PatientID, want.BookedBy = orig.VisitTypeID, orig.PatientID, orig.BookedBy
	want.CreatedAt = orig.CreatedAt
	want.PatientKind = ""
	got, err := e.s.GetAppointment(e.ctx, w.p.ID, orig.ID)
	e.ok(err, "GetAppointment")
	same(e.t, "GetAppointment after UpdateAppointment", got, &want)
	got, err = e.s.GetAppointment(e.ctx, w.p.ID, bystander.ID)
	e.ok(err, "GetAppointment(bystander)")
	same(e.t, "other appointment after UpdateAppointment", got, bystander)

	// The resources are replaced, not added to.
	list, err := e.s.ListAppointments(e.ctx, w.p.ID, scheduling.AppointmentFilter{ResourceID: &r1.ID})
	e.ok(err, "ListAppointments(resource 1)")
	wantIDs(e.t, "ListAppointments(old resource) after UpdateAppointment", list, bystander.ID)

	// Resources can be dropped altogether.
	none := want
	none.ResourceIDs = nil
	none.UpdatedAt = e.ts()
	e.ok(e.s.UpdateAppointment(e.ctx, &none), "UpdateAppointment(no resources)")
	got, err = e.s.GetAppointment(e.ctx, w.p.ID, orig.ID)
	e.ok(err, "GetAppointment")
	none.ResourceIDs = []scheduling.ResourceID{}
	same(e.t, "GetAppointment after dropping resources", got, &none)

	foreign := none
	foreign.PracticeID = q.p.ID
	foreign.Status = scheduling.StatusCanceled
	foreign.UpdatedAt = e.ts()
	wantErrKind(e.t, "UpdateAppointment(other practice)", e.s.UpdateAppointment(e.ctx, &foreign), errs.KindNotFound)
	got, err = e.s.GetAppointment(e.ctx, w.p.ID, orig.ID)
	e.ok(err, "GetAppointment")
	same(e.t, "GetAppointment after UpdateAppointment from other practice", got, &none)

	unknown := *e.appt(w, tm(5, 9, 0))
	wantErrKind(e.t, "UpdateAppointment(unknown id)", e.s.UpdateAppointment(e.ctx, &unknown), errs.KindNotFound)
	_, err = e.s.GetAppointment(e.ctx, w.p.ID, unknown.ID)
	wantErrKind(e.t, "GetAppointment(after update of unknown id)", err, errs.KindNotFound)
}

func testListAppointments(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	q := e.mustFixture("Oak Street Clinic")
	foreign := e.mustAppt(q, tm(1, 9, 0))
	prov2, blk2 := e.mustProviderIn(w)
	loc2 := e.mustLocation(w.p.ID, "Uptown")
	blkL2 := e.mustBlock(w.p.ID, w.prov.ID, loc2.ID)
	pat2 := e.mustPatient(w.p.ID)
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	r2 := e.mustResource(w.p.ID, w.loc.ID, "Room 2", scheduling.Room)
	rq := e.mustResource(q.p.ID, q.loc.ID, "Room 1", scheduling.Room)

	id := sortedIDs(7)
	base := e.ts()
	made := func(n int, created int) func(*scheduling.Appointment) {
		return func(a *scheduling.Appointment) {
			a.ID = id[n]
			a.CreatedAt = base.Add(time.Duration(created) * time.Minute)
			a.UpdatedAt = a.CreatedAt
		}
	}
	on := withProvider(prov2, blk2)
	a1 := e.mustAppt(w, tm(1, 9, 0), made(3, 3), withResources(r1.ID))
	a2 := e.mustAppt(w, tm(1, 9, 0), made(1, 1), on, withPatient(pat2), withStatus(scheduling.StatusNew))
	a3 := e.mustAppt(w, tm(1, 10, 0), made(5, 5), withResources(r1.ID, r2.ID), withStatus(scheduling.StatusCanceled))
	a4 := e.mustAppt(w, tm(2, 9, 0), made(6, 0), withPatient(pat2), withResources(r2.ID), withStatus(scheduling.StatusOut),
		func(a *scheduling.Appointment) { a.LocationID, a.BlockID = loc2.ID, blkL2.ID })
	a5 := e.mustAppt(w, tm(1, 11, 0), made(0, 3), on, withStatus(scheduling.StatusArrived))
	a6 := e.mustAppt(w, tm(1, 12, 0), made(2, 6), withStatus(scheduling.StatusNoVisit),
		withSpan(tm(1, 12, 0), 30*time.Minute, 15*time.Minute, 15*time.Minute))
	a7 := e.mustAppt(w, tm(3, 9, 0), made(4, 2), on)
	byStart := []*scheduling.Appointment{a2, a1, a3, a5, a6, a4, a7}
	byCreated := []*scheduling.Appointment{a4, a2, a7, a5, a1, a3, a6}
	ptr := func(u uuid.UUID) *uuid.UUID { return &u }
	prov1 := w.prov.ID

	cases := []struct {
		name string
		f    scheduling.AppointmentFilter
		want []*scheduling.Appointment
	}{
		{"All", scheduling.AppointmentFilter{}, byStart},
		{"ByCreated", scheduling.AppointmentFilter{ByCreated: true}, byCreated},
		{"IDs", scheduling.AppointmentFilter{IDs: []uuid.UUID{a7.ID, a1.ID, foreign.ID}}, []*scheduling.Appointment{a1, a7}},
		{"Provider", scheduling.AppointmentFilter{ProviderIDs: []uuid.UUID{prov2.ID}}, []*scheduling.Appointment{a2, a5, a7}},
		{"Providers", scheduling.AppointmentFilter{ProviderIDs: []uuid.UUID{prov2.ID, prov1}}, byStart},
		{"ProviderOfOtherPractice", scheduling.AppointmentFilter{ProviderIDs: []uuid.UUID{q.prov.ID}}, nil},
		{"Location", scheduling.AppointmentFilter{LocationID: &loc2.ID}, []*scheduling.Appointment{a4}},
		{"Resource", scheduling.AppointmentFilter{ResourceID: &r1.ID}, []*scheduling.Appointment{a1, a3}},
		{"Resource2", scheduling.AppointmentFilter{ResourceID: &r2.ID}, []*scheduling.Appointment{a3, a4}},
		{"ResourceOfOtherPractice", scheduling.AppointmentFilter{ResourceID: &rq.ID}, nil},
		{"Patient", scheduling.AppointmentFilter{PatientID: &pat2.ID}, []*scheduling.Appointment{a2, a4}},
		{"Block", scheduling.AppointmentFilter{BlockID: &blkL2.ID}, []*scheduling.Appointment{a4}},
		{"Block2", scheduling.AppointmentFilter{BlockID: ptr(blk2.ID)}, []*scheduling.Appointment{a2, a5, a7}},
		{"Status", scheduling.AppointmentFilter{Status: []scheduling.Status{scheduling.StatusConfirmed}}, []*scheduling.Appointment{a1, a7}},
		{"StatusSet", scheduling.AppointmentFilter{Status: []scheduling.Status{scheduling.StatusNoVisit, scheduling.StatusCanceled}}, []*scheduling.Appointment{a3, a6}},
		{"StatusActive", scheduling.AppointmentFilter{Status: scheduling.ActiveStatuses}, []*scheduling.Appointment{a2, a1, a5, a4, a7}},
		{"Overlap", scheduling.AppointmentFilter{From: tm(1, 9, 30), To: tm(1, 11, 0)}, []*scheduling.Appointment{a3}},
		{"OverlapInside", scheduling.AppointmentFilter{From: tm(1, 9, 10), To: tm(1, 9, 20)}, []*scheduling.Appointment{a2, a1}},
		{"OverlapIsVisitNotHold", scheduling.AppointmentFilter{From: tm(1, 11, 45), To: tm(1, 12, 0)}, nil},
		{"OverlapIsVisitNotHold2", scheduling.AppointmentFilter{From: tm(1, 12, 30), To: tm(1, 12, 45)}, nil},
		{"OverlapVisit", scheduling.AppointmentFilter{From: tm(1, 12, 29), To: tm(1, 12, 45)}, []*scheduling.Appointment{a6}},
		{"FromOnly", scheduling.AppointmentFilter{From: tm(2, 0, 0)}, []*scheduling.Appointment{a4, a7}},
		{"ToOnly", scheduling.AppointmentFilter{To: tm(1, 10, 0)}, []*scheduling.Appointment{a2, a1}},
		{"Limit", scheduling.AppointmentFilter{Limit: 3}, []*scheduling.Appointment{a2, a1, a3}},
		{"ByCreatedLimit", scheduling.AppointmentFilter{ByCreated: true, Limit: 2}, []*scheduling.Appointment{a4, a2}},
		{"ByCreatedProvider", scheduling.AppointmentFilter{ByCreated: true, ProviderIDs: []uuid.UUID{prov1}}, []*scheduling.Appointment{a4, a1, a3, a6}},
		{"Combined", scheduling.AppointmentFilter{
			ProviderIDs: []uuid.UUID{prov1}, Status: scheduling.ActiveStatuses,
			From: tm(1, 0, 0), To: tm(2, 0, 0), PatientID: &w.pat.ID,
		}, []*scheduling.Appointment{a1}},
	}
	for _, tc := range cases {
		e.t.Run(tc.name, func(t *testing.T) {
			got, err := e.s.ListAppointments(e.ctx, w.p.ID, tc.f)
			e.sub(t).ok(err, "ListAppointments")
			sameList(t, "ListAppointments", got, tc.want)
		})
	}

	got, err := e.s.ListAppointments(e.ctx, q.p.ID, scheduling.AppointmentFilter{})
	e.ok(err, "ListAppointments(other practice)")
	sameList(e.t, "ListAppointments(other practice)", got, []*scheduling.Appointment{foreign})
	got, err = e.s.ListAppointments(e.ctx, q.p.ID, scheduling.AppointmentFilter{IDs: ids(a1, a2)})
	e.ok(err, "ListAppointments(other practice, by IDs)")
	wantIDs(e.t, "ListAppointments(other practice, by IDs)", got)
}

// testChanges appends entries in time order but with IDs in the reverse
// order, so that a store ordering by ID instead of by time fails. A
// history asked for with the wrong practice may read as empty or as
// KindNotFound; both keep the record hidden.
func testChanges(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	q := e.mustFixture("Oak Street Clinic")
	a := e.mustAppt(w, tm(1, 9, 0))
	b := e.mustAppt(w, tm(1, 10, 0))
	id := sortedIDs(3)
	slices.Reverse(id)
	prev := tm(1, 8, 0).Add(42 * time.Microsecond)
	c1 := &scheduling.Change{ID: id[0], PracticeID: w.p.ID, AppointmentID: a.ID, Action: "book",
		To: scheduling.StatusNew, By: "patient:" + w.pat.ID.String(), At: e.ts()}
	c2 := &scheduling.Change{ID: id[1], PracticeID: w.p.ID, AppointmentID: a.ID, Action: "confirm",
		From: scheduling.StatusNew, To: scheduling.StatusConfirmed, By: "staff:desk", At: e.ts(), Reason: "called back"}
	c3 := &scheduling.Change{ID: id[2], PracticeID: w.p.ID, AppointmentID: a.ID, Action: "reschedule",
		From: scheduling.StatusConfirmed, To: scheduling.StatusConfirmed, By: "staff:desk", At: e.ts(), PrevStart: &prev}
	other := &scheduling.Change{ID: newID(), PracticeID: w.p.ID, AppointmentID: b.ID, Action: "book",
		To: scheduling.StatusConfirmed, By: "staff:desk", At: e.ts()}
	for _, c := range []*scheduling.Change{c1, other, c2, c3} {
		e.ok(e.s.AppendChange(e.ctx, c), "AppendChange(%s)", c.Action)
	}

	got, err := e.s.ListChanges(e.ctx, w.p.ID, a.ID)
	e.ok(err, "ListChanges")
	sameList(e.t, "ListChanges (oldest first)", got, []*scheduling.Change{c1, c2, c3})
	got, err = e.s.ListChanges(e.ctx, w.p.ID, b.ID)
	e.ok(err, "ListChanges(other appointment)")
	sameList(e.t, "ListChanges(other appointment)", got, []*scheduling.Change{other})

	got, err = e.s.ListChanges(e.ctx, w.p.ID, e.mustAppt(w, tm(1, 11, 0)).ID)
	e.ok(err, "ListChanges(no history)")
	wantIDs(e.t, "ListChanges(no history)", got)

	got, err = e.s.ListChanges(e.ctx, q.p.ID, a.ID)
	if err != nil {
		wantErrKind(e.t, "ListChanges(other practice)", err, errs.KindNotFound)
	} else {
		wantIDs(e.t, "ListChanges(other practice)", got)
	}

	// An entry filed under another practice, if the store takes it at all,
	// never shows in the appointment's history.
	stray := &scheduling.Change{ID: newID(), PracticeID: q.p.ID, AppointmentID: a.ID, Action: "cancel",
		From: scheduling.StatusConfirmed, To: scheduling.StatusCanceled, By: "staff:intruder", At: e.ts()}
	_ = e.s.AppendChange(e.ctx, stray)
	got, err = e.s.ListChanges(e.ctx, w.p.ID, a.ID)
	e.ok(err, "ListChanges")
	sameList(e.t, "ListChanges after an entry from another practice", got, []*scheduling.Change{c1, c2, c3})
}
