package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/ratelimit/ratelimittest"
)

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

// TestDecide is the rule, one event at a time from the TAT given.
func TestDecide(t *testing.T) {
	tenPerMin := ratelimit.PerMinute(10)                               // one every 6 s, 60 s of room
	smooth := ratelimit.Limit{Rate: 10, Period: time.Minute, Burst: 2} // 12 s of room
	for _, tc := range []struct {
		name     string
		l        ratelimit.Limit
		tat      time.Duration // after t0; -1h for "past"
		cost     int
		allowed  bool
		nextTAT  time.Duration
		remain   int
		retry    time.Duration
		resetAft time.Duration
	}{
		{"new key", tenPerMin, -time.Hour, 1, true, 6 * time.Second, 9, 0, 6 * time.Second},
		{"new key, cost 3", tenPerMin, -time.Hour, 3, true, 18 * time.Second, 7, 0, 18 * time.Second},
		{"whole burst", tenPerMin, -time.Hour, 10, true, 60 * time.Second, 0, 0, 60 * time.Second},
		{"TAT just now", tenPerMin, 0, 1, true, 6 * time.Second, 9, 0, 6 * time.Second},
		{"last one", tenPerMin, 54 * time.Second, 1, true, 60 * time.Second, 0, 0, 60 * time.Second},
		{"full", tenPerMin, 60 * time.Second, 1, false, 60 * time.Second, 0, 6 * time.Second, 60 * time.Second},
		{"half refilled", tenPerMin, 57 * time.Second, 1, false, 57 * time.Second, 0, 3 * time.Second, 57 * time.Second},
		{"cost 2 with room for 1", tenPerMin, 54 * time.Second, 2, false, 54 * time.Second, 1, 6 * time.Second, 54 * time.Second},
		{"cost 2 with room for 2", tenPerMin, 48 * time.Second, 2, true, 60 * time.Second, 0, 0, 60 * time.Second},
		{"small burst", smooth, 6 * time.Second, 1, true, 12 * time.Second, 0, 0, 12 * time.Second},
		{"small burst full", smooth, 12 * time.Second, 1, false, 12 * time.Second, 0, 6 * time.Second, 12 * time.Second},
		{"off", ratelimit.Limit{}, -time.Hour, 5, true, -time.Hour, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, next := ratelimit.Decide(t0.Add(tc.tat), tc.l, t0, tc.cost)
			if d.Allowed != tc.allowed || d.Remaining != tc.remain || d.RetryAfter != tc.retry || d.ResetAfter != tc.resetAft {
				t.Errorf("Decide = %+v, want allowed %v remaining %d retry %v reset %v", d, tc.allowed, tc.remain, tc.retry, tc.resetAft)
			}
			if want := t0.Add(tc.nextTAT); !tc.l.Off() && !next.Equal(want) {
				t.Errorf("next TAT = %v, want %v", next.Sub(t0), tc.nextTAT)
			}
			if tc.l.Off() {
				return
			}
			// What a Store rebuilds from its statement's answer is the same.
			if got := ratelimit.FromTAT(tc.l, t0, next, tc.cost, d.Allowed); got != d {
				t.Errorf("FromTAT = %+v, want %+v", got, d)
			}
		})
	}
}

// TestParseLimit reads the option's notation, and names the field of a
// bad one.
func TestParseLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ratelimit.Limit
		ok   bool
	}{
		{"600/1m", ratelimit.Limit{Rate: 600, Period: time.Minute}, true},
		{" 1200/1m,200 ", ratelimit.Limit{Rate: 1200, Period: time.Minute, Burst: 200}, true},
		{"5/1s", ratelimit.Limit{Rate: 5, Period: time.Second}, true},
		{"off", ratelimit.Limit{}, true},
		{"", ratelimit.Limit{}, true},
		{"600", ratelimit.Limit{}, false},
		{"0/1m", ratelimit.Limit{}, false},
		{"-3/1m", ratelimit.Limit{}, false},
		{"10/soon", ratelimit.Limit{}, false},
		{"10/-1m", ratelimit.Limit{}, false},
		{"10/1m,0", ratelimit.Limit{}, false},
		{"10/1m,x", ratelimit.Limit{}, false},
		{"1/1ns,9223372036854775807", ratelimit.Limit{}, false},
	} {
		got, err := ratelimit.ParseLimit("api_rate_limit", tc.in)
		switch {
		case tc.ok && (err != nil || got != tc.want):
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		case !tc.ok && (errs.KindOf(err) != errs.KindInvalid || errs.FieldOf(err) != "api_rate_limit"):
			t.Errorf("ParseLimit(%q) error = %v, want KindInvalid naming api_rate_limit", tc.in, err)
		}
		if tc.ok {
			if back, err := ratelimit.ParseLimit("f", got.String()); err != nil || back != got {
				t.Errorf("ParseLimit(%q.String() = %q) = %+v, %v", tc.in, got.String(), back, err)
			}
		}
	}
}

// TestAllowRefusesBadInput: a bad key, limit or cost is KindInvalid
// naming it, and reaches no store.
func TestAllowRefusesBadInput(t *testing.T) {
	lm := ratelimit.New(panicStore{}, clock.NewFixed(t0))
	ok := ratelimit.PerMinute(10)
	for _, tc := range []struct {
		name, key string
		l         ratelimit.Limit
		cost      int
		field     string
	}{
		{"no key", "", ok, 1, "key"},
		{"long key", string(make([]byte, ratelimit.MaxKeyLen+1)), ok, 1, "key"},
		{"not UTF-8", "signin:account:\xff", ok, 1, "key"},
		{"NUL", "signin:ip:\x00", ok, 1, "key"},
		{"no rate", "k", ratelimit.Limit{Period: time.Minute}, 1, "limit.rate"},
		{"no period", "k", ratelimit.Limit{Rate: 3}, 1, "limit.period"},
		{"negative burst", "k", ratelimit.Limit{Rate: 3, Period: time.Second, Burst: -1}, 1, "limit.burst"},
		{"cost 0", "k", ok, 0, "cost"},
		{"cost over the burst", "k", ok, 11, "cost"},
	} {
		_, err := lm.Allow(context.Background(), tc.key, tc.l, tc.cost)
		if errs.KindOf(err) != errs.KindInvalid || errs.FieldOf(err) != tc.field {
			t.Errorf("%s: Allow error = %v, want KindInvalid naming %s", tc.name, err, tc.field)
		}
	}
	if d, err := lm.Allow(context.Background(), "k", ratelimit.Limit{}, 1000); err != nil || !d.Allowed {
		t.Errorf("Allow under Off = %+v, %v; want allowed without the store", d, err)
	}
}

// panicStore is a Store that must not be reached.
type panicStore struct{}

func (panicStore) Take(context.Context, string, ratelimit.Limit, time.Time, int) (ratelimit.Decision, error) {
	panic("Take reached")
}
func (panicStore) Sweep(context.Context, time.Time) (int, error) { panic("Sweep reached") }

// TestMemoryConformance runs the conformance suite against the reference
// store of ratelimittest, so that the suite itself is checked against Decide.
func TestMemoryConformance(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Store { return ratelimittest.NewMemory() })
}
