package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook/internal/patienttest"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
)

// Usage statistics at the operator's scale: usageEvents events over
// usagePractices practices, four meters, spread over two months, on
// PostgreSQL (SQLite is skipped: its billing is the same SQL, and a
// million-row seed through it would dominate make bench). One practice's
// totals of a month, and every practice's, through the store
// (UsageTotals) beside the bare aggregate query as the baseline.
const (
	usageEvents    = 1_000_000
	usagePractices = 100
)

// usageSeed inserts the events in one generate_series statement: event g
// is of practice g mod 100, of meter (g / 100) mod 4, at g's share of the two
// months from start.
const usageSeed = `WITH ps AS (SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS n FROM practices)
INSERT INTO usage_events (practice_id, meter, idem_key, units, at)
SELECT ps.id, (ARRAY['bookings', 'sms_sent', 'emails_sent', 'active_providers'])[1 + (g / 100) % 4], 'e' || g, 1 + g % 3,
	?::timestamptz + (g::bigint * 60 * 86400 / ?) * interval '1 second'
FROM generate_series(0, ? - 1) AS g JOIN ps ON ps.n = g % ?`

func BenchmarkUsageTotals(b *testing.B) {
	st := sqltest.Postgres(b)
	ctx := context.Background()
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var one tenant.PracticeID
	for i := range usagePractices {
		fx := patienttest.NewFixture(b, patienttest.Makers{Tenants: st.Tenants, Patients: st.Scheduling}, start)
		if i == 0 {
			one = fx.Practice
		}
	}
	res, err := st.DB().ExecContext(ctx, usageSeed, start, usageEvents, usageEvents, usagePractices)
	if err != nil {
		b.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != usageEvents {
		b.Fatalf("seeded %d events (%v), want %d", n, err, usageEvents)
	}
	if _, err := st.DB().ExecContext(ctx, "ANALYZE usage_events"); err != nil {
		b.Fatal(err)
	}
	from, to := start.AddDate(0, 1, 0), start.AddDate(0, 2, 0)
	bare := func(b *testing.B, query string, args ...any) {
		for b.Loop() {
			rows, err := st.DB().DB.QueryContext(ctx, query, args...)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Close(); err != nil || n == 0 {
				b.Fatal(err, n)
			}
		}
	}
	store := func(b *testing.B, practice *tenant.PracticeID, want int) {
		for b.Loop() {
			tot, err := st.Billing.UsageTotals(ctx, practice, from, to)
			if err != nil || len(tot) != want {
				b.Fatal(err, len(tot))
			}
		}
	}
	b.Run("practice/store", func(b *testing.B) { store(b, &one, 4) })
	b.Run("practice/bare", func(b *testing.B) {
		bare(b, `SELECT meter, sum(units) FROM usage_events WHERE practice_id = $1 AND at >= $2 AND at < $3 GROUP BY meter`, one, from, to)
	})
	b.Run("all/store", func(b *testing.B) { store(b, nil, 4*usagePractices) })
	b.Run("all/bare", func(b *testing.B) {
		bare(b, `SELECT practice_id, meter, sum(units) FROM usage_events WHERE at >= $1 AND at < $2 GROUP BY practice_id, meter`, from, to)
	})
}
