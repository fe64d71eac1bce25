// Package ratelimittest is the conformance suite of ratelimit.Store, run
// against every implementation (sqlstore's PostgreSQL and SQLite), and a
// reference Store in memory for the tests of its users.
package ratelimittest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/ratelimit"
)

// Start is the instant the suite's clocks start at.
var Start = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

// Run runs the suite against the stores open makes: each subtest gets a
// fresh one.
func Run(t *testing.T, open func(t *testing.T) ratelimit.Store) {
	t.Helper()
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, s ratelimit.Store)
	}{
		{"BurstThenRefusal", testBurstThenRefusal},
		{"RefillAfterTime", testRefillAfterTime},
		{"RetryAfterExact", testRetryAfterExact},
		{"CostAboveOne", testCostAboveOne},
		{"IndependentKeys", testIndependentKeys},
		{"FiftyRaceForTen", testFiftyRaceForTen},
		{"MatchesDecide", testMatchesDecide},
		{"Sweep", testSweep},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t)) })
	}
}

// env is one subtest's limiter on a fixed clock.
type env struct {
	t     *testing.T
	clock *clock.Fixed
	lm    *ratelimit.Limiter
}

func newEnv(t *testing.T, s ratelimit.Store) *env {
	c := clock.NewFixed(Start)
	return &env{t: t, clock: c, lm: ratelimit.New(s, c)}
}

// allow decides an event and fails the test on an error.
func (e *env) allow(key string, l ratelimit.Limit, cost int) ratelimit.Decision {
	e.t.Helper()
	d, err := e.lm.Allow(context.Background(), key, l, cost)
	if err != nil {
		e.t.Fatalf("Allow(%q, %v, %d): %v", key, l, cost, err)
	}
	return d
}

// want checks d's allowance and remaining events.
func want(t *testing.T, what string, d ratelimit.Decision, allowed bool, remaining int) {
	t.Helper()
	if d.Allowed != allowed || d.Remaining != remaining {
		t.Errorf("%s: Allowed %v, Remaining %d; want %v, %d (%+v)", what, d.Allowed, d.Remaining, allowed, remaining, d)
	}
}

// perMinute5 allows 5 a minute (one every 12 s), 5 at once.
var perMinute5 = ratelimit.PerMinute(5)

func testBurstThenRefusal(t *testing.T, s ratelimit.Store) {
	e := newEnv(t, s)
	for i := range 5 {
		d := e.allow("signin:ip:192.0.2.1", perMinute5, 1)
		want(t, fmt.Sprintf("attempt %d", i+1), d, true, 4-i)
		if d.RetryAfter != 0 || d.ResetAfter != time.Duration(i+1)*12*time.Second || d.Limit != perMinute5 {
			t.Errorf("attempt %d: %+v", i+1, d)
		}
	}
	for i := range 3 {
		d := e.allow("signin:ip:192.0.2.1", perMinute5, 1)
		want(t, fmt.Sprintf("attempt %d over the burst", i+6), d, false, 0)
		if d.RetryAfter != 12*time.Second || d.ResetAfter != time.Minute {
			t.Errorf("refusal: RetryAfter %v, ResetAfter %v; want 12s, 1m (refusals count nothing)", d.RetryAfter, d.ResetAfter)
		}
	}
}

func testRefillAfterTime(t *testing.T, s ratelimit.Store) {
	e := newEnv(t, s)
	for range 5 {
		e.allow("k", perMinute5, 1)
	}
	want(t, "full", e.allow("k", perMinute5, 1), false, 0)
	e.clock.Advance(30 * time.Second) // two and a half intervals: two back
	want(t, "after 30s", e.allow("k", perMinute5, 1), true, 1)
	want(t, "after 30s, again", e.allow("k", perMinute5, 1), true, 0)
	want(t, "after 30s, a third", e.allow("k", perMinute5, 1), false, 0)
	e.clock.Advance(time.Hour) // long idle: a full bucket, no more
	d := e.allow("k", perMinute5, 1)
	want(t, "after an hour", d, true, 4)
	if d.ResetAfter != 12*time.Second {
		t.Errorf("after an hour: ResetAfter %v, want 12s (idle time is not saved up)", d.ResetAfter)
	}
}

func testRetryAfterExact(t *testing.T, s ratelimit.Store) {
	e := newEnv(t, s)
	l := ratelimit.Limit{Rate: 3, Period: time.Second, Burst: 2} // 333.333333ms each
	e.allow("k", l, 1)
	e.clock.Advance(100 * time.Millisecond)
	e.allow("k", l, 1)
	e.clock.Advance(50 * time.Millisecond)
	d := e.allow("k", l, 1)
	want(t, "third", d, false, 0)
	wantRetry := 2*l.Interval() + l.Interval() - 150*time.Millisecond - l.Capacity()
	if d.RetryAfter != wantRetry {
		t.Fatalf("RetryAfter = %v, want %v", d.RetryAfter, wantRetry)
	}
	e.clock.Advance(d.RetryAfter - time.Nanosecond)
	if d := e.allow("k", l, 1); d.Allowed || d.RetryAfter != time.Nanosecond {
		t.Fatalf("a nanosecond early: %+v, want refused, RetryAfter 1ns", d)
	}
	e.clock.Advance(time.Nanosecond)
	want(t, "at RetryAfter", e.allow("k", l, 1), true, 0)
}

func testCostAboveOne(t *testing.T, s ratelimit.Store) {
	e := newEnv(t, s)
	l := ratelimit.Limit{Rate: 10, Period: 10 * time.Second} // 1 s each, 10 at once
	want(t, "cost 4", e.allow("k", l, 4), true, 6)
	want(t, "cost 5", e.allow("k", l, 5), true, 1)
	d := e.allow("k", l, 3)
	want(t, "cost 3 with room for 1", d, false, 1)
	if d.RetryAfter != 2*time.Second {
		t.Errorf("RetryAfter = %v, want 2s", d.RetryAfter)
	}
	want(t, "cost 1 still fits", e.allow("k", l, 1), true, 0)
	want(t, "cost 10 on an empty bucket", e.allow("other", l, 10), true, 0)
}

func testIndependentKeys(t *testing.T, s ratelimit.Store) {
	e := newEnv(t, s)
	for range 5 {
		e.allow("api:practice:a", perMinute5, 1)
	}
	want(t, "a full", e.allow("api:practice:a", perMinute5, 1), false, 0)
	want(t, "b", e.allow("api:practice:b", perMinute5, 1), true, 4)
	want(t, "a under another kind", e.allow("signin:account:a", perMinute5, 1), true, 4)
	want(t, "a still full", e.allow("api:practice:a", perMinute5, 1), false, 0)
}

// testFiftyRaceForTen: 50 goroutines take one key at once under a burst of
// 10 with no refill (the clock stands): exactly 10 are allowed.
func testFiftyRaceForTen(t *testing.T, s ratelimit.Store) {
	e := newEnv(t, s)
	l := ratelimit.Limit{Rate: 10, Period: time.Hour}
	var (
		allowed atomic.Int64
		wg      sync.WaitGroup
		start   = make(chan struct{})
		errc    = make(chan error, 50)
	)
	for range 50 {
		wg.Go(func() {
			<-start
			d, err := e.lm.Allow(context.Background(), "race", l, 1)
			if err != nil {
				errc <- err
				return
			}
			if d.Allowed {
				allowed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Errorf("Allow: %v", err)
	}
	if got := allowed.Load(); got != 10 {
		t.Errorf("allowed %d of 50, want exactly 10", got)
	}
}

// testMatchesDecide drives a store and ratelimit.Decide side by side over
// random keys, costs, limits and pauses.
func testMatchesDecide(t *testing.T, s ratelimit.Store) {
	e := newEnv(t, s)
	rng := rand.New(rand.NewPCG(1, 2))
	limits := []ratelimit.Limit{perMinute5, {Rate: 7, Period: 3 * time.Second, Burst: 3}, {Rate: 1000, Period: time.Second, Burst: 50}}
	tat := map[string]time.Time{}
	for i := range 300 {
		key := fmt.Sprintf("k%d", rng.IntN(3))
		l := limits[rng.IntN(len(limits))]
		cost := 1 + rng.IntN(3)
		if rng.IntN(4) == 0 {
			e.clock.Advance(time.Duration(rng.Int64N(int64(5 * time.Second))))
		}
		wantD, next := ratelimit.Decide(tat[key], l, e.clock.Now(), cost)
		tat[key] = next
		if got := e.allow(key, l, cost); got != wantD {
			t.Fatalf("event %d (%s, %v, cost %d): %+v, want %+v", i, key, l, cost, got, wantD)
		}
	}
}

func testSweep(t *testing.T, s ratelimit.Store) {
	e := newEnv(t, s)
	ctx := context.Background()
	e.allow("short", perMinute5, 1)   // full again in 12 s
	e.allow("long", perMinute5, 5)    // in a minute
	e.allow("longer", perMinute5, 1)  // in 12 s, then
	e.clock.Advance(12 * time.Second) // "short" is due now (TAT == now)
	e.allow("longer", perMinute5, 1)  // 24 s from the start
	n, err := e.lm.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Sweep at 12s = %d, %v; want 1 (short)", n, err)
	}
	want(t, "long after the sweep", e.allow("long", perMinute5, 1), true, 0)
	want(t, "short after the sweep", e.allow("short", perMinute5, 1), true, 4)
	e.clock.Advance(time.Hour)
	if n, err := e.lm.Sweep(ctx); err != nil || n != 3 {
		t.Fatalf("Sweep an hour later = %d, %v; want 3", n, err)
	}
	if n, err := e.lm.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("Sweep again = %d, %v; want 0", n, err)
	}
}

// Memory is a Store in one process's memory: the reference the suite is
// checked against, and a fake for tests. It holds across goroutines, not
// replicas. It is safe for concurrent use.
type Memory struct {
	mu  sync.Mutex
	tat map[string]time.Time
}

var _ ratelimit.Store = (*Memory)(nil)

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{tat: map[string]time.Time{}} }

// Take decides the event with ratelimit.Decide.
func (m *Memory) Take(_ context.Context, key string, l ratelimit.Limit, now time.Time, cost int) (ratelimit.Decision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, next := ratelimit.Decide(m.tat[key], l, now, cost)
	m.tat[key] = next
	return d, nil
}

// Sweep forgets the keys whose TAT is not after now.
func (m *Memory) Sweep(_ context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, t := range m.tat {
		if !t.After(now) {
			delete(m.tat, k)
			n++
		}
	}
	return n, nil
}
