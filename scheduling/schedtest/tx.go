package schedtest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/google/uuid"
)

var txCases = []testCase{
	{"TxCommit", testTxCommit},
	{"TxRollback", testTxRollback},
	{"TxRollbackAfterConflict", testTxRollbackAfterConflict},
	{"TxNested", testTxNested},
	{"TxContext", testTxContext},
	{"TxLock", testTxLock},
	{"TxLockSerializes", testTxLockSerializes},
}

var errBoom = errors.New("schedtest: boom")

func testTxCommit(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	p := e.newProvider(w.p.ID)
	a := e.appt(w, tm(1, 9, 0))
	err := e.s.InTx(e.ctx, func(ctx context.Context) error {
		if err := e.s.CreateProvider(ctx, p); err != nil {
			return err
		}
		got, err := e.s.GetProvider(ctx, w.p.ID, p.ID)
		if err != nil {
			return err
		}
		same(e.t, "GetProvider inside the transaction", got, p)
		return e.s.InsertAppointment(ctx, a)
	})
	e.ok(err, "InTx")
	got, err := e.s.GetProvider(e.ctx, w.p.ID, p.ID)
	e.ok(err, "GetProvider after commit")
	same(e.t, "GetProvider after commit", got, p)
	gotA, err := e.s.GetAppointment(e.ctx, w.p.ID, a.ID)
	e.ok(err, "GetAppointment after commit")
	same(e.t, "GetAppointment after commit", gotA, a)
}

func testTxRollback(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	p := e.newProvider(w.p.ID)
	a := e.appt(w, tm(1, 9, 0), withResources(r1.ID))
	c := &scheduling.Change{ID: newID(), PracticeID: w.p.ID, AppointmentID: a.ID, Action: "book",
		To: scheduling.StatusConfirmed, By: "staff:desk", At: e.ts()}
	upd := *w.pat
	upd.GivenName = "Rolled Back"
	err := e.s.InTx(e.ctx, func(ctx context.Context) error {
		for _, err := range []error{
			e.s.CreateProvider(ctx, p),
			e.s.InsertAppointment(ctx, a),
			e.s.AppendChange(ctx, c),
			e.s.UpdatePatient(ctx, &upd),
			e.s.DeleteBlock(ctx, w.blk.ID, newID()), // ignored: not found
		} {
			if err != nil && errs.KindOf(err) != errs.KindNotFound {
				return err
			}
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		e.t.Errorf("InTx returned %v, want fn's error", err)
	}
	_, err = e.s.GetProvider(e.ctx, w.p.ID, p.ID)
	wantErrKind(e.t, "GetProvider after rollback", err, errs.KindNotFound)
	_, err = e.s.GetAppointment(e.ctx, w.p.ID, a.ID)
	wantErrKind(e.t, "GetAppointment after rollback", err, errs.KindNotFound)
	list, err := e.s.ListAppointments(e.ctx, w.p.ID, scheduling.AppointmentFilter{ResourceID: &r1.ID})
	e.ok(err, "ListAppointments after rollback")
	wantIDs(e.t, "ListAppointments(resource) after rollback", list)
	gotPat, err := e.s.GetPatient(e.ctx, w.p.ID, w.pat.ID)
	e.ok(err, "GetPatient after rollback")
	same(e.t, "GetPatient after rollback", gotPat, w.pat)
	changes, err := e.s.ListChanges(e.ctx, w.p.ID, a.ID)
	if err == nil {
		wantIDs(e.t, "ListChanges after rollback", changes)
	}
	// The slot is free: nothing held it.
	e.mustInsert(e.appt(w, tm(1, 9, 0), withResources(r1.ID)))

	// The kind of fn's error survives the rollback.
	err = e.s.InTx(e.ctx, func(ctx context.Context) error {
		return errs.Conflict("schedtest", "taken")
	})
	wantErrKind(e.t, "InTx returning a conflict", err, errs.KindConflict)
}

func testTxRollbackAfterConflict(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	e.mustAppt(w, tm(1, 9, 0))
	first := e.appt(w, tm(2, 9, 0))
	clash := e.appt(w, tm(1, 9, 0))
	err := e.s.InTx(e.ctx, func(ctx context.Context) error {
		if err := e.s.InsertAppointment(ctx, first); err != nil {
			return err
		}
		return e.s.InsertAppointment(ctx, clash)
	})
	wantErrKind(e.t, "InTx with a conflicting insert", err, errs.KindConflict)
	_, err = e.s.GetAppointment(e.ctx, w.p.ID, first.ID)
	wantErrKind(e.t, "GetAppointment(written before the conflict)", err, errs.KindNotFound)
	// The store is usable afterwards.
	e.mustInsert(first)
}

func testTxNested(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	outerP, innerP := e.newProvider(w.p.ID), e.newProvider(w.p.ID)
	nested := func(outcome error) error {
		return e.s.InTx(e.ctx, func(ctx context.Context) error {
			if err := e.s.CreateProvider(ctx, outerP); err != nil {
				return err
			}
			err := e.s.InTx(ctx, func(ctx context.Context) error {
				// Same transaction: the outer write is visible here.
				if _, err := e.s.GetProvider(ctx, w.p.ID, outerP.ID); err != nil {
					return err
				}
				return e.s.CreateProvider(ctx, innerP)
			})
			if err != nil {
				return err
			}
			if _, err := e.s.GetProvider(ctx, w.p.ID, innerP.ID); err != nil {
				return err
			}
			return outcome
		})
	}

	// The outer failure takes back the inner work: one transaction.
	if err := nested(errBoom); !errors.Is(err, errBoom) {
		e.t.Fatalf("nested InTx rolled back: err = %v, want fn's error", err)
	}
	for _, p := range []*scheduling.Provider{outerP, innerP} {
		_, err := e.s.GetProvider(e.ctx, w.p.ID, p.ID)
		wantErrKind(e.t, "GetProvider after rollback of nested InTx", err, errs.KindNotFound)
	}

	e.ok(nested(nil), "nested InTx")
	for _, p := range []*scheduling.Provider{outerP, innerP} {
		got, err := e.s.GetProvider(e.ctx, w.p.ID, p.ID)
		e.ok(err, "GetProvider after commit of nested InTx")
		same(e.t, "GetProvider after commit of nested InTx", got, p)
	}

	// An inner error reaches the outer fn.
	err := e.s.InTx(e.ctx, func(ctx context.Context) error {
		return e.s.InTx(ctx, func(context.Context) error { return errBoom })
	})
	if !errors.Is(err, errBoom) {
		e.t.Errorf("inner InTx error: got %v, want fn's error", err)
	}
}

// testTxContext checks that the transaction is the context's: a write made
// with the transaction's context is not seen with another context until
// it commits, HasTx tells the two apart, and a context derived from the
// transaction's still carries it.
func testTxContext(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	p := e.newProvider(w.p.ID)
	if e.s.HasTx(e.ctx) {
		e.t.Errorf("HasTx outside InTx = true")
	}
	err := e.s.InTx(e.ctx, func(ctx context.Context) error {
		if !e.s.HasTx(ctx) {
			e.t.Errorf("HasTx inside InTx = false")
		}
		if err := e.s.CreateProvider(ctx, p); err != nil {
			return err
		}
		derived, cancel := context.WithCancel(ctx)
		defer cancel()
		if _, err := e.s.GetProvider(derived, w.p.ID, p.ID); err != nil {
			e.t.Errorf("GetProvider with a context derived from the transaction's: %v", err)
		}
		// Another context reads outside the transaction: the write is not
		// committed yet.
		_, err := e.s.GetProvider(e.ctx, w.p.ID, p.ID)
		wantErrKind(e.t, "GetProvider outside the open transaction", err, errs.KindNotFound)
		return nil
	})
	e.ok(err, "InTx")
	got, err := e.s.GetProvider(e.ctx, w.p.ID, p.ID)
	e.ok(err, "GetProvider after commit")
	same(e.t, "GetProvider after commit", got, p)
}

func sortedKeys(keys ...uuid.UUID) []uuid.UUID {
	s := append([]uuid.UUID(nil), keys...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j].String() < s[i].String() {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func testTxLock(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	r1 := e.mustResource(w.p.ID, w.loc.ID, "Room 1", scheduling.Room)
	a := e.appt(w, tm(1, 9, 0), withResources(r1.ID))
	err := e.s.InTx(e.ctx, func(ctx context.Context) error {
		if err := e.s.Lock(ctx); err != nil {
			return err
		}
		if err := e.s.Lock(ctx, sortedKeys(w.prov.ID, r1.ID)...); err != nil {
			return err
		}
		if err := e.s.Lock(ctx, newID()); err != nil {
			return err
		}
		return e.s.InsertAppointment(ctx, a)
	})
	e.ok(err, "InTx with Lock")
	e.wantUnchanged("after InTx with Lock", a)

	// The locks end with the transaction: the keys can be taken again.
	err = e.s.InTx(e.ctx, func(ctx context.Context) error {
		return e.s.Lock(ctx, sortedKeys(w.prov.ID, r1.ID)...)
	})
	e.ok(err, "InTx locking the same keys again")
}

// testTxLockSerializes checks that a second transaction locking a key waits
// for the first to end. It cannot prove a wait without giving the second
// transaction some time to misbehave, so it does.
func testTxLockSerializes(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	key := w.prov.ID
	locked, release := make(chan struct{}), make(chan struct{})
	var acquired atomic.Bool
	var wg sync.WaitGroup
	var err1, err2 error
	wg.Add(1)
	go func() {
		defer wg.Done()
		err1 = e.s.InTx(e.ctx, func(ctx context.Context) error {
			if err := e.s.Lock(ctx, key); err != nil {
				close(locked)
				return err
			}
			close(locked)
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	<-locked
	wg.Add(1)
	go func() {
		defer wg.Done()
		err2 = e.s.InTx(e.ctx, func(ctx context.Context) error {
			if err := e.s.Lock(ctx, key); err != nil {
				return err
			}
			acquired.Store(true)
			return nil
		})
	}()
	time.Sleep(300 * time.Millisecond)
	if acquired.Load() {
		e.t.Errorf("a second transaction took a lock held by another")
	}
	close(release)
	wg.Wait()
	e.ok(err1, "first InTx")
	e.ok(err2, "second InTx")
	if !acquired.Load() {
		e.t.Errorf("the second transaction never took the lock")
	}
}
