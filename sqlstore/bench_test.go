package sqlstore_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

// benchProviders is the number of providers seeded; each gets
// appointments/benchProviders hour-spaced visits, a fifth of them canceled.
const benchProviders = 1000

// seedSlotBench fills a fresh PostgreSQL database with
// CAREBOOK_BENCH_APPOINTMENTS appointments (default 100,000; the figure in
// DESIGN.md is 1,000,000) and returns the store, the practice and one
// provider.
func seedSlotBench(b *testing.B) (*sqlstore.Store, uuid.UUID, uuid.UUID) {
	b.Helper()
	n := 100_000
	if v := os.Getenv("CAREBOOK_BENCH_APPOINTMENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("CAREBOOK_BENCH_APPOINTMENTS: %v", err)
		}
	}
	s := sqltest.Postgres(b)
	ctx := context.Background()
	practice := uuid.MustParse("00000000-0000-0000-0000-00000000000a")
	_, err := s.DB().ExecContext(ctx, `
INSERT INTO groups VALUES ('00000000-0000-0000-0000-000000000001', 'g', now());
INSERT INTO practices VALUES (?, '00000000-0000-0000-0000-000000000001', 'p', false, 0, 0, 0, now());
INSERT INTO blocks
SELECT ?, gen_random_uuid(), ('00000000-0000-0000-0000-' || lpad(to_hex(p), 12, '0'))::uuid, gen_random_uuid(),
	'UTC', timestamptz '2030-01-01 08:00Z', timestamptz '2030-01-01 18:00Z', 'FREQ=DAILY', '[]', '[]', 1, NULL, now(), now()
FROM generate_series(1, ?) p;
INSERT INTO appointments
SELECT ?, gen_random_uuid(), ('00000000-0000-0000-0000-' || lpad(to_hex(p), 12, '0'))::uuid,
	gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(),
	t, t + interval '30 min', t, t + interval '30 min', 1,
	(ARRAY['new', 'confirmed', 'arrived', 'out', 'canceled'])[1 + i % 5], '[]', 'x', now(), now()
FROM generate_series(1, ?) p, generate_series(0, ? - 1) i,
	LATERAL (SELECT timestamptz '2030-01-01' + i * interval '1 hour' AS t) x;`,
		practice, practice, benchProviders, practice, benchProviders, n/benchProviders)
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	// Outside the seed's implicit transaction: sets the visibility map for
	// index-only scans and the planner's statistics.
	if _, err := s.DB().ExecContext(ctx, "VACUUM ANALYZE appointments"); err != nil {
		b.Fatalf("vacuum: %v", err)
	}
	return s, practice, uuid.MustParse("00000000-0000-0000-0000-0000000001f4")
}

// BenchmarkSlotInputs is one provider's open-slot inputs over 14 days, with
// the bare indexed range query it needs as the baseline.
func BenchmarkSlotInputs(b *testing.B) {
	s, practice, provider := seedSlotBench(b)
	ctx := context.Background()
	from := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 14)
	b.Run("SlotInputs", func(b *testing.B) {
		for b.Loop() {
			blocks, h, err := s.SlotInputs(ctx, practice, []uuid.UUID{provider}, nil, from, to)
			if err != nil || len(blocks) != 1 || len(h.Provider) == 0 {
				b.Fatalf("SlotInputs = %d blocks, %d holds, %v", len(blocks), len(h.Provider), err)
			}
		}
	})
	b.Run("Holds", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Holds(ctx, practice, []uuid.UUID{provider}, nil, from, to); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Blocks", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.ListBlocks(ctx, practice, scheduling.BlockFilter{ProviderIDs: []uuid.UUID{provider}, From: from, To: to}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Ping", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.DB().ExecContext(ctx, "SELECT 1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("BareRangeQuery", func(b *testing.B) {
		for b.Loop() {
			rows, err := s.DB().QueryContext(ctx, `SELECT id, hold_start, hold_end FROM appointments
WHERE practice_id = ? AND provider_id = ? AND hold_start < ? AND hold_end > ?`, practice, provider, to, from)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var id uuid.UUID
				var s, e time.Time
				if err := rows.Scan(&id, &s, &e); err != nil {
					b.Fatal(err)
				}
			}
			rows.Close()
		}
	})
}
