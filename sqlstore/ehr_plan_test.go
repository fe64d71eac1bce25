package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/ehr/ehrtest"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestEHRChartReadsThePatientsVersions: on PostgreSQL, with the planner's
// statistics, opening a chart of 200 entries beside another patient's
// 5,000 versions in the same practice reads at most twice its own
// versions' number from ehr_versions (by index or by scan, as
// pg_stat_xact_user_tables counts them in the read's transaction), not
// the practice's. A join on the entries alone had the planner hash every
// version of the practice: a chart open that grew with the practice.
func TestEHRChartReadsThePatientsVersions(t *testing.T) {
	const own, others = 200, 5000
	s := sqltest.Postgres(t)
	ctx := t.Context()
	fx := ehrtest.NewFixture(t, ehrStores(s))
	other := ehrtest.NewPatient(t, ehrStores(s), fx.Practice)
	// The other patient's encounters, in bulk: this chart never opens
	// them, so their bodies need not be sealed.
	exec(t, s, `INSERT INTO ehr_versions (practice_id, patient_id, seq, entry_id, version, kind, status, restricted,
	author_id, signed_by, recorded_at, sealed, sealed_key, prev_hash, hash)
SELECT ?, ?, g, gen_random_uuid(), 1, 'encounter', 'draft', false, 'bench', '', ?::timestamptz + g * interval '1 hour',
	'\x00', 0, '', ''
FROM generate_series(1, ?) AS g`, fx.Practice, other.Patient, ehrtest.Epoch, others)
	exec(t, s, `INSERT INTO ehr_entries (practice_id, id, patient_id, kind, version, status, restricted, first_recorded_at, recorded_at)
SELECT practice_id, entry_id, patient_id, kind, version, status, restricted, recorded_at, recorded_at
FROM ehr_versions WHERE practice_id = ? AND patient_id = ?`, fx.Practice, other.Patient)
	if err := s.InTx(ctx, func(ctx context.Context) error {
		for i := range own {
			e := fx.Entry(&ehr.Problem{Coding: ehr.Coding{Display: fmt.Sprintf("Problem %d", i)}, ClinicalStatus: "active"}, nil,
				ehrtest.Epoch.Add(time.Duration(i)*time.Minute))
			if err := s.EHR.Append(ctx, e, ehrtest.Now); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	exec(t, s, `ANALYZE ehr_versions, ehr_entries`)

	read := func(ctx context.Context) int64 {
		var n int64
		if err := s.IDB(ctx).NewRaw(`SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)
FROM pg_stat_xact_user_tables WHERE relname = 'ehr_versions'`).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := s.InTx(ctx, func(ctx context.Context) error {
		before := read(ctx)
		got, err := s.EHR.Chart(ctx, fx.Practice, fx.Patient, ehr.ChartFilter{})
		if err != nil {
			return err
		}
		if len(got) != own {
			t.Fatalf("%d chart entries, want %d", len(got), own)
		}
		if n := read(ctx) - before; n > 2*own {
			t.Errorf("the chart of %d entries read %d rows of ehr_versions (the practice holds %d)", own, n, own+others)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
