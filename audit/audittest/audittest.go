// Package audittest is the conformance suite of audit.Store, with the
// Service, Verify and the Exporter (and its gocron job) run on top of the
// store under test. Every storage adapter runs it against each database it
// supports; an adapter that passes keeps the promises made in the doc
// comments of audit.Store.
//
// Tampering with stored entries is the adapter's own test to write (it needs
// raw access to the database); Tamper helps check the outcome.
package audittest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"
)

// Stores are the stores under test, bound to one fresh database.
type Stores struct {
	// Tenants creates the practices the entries belong to.
	Tenants tenant.Store
	// Audit is the store under test.
	Audit audit.Store
}

// Run runs the conformance suite. Each subtest calls open to get stores on a
// fresh, empty, migrated database; open registers its own clean-up with
// t.Cleanup and fails t if it cannot open them.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(NewEnv(t, open(t))) })
	}
}

var cases = []struct {
	name string
	fn   func(e *Env)
}{
	{"AppendChains", testAppendChains},
	{"PracticesHaveOwnChains", testPracticesHaveOwnChains},
	{"RecordRefusesBadInput", testRecordRefusesBadInput},
	{"AppendUnknownPractice", testAppendUnknownPractice},
	{"AtNeverDecreases", testAtNeverDecreases},
	{"QueryFilters", testQueryFilters},
	{"TxCommitsTogether", testTxCommitsTogether},
	{"TxRollbackLeavesNoTrace", testTxRollbackLeavesNoTrace},
	{"ConcurrentAppendsOnePractice", testConcurrentAppends},
	{"ConcurrentAppendsManyPractices", testConcurrentPractices},
	{"VerifyReadsPages", testVerifyReadsPages},
	{"ClaimExport", testClaimExport},
	{"ExportRoundTrip", testExportRoundTrip},
	{"ExportDetectsCorruption", testExportDetectsCorruption},
	{"ExportersRace", testExportersRace},
	{"SchedulerExportsOnce", testSchedulerExportsOnce},
}

// testTimeout bounds each subtest, so that a deadlocked store fails.
const testTimeout = 2 * time.Minute

// Day0 is midnight (UTC) of the first day the suite's entries are dated.
var Day0 = time.Date(2031, time.March, 10, 0, 0, 0, 0, time.UTC)

// Env is what one subtest works with. Adapters' own tests may use it too.
type Env struct {
	T       *testing.T
	Ctx     context.Context
	Tenants tenant.Store
	Store   audit.Store
	// Clock is a fake clock at Day0 10:00 that dates entries and drives
	// exporters and schedulers.
	Clock *clockwork.FakeClock
	// Service records through Store with Clock.
	Service *audit.Service
}

// NewEnv returns an Env over st for t.
func NewEnv(t *testing.T, st Stores) *Env {
	t.Helper()
	if st.Tenants == nil || st.Audit == nil {
		t.Fatal("audittest: open returned nil stores")
	}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	c := clockwork.NewFakeClockAt(Day0.Add(10 * time.Hour))
	return &Env{
		T: t, Ctx: ctx, Tenants: st.Tenants, Store: st.Audit, Clock: c,
		Service: audit.NewService(st.Audit, c, clock.UUIDv7{}),
	}
}

// MustPractice creates a group and a practice in it.
func (e *Env) MustPractice() tenant.PracticeID {
	e.T.Helper()
	g := &tenant.Group{ID: uuid.Must(uuid.NewV7()), Name: "group", CreatedAt: Day0}
	if err := e.Tenants.CreateGroup(e.Ctx, g); err != nil {
		e.T.Fatalf("CreateGroup: %v", err)
	}
	p := &tenant.Practice{ID: uuid.Must(uuid.NewV7()), GroupID: g.ID, Name: "practice", Policy: tenant.DefaultPolicy, CreatedAt: Day0}
	if err := e.Tenants.CreatePractice(e.Ctx, p); err != nil {
		e.T.Fatalf("CreatePractice: %v", err)
	}
	return p.ID
}

// Entry returns a valid entry of practice with the given action.
func Entry(practice tenant.PracticeID, action string) audit.Entry {
	return audit.Entry{
		PracticeID: practice, Actor: "acct-1", Role: "front_desk", Action: action,
		ResourceType: "appointment", ResourceID: "a-1", Outcome: audit.Allowed,
		IP: "192.0.2.1", UserAgent: "audittest", RequestID: "req-1",
	}
}

// MustRecord records n entries of practice through the Service, with
// actions "<action>", and returns them.
func (e *Env) MustRecord(practice tenant.PracticeID, action string, n int) []*audit.Entry {
	e.T.Helper()
	out := make([]*audit.Entry, n)
	for i := range out {
		got, err := e.Service.Record(e.Ctx, Entry(practice, action))
		if err != nil {
			e.T.Fatalf("Record: %v", err)
		}
		out[i] = got
	}
	return out
}

// MustVerify verifies practice's chain and returns its first break, or nil.
func (e *Env) MustVerify(practice tenant.PracticeID) *audit.Break {
	e.T.Helper()
	b, err := audit.Verify(e.Ctx, e.Store, practice)
	if err != nil {
		e.T.Fatalf("Verify: %v", err)
	}
	return b
}

// MustQuery queries practice's entries.
func (e *Env) MustQuery(practice tenant.PracticeID, f audit.Filter) []*audit.Entry {
	e.T.Helper()
	got, err := e.Store.Query(e.Ctx, practice, f)
	if err != nil {
		e.T.Fatalf("Query: %v", err)
	}
	return got
}

// WantBreak fails the test unless b is a break at seq for reason.
func WantBreak(t testing.TB, b *audit.Break, seq int64, reason audit.Reason) {
	t.Helper()
	if b == nil || b.Seq != seq || b.Reason != reason {
		t.Fatalf("Verify = %v, want a break at seq %d: %s", b, seq, reason)
	}
}

// wantKind fails the test unless err is an *errs.Error of kind k.
func wantKind(t testing.TB, err error, k errs.Kind) {
	t.Helper()
	if got := errs.KindOf(err); err == nil || got != k {
		t.Fatalf("err = %v (kind %v), want kind %v", err, got, k)
	}
}

// countingStore counts some calls on the Store it wraps.
type countingStore struct {
	audit.Store
	mu            sync.Mutex
	queries       []audit.Filter
	practiceLists int
}

func (c *countingStore) Query(ctx context.Context, p tenant.PracticeID, f audit.Filter) ([]*audit.Entry, error) {
	c.mu.Lock()
	c.queries = append(c.queries, f)
	c.mu.Unlock()
	return c.Store.Query(ctx, p, f)
}

func (c *countingStore) ExportPractices(ctx context.Context, after tenant.PracticeID, limit int) ([]tenant.PracticeID, error) {
	c.mu.Lock()
	c.practiceLists++
	c.mu.Unlock()
	return c.Store.ExportPractices(ctx, after, limit)
}

// AdvanceTo moves the fake clock forward to t; it never moves it back.
func (e *Env) AdvanceTo(t time.Time) {
	e.T.Helper()
	d := t.Sub(e.Clock.Now())
	if d < 0 {
		e.T.Fatalf("AdvanceTo %v: the clock is already at %v", t, e.Clock.Now())
	}
	e.Clock.Advance(d)
}
