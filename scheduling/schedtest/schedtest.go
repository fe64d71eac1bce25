// Package schedtest is the conformance suite for the stores of tenant and
// scheduling. Every storage adapter runs it against each database it
// supports; an adapter that passes keeps every promise made in the doc
// comments of tenant.Store and scheduling.Store.
//
// Where a contract is silent, the suite picks the reading a careful
// implementer would and says so in a comment next to the check.
package schedtest

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
)

// Stores are the stores under test, all bound to one fresh database.
type Stores struct {
	// Tenants keeps groups, practices and locations.
	Tenants tenant.Store
	// Scheduling keeps everything scheduling needs.
	Scheduling scheduling.Store
}

// testCase is one subtest of the suite.
type testCase struct {
	name string
	fn   func(e *env)
}

// Run runs the conformance suite. Each subtest calls open to get stores on a
// fresh, empty, migrated database; open should register its own clean-up with
// t.Cleanup and fail t if it cannot open the stores.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	t.Helper()
	var all []testCase
	all = append(all, tenantCases...)
	all = append(all, recordCases...)
	all = append(all, listCases...)
	all = append(all, appointmentCases...)
	all = append(all, conflictCases...)
	all = append(all, patientCases...)
	all = append(all, txCases...)
	all = append(all, holdCases...)
	all = append(all, bookingInputCases...)
	all = append(all, concurrencyCases...)
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			c.fn(newEnv(t, open(t)))
		})
	}
}

// env is what one subtest works with: its stores, a context bounded in
// time so that a deadlocked store fails instead of hanging, and counters
// that make test data unique within the database.
type env struct {
	t   *testing.T
	ctx context.Context
	ten tenant.Store
	s   scheduling.Store

	clock int // seconds handed out by ts
	npis  int // NPIs handed out by nextNPI
}

// testTimeout bounds each subtest.
const testTimeout = 2 * time.Minute

func newEnv(t *testing.T, st Stores) *env {
	t.Helper()
	if st.Tenants == nil || st.Scheduling == nil {
		t.Fatal("open returned nil stores")
	}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return &env{t: t, ctx: ctx, ten: st.Tenants, s: st.Scheduling}
}

// sub returns e bound to the subtest t.
func (e *env) sub(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// ok fails the test now if err is not nil.
func (e *env) ok(err error, what string, args ...any) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf(what+": unexpected error: %v", append(args, err)...)
	}
}
