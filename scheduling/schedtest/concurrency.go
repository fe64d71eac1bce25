package schedtest

import (
	"context"
	"fmt"
	"sync"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
)

var concurrencyCases = []testCase{
	{"ConcurrentBookingWithLock", testConcurrentBookingWithLock},
	{"ConcurrentInsertSameSeat", testConcurrentInsertSameSeat},
	{"ConcurrentInsertSameResource", testConcurrentInsertSameResource},
}

// racers is how many goroutines compete for one slot.
const racers = 32

// race runs book in racers goroutines at once and checks that exactly one
// succeeds and every other one fails with KindConflict.
func (e *env) race(book func(i int) error) {
	e.t.Helper()
	start := make(chan struct{})
	errc := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errc[i] = book(i)
		}()
	}
	close(start)
	wg.Wait()
	won, lost := 0, 0
	for i, err := range errc {
		switch {
		case err == nil:
			won++
		case errs.KindOf(err) == errs.KindConflict:
			lost++
		default:
			e.t.Errorf("racer %d: err = %v (kind %v), want nil or KindConflict", i, err, errs.KindOf(err))
		}
	}
	if won != 1 {
		e.t.Errorf("%d racers booked the slot, want exactly 1 (%d conflicts)", won, lost)
	}
}

// wantOneActive checks that exactly one active appointment is stored in w.
func (e *env) wantOneActive(w *fixture) {
	e.t.Helper()
	list, err := e.s.ListAppointments(e.ctx, w.p.ID, scheduling.AppointmentFilter{Status: scheduling.ActiveStatuses})
	e.ok(err, "ListAppointments")
	if len(list) != 1 {
		e.t.Errorf("%d active appointments stored, want 1", len(list))
	}
}

// testConcurrentBookingWithLock runs the Service's booking pattern: lock the
// provider and the resource, look for holds, insert.
func testConcurrentBookingWithLock(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	appts := make([]*scheduling.Appointment, racers)
	for i := range appts {
		appts[i] = e.apptApart(w, tm(1, 9, 0), withResources(r1.ID))
	}
	keys := sortedKeys(w.prov.ID, r1.ID)
	e.race(func(i int) error {
		a := appts[i]
		return e.s.InTx(e.ctx, func(ctx context.Context) error {
			if err := e.s.Lock(ctx, keys...); err != nil {
				return err
			}
			h, err := e.s.Holds(ctx, a.PracticeID, []scheduling.ProviderID{a.ProviderID}, a.ResourceIDs, a.HoldStart, a.HoldEnd)
			if err != nil {
				return err
			}
			for _, x := range h.Provider {
				if x.Seat == a.Seat {
					return errs.Conflict("schedtest.book", fmt.Sprintf("seat taken by %s", x.AppointmentID))
				}
			}
			if len(h.Resource) > 0 {
				return errs.Conflict("schedtest.book", "resource taken")
			}
			return e.s.InsertAppointment(ctx, a)
		})
	})
	e.wantOneActive(w)
}

// testConcurrentInsertSameSeat leaves everything to InsertAppointment: no
// transaction, no lock, no check first.
func testConcurrentInsertSameSeat(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	appts := make([]*scheduling.Appointment, racers)
	for i := range appts {
		appts[i] = e.apptApart(w, tm(1, 9, 0))
	}
	e.race(func(i int) error { return e.s.InsertAppointment(e.ctx, appts[i]) })
	e.wantOneActive(w)
}

// testConcurrentInsertSameResource has every racer book another provider,
// all needing the same room.
func testConcurrentInsertSameResource(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	appts := make([]*scheduling.Appointment, racers)
	for i := range appts {
		p, b := e.mustProviderIn(w)
		appts[i] = e.apptApart(w, tm(1, 9, 0), withProvider(p, b), withResources(r1.ID))
	}
	e.race(func(i int) error { return e.s.InsertAppointment(e.ctx, appts[i]) })
	e.wantOneActive(w)
}
