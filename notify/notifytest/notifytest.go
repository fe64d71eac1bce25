// Package notifytest is the conformance suite of notify.Store. Every storage
// adapter runs it against each database it supports; an adapter that passes
// keeps the promises made in the doc comments of notify.Store.
//
// Where the contract is silent, the suite picks the reading a careful
// implementer would and says so in a comment next to the check.
package notifytest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Stores are the stores under test, bound to one fresh database.
type Stores struct {
	// Tenants and Scheduling create the practices, patients and
	// appointments messages are about.
	Tenants    tenant.Store
	Scheduling scheduling.Store
	// Notify and Outbox, the dispatcher's side of it, are the stores
	// under test, over the same database.
	Notify notify.Store
	Outbox notify.Outbox
}

// Run runs the conformance suite. Each subtest calls open to get stores on a
// fresh, empty, migrated database; open registers its own clean-up with
// t.Cleanup and fails t if it cannot open them.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	t.Helper()
	var all []testCase
	all = append(all, messageCases...)
	all = append(all, dispatchCases...)
	all = append(all, recordCases...)
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) { c.fn(NewEnv(t, open(t))) })
	}
}

// testCase is one subtest of the suite.
type testCase struct {
	name string
	fn   func(e *Env)
}

// testTimeout bounds each subtest, so that a deadlocked store fails.
const testTimeout = 2 * time.Minute

// zone is where the suite's input times live: not UTC, so that a store
// that returns times in the caller's zone instead of UTC is caught.
var zone = time.FixedZone("UTC-5", -5*60*60)

// T0 is the suite's "now": the dispatcher's clock and the messages' due
// time unless a test says otherwise. It has a microsecond part.
var T0 = time.Date(2031, time.March, 10, 9, 30, 0, 123456000, zone)

// Env is what one subtest works with. Adapters' own tests may use it too.
type Env struct {
	T          *testing.T
	Ctx        context.Context
	Tenants    tenant.Store
	Scheduling scheduling.Store
	Store      notify.Store
	Outbox     notify.Outbox
	npis       int
	keys       int
}

// NewEnv returns an Env over st for t.
func NewEnv(t *testing.T, st Stores) *Env {
	t.Helper()
	if st.Tenants == nil || st.Scheduling == nil || st.Notify == nil || st.Outbox == nil {
		t.Fatal("notifytest: open returned nil stores")
	}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return &Env{T: t, Ctx: ctx, Tenants: st.Tenants, Scheduling: st.Scheduling, Store: st.Notify, Outbox: st.Outbox}
}

// ok fails the test if err is not nil.
func (e *Env) ok(err error, what string, args ...any) {
	e.T.Helper()
	if err != nil {
		e.T.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// wantKind fails the test unless err is of kind k.
func (e *Env) wantKind(err error, k errs.Kind, what string, args ...any) {
	e.T.Helper()
	if got := errs.KindOf(err); err == nil || got != k {
		e.T.Fatalf("%s: error %v (kind %v), want kind %v", fmt.Sprintf(what, args...), err, got, k)
	}
}

// eq fails the test unless got and want are deeply equal.
func (e *Env) eq(got, want any, what string, args ...any) {
	e.T.Helper()
	if !reflect.DeepEqual(got, want) {
		e.T.Fatalf("%s = %+v, want %+v", fmt.Sprintf(what, args...), got, want)
	}
}

// newID returns a fresh UUIDv7.
func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
