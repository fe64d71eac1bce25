package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/ratelimit/ratelimittest"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func TestRateLimitsConformanceSQLite(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Store { return sqltest.SQLite(t).RateLimits })
}

func TestRateLimitsConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Store { return sqltest.Postgres(t).RateLimits })
}

// TestRateLimitsOutsideTheTransaction: a count made while a transaction is
// open stays after its rollback on PostgreSQL; on SQLite, whose writer the
// transaction holds, the limiter refuses at once instead of waiting.
func TestRateLimitsOutsideTheTransaction(t *testing.T) {
	l := ratelimit.Limit{Rate: 2, Period: time.Hour}
	rollback := errors.New("rollback")
	t.Run("postgres", func(t *testing.T) {
		s := sqltest.Postgres(t)
		lm := ratelimit.New(s.RateLimits, clock.NewFixed(ratelimittest.Start))
		err := s.InTx(context.Background(), func(ctx context.Context) error {
			for range 2 {
				if d, err := lm.Allow(ctx, "k", l, 1); err != nil || !d.Allowed {
					t.Fatalf("Allow in the transaction = %+v, %v", d, err)
				}
			}
			return rollback
		})
		if err != rollback {
			t.Fatalf("InTx = %v", err)
		}
		if d, err := lm.Allow(context.Background(), "k", l, 1); err != nil || d.Allowed {
			t.Errorf("after the rollback: %+v, %v; want refused (the two counts stay)", d, err)
		}
	})
	t.Run("sqlite", func(t *testing.T) {
		s := sqltest.SQLite(t)
		lm := ratelimit.New(s.RateLimits, clock.NewFixed(ratelimittest.Start))
		_ = s.InTx(context.Background(), func(ctx context.Context) error {
			if _, err := lm.Allow(ctx, "k", l, 1); errs.KindOf(err) != errs.KindInternal {
				t.Errorf("Allow in a SQLite transaction: %v, want KindInternal", err)
			}
			if _, err := lm.Sweep(ctx); errs.KindOf(err) != errs.KindInternal {
				t.Errorf("Sweep in a SQLite transaction: %v, want KindInternal", err)
			}
			return rollback
		})
		if d, err := lm.Allow(context.Background(), "k", l, 1); err != nil || d.Remaining != 1 {
			t.Errorf("after: %+v, %v; want the first count", d, err)
		}
	})
}

// replicaRun is one run of two replicas (separate pools, separate Store
// values over one PostgreSQL database) hammering one key at rate events a
// second for a simulated span, in ticks of the shared fixed clock: at every
// tick each replica sends perTick requests at once. It returns how many
// were allowed and sent.
func replicaRun(tb testing.TB, l ratelimit.Limit, span, tick time.Duration, perTick int) (allowed, sent int) {
	tb.Helper()
	dsn := sqltest.PostgresDatabase(tb)
	c := clock.NewFixed(ratelimittest.Start)
	var replicas []*ratelimit.Limiter
	for range 2 {
		s, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		replicas = append(replicas, ratelimit.New(s.RateLimits, c))
	}
	var (
		mu   sync.Mutex
		errc error
	)
	for at := time.Duration(0); at < span; at += tick {
		var wg sync.WaitGroup
		for _, lm := range replicas {
			for range perTick {
				wg.Go(func() {
					d, err := lm.Allow(context.Background(), "api:practice:replicas", l, 1)
					mu.Lock()
					defer mu.Unlock()
					sent++
					if err != nil {
						errc = err
					} else if d.Allowed {
						allowed++
					}
				})
			}
		}
		wg.Wait()
		if errc != nil {
			tb.Fatalf("Allow: %v", errc)
		}
		c.Advance(tick)
	}
	return allowed, sent
}

// TestTwoReplicasHoldTheRate: two replicas sending four times the rate for
// 20 simulated seconds are allowed rate×duration between them, within 5%
// (the burst is the only excess the rule admits).
func TestTwoReplicasHoldTheRate(t *testing.T) {
	sqltest.PostgresDSN(t)
	l := ratelimit.Limit{Rate: 50, Period: time.Second, Burst: 10}
	span := 20 * time.Second
	allowed, sent := replicaRun(t, l, span, 20*time.Millisecond, 2)
	want := float64(l.Rate) * span.Seconds()
	if f := float64(allowed); f < 0.95*want || f > 1.05*want {
		t.Errorf("allowed %d of %d over %v at %v, want %v ± 5%%", allowed, sent, span, l, want)
	}
	t.Logf("allowed %d of %d over %v at %v (rate×duration %v)", allowed, sent, span, l, want)
}
