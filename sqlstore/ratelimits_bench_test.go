package sqlstore_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/jackc/pgx/v5"
)

// benchClients is how many clients the rate-limit benchmarks run at once.
const benchClients = 16

// BenchmarkRateLimitPostgres measures a limiter decision on PostgreSQL
// with 16 concurrent clients, beside the baseline of a SELECT 1 round trip
// with the same clients in the same run (both prepared statements): "decide" spreads the clients over
// 16 keys (a practice each), "decide-hot" puts them all on one key, whose
// row lock they then take in turn. Each reports its latencies' p50 and p99
// (ms) besides the time per operation (the pool's throughput). The goal is
// a p50 under 1 ms.
func BenchmarkRateLimitPostgres(b *testing.B) {
	s := sqltest.Postgres(b)
	s.DB().SetMaxOpenConns(benchClients)
	s.DB().SetMaxIdleConns(benchClients)
	lm := ratelimit.New(s.RateLimits, clock.System{})
	// Never refused: the benchmark measures the decision, not the refusal.
	l := ratelimit.Limit{Rate: 1 << 30, Period: time.Second}
	ctx := context.Background()
	b.Run("baseline-select1", func(b *testing.B) {
		runClients(b, func(int) error {
			var one int
			return s.DB().DB.QueryRowContext(ctx, "SELECT 1", pgx.QueryExecModeCacheStatement).Scan(&one)
		})
	})
	b.Run("decide", func(b *testing.B) {
		runClients(b, func(client int) error {
			_, err := lm.Allow(ctx, "api:practice:"+strconv.Itoa(client), l, 1)
			return err
		})
	})
	b.Run("decide-hot", func(b *testing.B) {
		runClients(b, func(int) error {
			_, err := lm.Allow(ctx, "api:practice:hot", l, 1)
			return err
		})
	})
}

// runClients runs b.N calls of op over benchClients goroutines (op gets its
// client's number), and reports the latencies' p50 and p99 in ms.
func runClients(b *testing.B, op func(client int) error) {
	b.Helper()
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		lat   = make([][]time.Duration, benchClients)
		errMu sync.Mutex
		first error
	)
	b.ResetTimer()
	for c := range benchClients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				start := time.Now()
				if err := op(c); err != nil {
					errMu.Lock()
					first = err
					errMu.Unlock()
					return
				}
				lat[c] = append(lat[c], time.Since(start))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if first != nil {
		b.Fatal(first)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	pct := func(p float64) float64 {
		return float64(all[min(int(p*float64(len(all))), len(all)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkTwoReplicas runs TestTwoReplicasHoldTheRate's load as a
// benchmark: two replicas, four times the rate, 10 simulated seconds per
// run; it reports the allowed share of rate×duration (goal: 0.95 to 1.05).
func BenchmarkTwoReplicas(b *testing.B) {
	sqltest.PostgresDSN(b)
	l := ratelimit.Limit{Rate: 50, Period: time.Second, Burst: 10}
	span := 10 * time.Second
	for b.Loop() {
		allowed, _ := replicaRun(b, l, span, 20*time.Millisecond, 2)
		b.ReportMetric(float64(allowed)/(float64(l.Rate)*span.Seconds()), "allowed/rate×duration")
	}
}
