package schedtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

var holdCases = []testCase{
	{"Holds", testHolds},
	{"SlotInputs", testSlotInputs},
	{"FinishedVisits", testFinishedVisits},
}

// providerHold is the hold a of a provider.
func providerHold(a *scheduling.Appointment) scheduling.Hold {
	return scheduling.Hold{AppointmentID: a.ID, OwnerID: a.ProviderID, BlockID: a.BlockID, Seat: a.Seat, Start: a.HoldStart, End: a.HoldEnd}
}

// resourceHold is the hold of resource r by a. Seat is left out: the
// contract does not say what a resource hold's seat is.
func resourceHold(a *scheduling.Appointment, r uuid.UUID) scheduling.Hold {
	return scheduling.Hold{AppointmentID: a.ID, OwnerID: r, BlockID: a.BlockID, Start: a.HoldStart, End: a.HoldEnd}
}

// checkHolds checks one list of holds: non-nil, in UTC, ordered by Start, and
// holding want. Holds with the same Start may come in any order.
func checkHolds(t *testing.T, what string, got, want []scheduling.Hold, resource bool) {
	t.Helper()
	checkShape(t, what, got)
	for i := 1; i < len(got); i++ {
		if got[i].Start.Before(got[i-1].Start) {
			t.Errorf("%s: not ordered by Start: [%d] %v before [%d] %v", what, i-1, got[i-1].Start, i, got[i].Start)
		}
	}
	key := func(h scheduling.Hold) string {
		return fmt.Sprintf("%s %s %s", h.Start.UTC().Format(time.RFC3339Nano), h.OwnerID, h.AppointmentID)
	}
	norm := func(hs []scheduling.Hold) []scheduling.Hold {
		out := normalized(slices.Clone(hs))
		if out == nil {
			out = []scheduling.Hold{}
		}
		for i := range out {
			if resource {
				out[i].Seat = 0
			}
		}
		slices.SortFunc(out, func(a, b scheduling.Hold) int { return strings.Compare(key(a), key(b)) })
		return out
	}
	assertEqual(t, norm(want), norm(got), what)
}

func checkHoldsPair(t *testing.T, what string, got scheduling.Holds, wantP, wantR []scheduling.Hold) {
	t.Helper()
	checkHolds(t, what+": Provider", got.Provider, wantP, false)
	checkHolds(t, what+": Resource", got.Resource, wantR, true)
}

func testHolds(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	q := e.mustFixture("Oak Street Clinic")
	prov2, blk2 := e.mustProviderIn(w)
	prov3, blk3 := e.mustProviderIn(w)
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	r2 := e.mustResource(w.p.ID, w.loc.ID, "Room 2", scheduling.Room)
	r3 := e.mustResource(w.p.ID, w.loc.ID, "Room 3", scheduling.Room)
	rq := e.mustResource(q.p.ID, q.loc.ID, "Room 1", scheduling.Room)

	h1 := e.mustApptApart(w, tm(1, 9, 0), withResources(r1.ID, r2.ID), withSpan(tm(1, 9, 0), 30*time.Minute, 10*time.Minute, 10*time.Minute))
	h2 := e.mustApptApart(w, tm(1, 8, 0), withSeat(2), withResources(r1.ID), withStatus(scheduling.StatusNew))
	h3 := e.mustApptApart(w, tm(1, 10, 0), withProvider(prov2, blk2), withResources(r2.ID), withStatus(scheduling.StatusArrived))
	e.mustApptApart(w, tm(1, 11, 0), withResources(r1.ID), withStatus(scheduling.StatusCanceled))
	e.mustApptApart(w, tm(1, 12, 0), withResources(r2.ID), withStatus(scheduling.StatusNoVisit))
	h6 := e.mustApptApart(w, tm(1, 13, 0), withResources(r1.ID), withStatus(scheduling.StatusOut))
	h7 := e.mustApptApart(w, tm(1, 9, 0), withProvider(prov3, blk3), withResources(r3.ID))
	e.mustApptApart(w, tm(2, 9, 0), withResources(r1.ID))
	e.mustAppt(q, tm(1, 9, 0), withResources(rq.ID))

	provs := []scheduling.ProviderID{w.prov.ID, prov2.ID}
	res := []scheduling.ResourceID{r1.ID, r2.ID}
	from, to := tm(1, 0, 0), tm(2, 0, 0)

	got, err := e.s.Holds(e.ctx, w.p.ID, provs, res, from, to)
	e.ok(err, "Holds")
	checkHoldsPair(e.t, "Holds(day 1)", got,
		[]scheduling.Hold{providerHold(h2), providerHold(h1), providerHold(h3), providerHold(h6)},
		[]scheduling.Hold{resourceHold(h2, r1.ID), resourceHold(h1, r1.ID), resourceHold(h1, r2.ID), resourceHold(h3, r2.ID), resourceHold(h6, r1.ID)})

	cases := []struct {
		name     string
		provs    []scheduling.ProviderID
		res      []scheduling.ResourceID
		from, to time.Time
		wantP    []scheduling.Hold
		wantR    []scheduling.Hold
		practice tenant.PracticeID
	}{
		{name: "Nothing asked", from: from, to: to},
		{name: "Providers only", provs: []scheduling.ProviderID{prov2.ID, prov3.ID}, from: from, to: to,
			wantP: []scheduling.Hold{providerHold(h7), providerHold(h3)}},
		{name: "Resources only", res: []scheduling.ResourceID{r3.ID, r2.ID}, from: from, to: to,
			wantR: []scheduling.Hold{resourceHold(h1, r2.ID), resourceHold(h7, r3.ID), resourceHold(h3, r2.ID)}},
		{name: "Hold end touches from", provs: provs, res: res, from: tm(1, 9, 40), to: tm(1, 10, 0)},
		{name: "Hold start touches to", provs: provs, res: res, from: tm(1, 9, 45), to: tm(1, 10, 0)},
		{name: "Inside a hold", provs: provs, res: res, from: tm(1, 9, 39), to: tm(1, 9, 41),
			wantP: []scheduling.Hold{providerHold(h1)}, wantR: []scheduling.Hold{resourceHold(h1, r1.ID), resourceHold(h1, r2.ID)}},
		{name: "Buffer, not visit", provs: provs, from: tm(1, 8, 45), to: tm(1, 8, 55),
			wantP: []scheduling.Hold{providerHold(h1)}},
		{name: "Inactive do not hold", provs: provs, res: res, from: tm(1, 11, 0), to: tm(1, 12, 30)},
		{name: "Other practice's IDs", provs: []scheduling.ProviderID{q.prov.ID}, res: []scheduling.ResourceID{rq.ID}, from: from, to: to},
		{name: "Asked as other practice", provs: provs, res: res, from: from, to: to, practice: q.p.ID},
	}
	for _, tc := range cases {
		e.t.Run(tc.name, func(t *testing.T) {
			practice := w.p.ID
			if tc.practice != uuid.Nil {
				practice = tc.practice
			}
			got, err := e.s.Holds(e.ctx, practice, tc.provs, tc.res, tc.from, tc.to)
			e.sub(t).ok(err, "Holds")
			checkHoldsPair(t, "Holds", got, tc.wantP, tc.wantR)
		})
	}
}

func testSlotInputs(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	q := e.mustFixture("Oak Street Clinic")
	prov2, blk2 := e.mustProviderIn(w)
	prov3, blk3 := e.mustProviderIn(w)
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	// A block of an asked provider that starts after the window.
	e.mustBlock(w.p.ID, w.prov.ID, w.loc.ID, func(b *scheduling.Block) {
		b.Start, b.End, b.RRule = tm(10, 9, 0), tm(10, 17, 0), ""
		end := b.End
		b.SpanEnd = &end
	})
	earlier := e.mustBlock(w.p.ID, prov2.ID, w.loc.ID, func(b *scheduling.Block) {
		b.Start, b.End, b.RRule = tm(-5, 9, 0), tm(-5, 17, 0), "FREQ=DAILY;COUNT=20"
		end := tm(14, 17, 0)
		b.SpanEnd = &end
	})
	a1 := e.mustAppt(w, tm(1, 9, 0), withResources(r1.ID))
	a2 := e.mustAppt(w, tm(1, 10, 0), withProvider(prov2, blk2))
	a3 := e.mustAppt(w, tm(1, 11, 0), withProvider(prov3, blk3), withResources(r1.ID))
	e.mustAppt(w, tm(1, 12, 0), withStatus(scheduling.StatusCanceled))
	e.mustAppt(q, tm(1, 9, 0))

	provs := []scheduling.ProviderID{w.prov.ID, prov2.ID}
	res := []scheduling.ResourceID{r1.ID}
	from, to := tm(1, 0, 0), tm(2, 0, 0)
	blocks, holds, err := e.s.SlotInputs(e.ctx, w.p.ID, provs, res, from, to)
	e.ok(err, "SlotInputs")
	wantBlocks := []*scheduling.Block{earlier}
	wantBlocks = append(wantBlocks, sortedBy([]*scheduling.Block{w.blk, blk2}, func(a, b *scheduling.Block) int { return 0 })...)
	sameList(e.t, "SlotInputs blocks", blocks, wantBlocks)
	checkHoldsPair(e.t, "SlotInputs holds", holds,
		[]scheduling.Hold{providerHold(a1), providerHold(a2)},
		[]scheduling.Hold{resourceHold(a1, r1.ID), resourceHold(a3, r1.ID)})

	// The same as ListBlocks and Holds.
	lb, err := e.s.ListBlocks(e.ctx, w.p.ID, scheduling.BlockFilter{ProviderIDs: provs, From: from, To: to})
	e.ok(err, "ListBlocks")
	sameList(e.t, "SlotInputs blocks vs ListBlocks", blocks, lb)
	h, err := e.s.Holds(e.ctx, w.p.ID, provs, res, from, to)
	e.ok(err, "Holds")
	checkHoldsPair(e.t, "SlotInputs holds vs Holds", holds, h.Provider, h.Resource)

	// Only the practice's rows.
	blocks, holds, err = e.s.SlotInputs(e.ctx, q.p.ID, provs, res, from, to)
	e.ok(err, "SlotInputs(other practice)")
	wantIDs(e.t, "SlotInputs(other practice) blocks", blocks)
	checkHoldsPair(e.t, "SlotInputs(other practice) holds", holds, nil, nil)

	blocks, holds, err = e.s.SlotInputs(e.ctx, w.p.ID, nil, nil, from, to)
	e.ok(err, "SlotInputs(nothing asked)")
	wantIDs(e.t, "SlotInputs(nothing asked) blocks", blocks)
	checkHoldsPair(e.t, "SlotInputs(nothing asked) holds", holds, nil, nil)
}

// testFinishedVisits compares the visits as a set: the contract gives them
// no order.
func testFinishedVisits(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	q := e.mustFixture("Oak Street Clinic")
	prov2, blk2 := e.mustProviderIn(w)
	pa, pb, pc := w.pat, e.mustPatient(w.p.ID), e.mustPatient(w.p.ID)
	out := withStatus(scheduling.StatusOut)

	f1 := e.mustAppt(w, tm(1, 9, 0), withPatient(pa), out)
	f2 := e.mustAppt(w, tm(2, 9, 0), withPatient(pa), out, withProvider(prov2, blk2))
	f3 := e.mustAppt(w, tm(1, 10, 0), withPatient(pb), out)
	f8 := e.mustAppt(w, tm(0, 9, 0), withPatient(pb), out) // Start == from: in
	for i, s := range []scheduling.Status{scheduling.StatusNew, scheduling.StatusConfirmed, scheduling.StatusArrived, scheduling.StatusCanceled, scheduling.StatusNoVisit} {
		e.mustAppt(w, tm(1, 11+i, 0), withPatient(pa), withStatus(s))
	}
	e.mustAppt(w, tm(1, 17, 0), withPatient(pc), out)                                               // not asked
	e.mustAppt(w, tm(5, 9, 0), withPatient(pa), out)                                                // Start == to: out
	e.mustAppt(w, tm(0, 8, 30), withPatient(pa), out, withSpan(tm(0, 8, 30), 30*time.Minute, 0, 0)) // starts before from
	e.mustAppt(q, tm(1, 9, 0), out)

	visit := func(a *scheduling.Appointment) scheduling.FinishedVisit {
		// Each visit carries its provider's specialties.
		prov, err := e.s.GetProvider(e.ctx, a.PracticeID, a.ProviderID)
		e.ok(err, "GetProvider")
		return scheduling.FinishedVisit{PatientID: a.PatientID, ProviderID: a.ProviderID, Specialties: prov.Specialties, Start: a.Start}
	}
	check := func(what string, got, want []scheduling.FinishedVisit) {
		e.t.Helper()
		checkShape(e.t, what, got)
		key := func(v scheduling.FinishedVisit) string {
			return v.Start.UTC().Format(time.RFC3339Nano) + " " + v.PatientID.String()
		}
		norm := func(vs []scheduling.FinishedVisit) []scheduling.FinishedVisit {
			out := normalized(slices.Clone(vs))
			if out == nil {
				out = []scheduling.FinishedVisit{}
			}
			slices.SortFunc(out, func(a, b scheduling.FinishedVisit) int { return strings.Compare(key(a), key(b)) })
			return out
		}
		assertEqual(e.t, norm(want), norm(got), what)
	}

	from, to := tm(0, 9, 0), tm(5, 9, 0)
	got, err := e.s.FinishedVisits(e.ctx, w.p.ID, []scheduling.PatientID{pa.ID, pb.ID}, from, to)
	e.ok(err, "FinishedVisits")
	check("FinishedVisits", got, []scheduling.FinishedVisit{visit(f8), visit(f1), visit(f3), visit(f2)})

	got, err = e.s.FinishedVisits(e.ctx, w.p.ID, []scheduling.PatientID{pb.ID}, tm(1, 0, 0), to)
	e.ok(err, "FinishedVisits(one patient)")
	check("FinishedVisits(one patient)", got, []scheduling.FinishedVisit{visit(f3)})

	got, err = e.s.FinishedVisits(e.ctx, w.p.ID, nil, from, to)
	e.ok(err, "FinishedVisits(no patients)")
	check("FinishedVisits(no patients)", got, nil)

	got, err = e.s.FinishedVisits(e.ctx, q.p.ID, []scheduling.PatientID{pa.ID, pb.ID, q.pat.ID}, from, to)
	e.ok(err, "FinishedVisits(other practice)")
	check("FinishedVisits(other practice)", got, []scheduling.FinishedVisit{{PatientID: q.pat.ID, ProviderID: q.prov.ID, Specialties: q.prov.Specialties, Start: tm(1, 9, 0)}})
}
