package ehrtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

// ExportStores are what RunExports works on: the store under test and the
// stores its practices are made in.
type ExportStores struct {
	Exports ehr.Exports
	Stores
}

// newExport returns an accepted export of practice, made at at.
func newExport(fx Fixture, at time.Time) *ehr.Export {
	since := at.Add(-48 * time.Hour).Add(123456789 * time.Nanosecond)
	return &ehr.Export{ID: newID(), PracticeID: fx.Practice, State: ehr.ExportAccepted, RequestedBy: "staff:" + Clinician,
		Request: "https://clinic.example/api/v1/practices/" + fx.Practice.String() + "/$export?_type=Patient,Condition",
		Types:   []string{"Patient", "Condition"}, Since: &since, Restricted: true, FileURL: "https://clinic.example/files/",
		CreatedAt: at}
}

// RunExports runs the conformance cases of ehr.Exports: a job reads back,
// is claimed by one runner only (of many at once), finishes only under its
// claim, is canceled once, and expires once.
func RunExports(t *testing.T, open func(t *testing.T) ExportStores) {
	ctx := context.Background()

	t.Run("exports: create, read back, scoped by practice", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s.Stores)
		x := newExport(fx, Now)
		if err := s.Exports.CreateExport(ctx, x); err != nil {
			t.Fatalf("CreateExport: %v", err)
		}
		got, err := s.Exports.Export(ctx, fx.Practice, x.ID)
		if err != nil || !sameJSON(t, got, x) {
			t.Fatalf("Export = %+v, %v; want %+v", got, err, x)
		}
		if !got.Since.Equal(*x.Since) || got.Since.Nanosecond()%1000 != 0 {
			t.Errorf("Since = %v, want %v to the microsecond", got.Since, x.Since)
		}
		if err := s.Exports.CreateExport(ctx, x); !errs.Is(err, errs.KindConflict) {
			t.Errorf("CreateExport twice: %v, want KindConflict", err)
		}
		other := NewFixture(t, s.Stores)
		if _, err := s.Exports.Export(ctx, other.Practice, x.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("Export of another practice: %v, want KindNotFound", err)
		}
		bad := newExport(fx, Now)
		bad.State = ehr.ExportComplete
		if err := s.Exports.CreateExport(ctx, bad); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("CreateExport of a complete export: %v, want KindInvalid", err)
		}
		plain := newExport(fx, Now)
		plain.Types, plain.Since = nil, nil
		if err := s.Exports.CreateExport(ctx, plain); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Exports.Export(ctx, fx.Practice, plain.ID); err != nil || got.Since != nil || len(got.Types) != 0 || len(got.Outputs) != 0 {
			t.Errorf("an export of every type: %+v, %v", got, err)
		}
	})

	t.Run("exports: one claim of many racers, finish under it only", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s.Stores)
		x := newExport(fx, Now)
		if err := s.Exports.CreateExport(ctx, x); err != nil {
			t.Fatal(err)
		}
		due, err := s.Exports.DueExports(ctx, Now, 10)
		if err != nil || len(due) != 1 || due[0] != (ehr.ExportRef{PracticeID: fx.Practice, ID: x.ID}) {
			t.Fatalf("DueExports = %+v, %v", due, err)
		}
		const racers = 16
		tokens := make([]uuid.UUID, racers)
		errsOf := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			tokens[i] = newID()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errsOf[i] = s.Exports.ClaimExport(ctx, fx.Practice, x.ID, tokens[i], Now, Now.Add(time.Minute))
			}()
		}
		wg.Wait()
		winner := -1
		for i, err := range errsOf {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("racers %d and %d both claimed the export", winner, i)
			case err == nil:
				winner = i
			case !errs.Is(err, errs.KindConflict):
				t.Errorf("racer %d: %v, want KindConflict", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no racer claimed the export")
		}
		token := tokens[winner]
		got, err := s.Exports.Export(ctx, fx.Practice, x.ID)
		if err != nil || got.State != ehr.ExportInProgress || got.Claim == nil || *got.Claim != token || got.StartedAt == nil || !got.StartedAt.Equal(Now) {
			t.Fatalf("claimed export = %+v, %v", got, err)
		}
		if due, err := s.Exports.DueExports(ctx, Now, 10); err != nil || len(due) != 0 {
			t.Errorf("DueExports under a live lease = %+v, %v", due, err)
		}
		if err := s.Exports.ProgressExport(ctx, fx.Practice, x.ID, token, "1 of 2 patients", Now.Add(2*time.Minute)); err != nil {
			t.Fatalf("ProgressExport: %v", err)
		}
		if err := s.Exports.ProgressExport(ctx, fx.Practice, x.ID, newID(), "x", Now.Add(time.Hour)); !errs.Is(err, errs.KindConflict) {
			t.Errorf("ProgressExport of another token: %v, want KindConflict", err)
		}
		// Past the lease the job is due again, and a second runner takes
		// it over: the first can then no longer finish it.
		later := Now.Add(3 * time.Minute)
		if due, err := s.Exports.DueExports(ctx, later, 10); err != nil || len(due) != 1 {
			t.Fatalf("DueExports past the lease = %+v, %v", due, err)
		}
		second := newID()
		if _, err := s.Exports.ClaimExport(ctx, fx.Practice, x.ID, second, later, later.Add(time.Minute)); err != nil {
			t.Fatalf("claim past the lease: %v", err)
		}
		fin := later.Add(30 * time.Second)
		exp := fin.Add(24 * time.Hour)
		done := *got
		done.State, done.FinishedAt, done.ExpiresAt, done.Progress = ehr.ExportComplete, &fin, &exp, "2 of 2 patients"
		done.Outputs = []ehr.ExportOutput{{ID: newID(), Type: "Patient", Count: 2, ObjectKey: "k1", Size: 300},
			{ID: newID(), Type: "Condition", Count: 5, ObjectKey: "k2", Size: 900}}
		if err := s.Exports.FinishExport(ctx, &done, token); !errs.Is(err, errs.KindConflict) {
			t.Errorf("FinishExport of the lost claim: %v, want KindConflict", err)
		}
		if err := s.Exports.FinishExport(ctx, &done, second); err != nil {
			t.Fatalf("FinishExport: %v", err)
		}
		back, err := s.Exports.Export(ctx, fx.Practice, x.ID)
		if err != nil || back.State != ehr.ExportComplete || !sameJSON(t, back.Outputs, done.Outputs) || back.Claim != nil ||
			!back.FinishedAt.Equal(fin) || !back.ExpiresAt.Equal(exp) || back.Progress != "2 of 2 patients" || !back.StartedAt.Equal(later) {
			t.Fatalf("finished export = %+v, %v", back, err)
		}
		if err := s.Exports.FinishExport(ctx, &done, second); !errs.Is(err, errs.KindConflict) {
			t.Errorf("FinishExport twice: %v, want KindConflict", err)
		}
		if _, err := s.Exports.ClaimExport(ctx, fx.Practice, x.ID, newID(), exp, exp.Add(time.Minute)); !errs.Is(err, errs.KindConflict) {
			t.Errorf("ClaimExport of a complete export: %v, want KindConflict", err)
		}
		if _, err := s.Exports.ClaimExport(ctx, fx.Practice, newID(), newID(), Now, Now); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("ClaimExport of no export: %v, want KindNotFound", err)
		}

		// Expiry: due once its time has come, marked once.
		if list, err := s.Exports.ExpiringExports(ctx, exp.Add(-time.Second), 10); err != nil || len(list) != 0 {
			t.Errorf("ExpiringExports before the time = %+v, %v", list, err)
		}
		list, err := s.Exports.ExpiringExports(ctx, exp, 10)
		if err != nil || len(list) != 1 || list[0].ID != x.ID || len(list[0].Outputs) != 2 {
			t.Fatalf("ExpiringExports = %+v, %v", list, err)
		}
		if err := s.Exports.ExpireExport(ctx, fx.Practice, x.ID); err != nil {
			t.Fatalf("ExpireExport: %v", err)
		}
		if err := s.Exports.ExpireExport(ctx, fx.Practice, x.ID); !errs.Is(err, errs.KindConflict) {
			t.Errorf("ExpireExport twice: %v, want KindConflict", err)
		}
		if list, err := s.Exports.ExpiringExports(ctx, exp.Add(time.Hour), 10); err != nil || len(list) != 0 {
			t.Errorf("ExpiringExports once expired = %+v, %v", list, err)
		}
		if back, _ := s.Exports.Export(ctx, fx.Practice, x.ID); back == nil || !back.Expired {
			t.Errorf("expired export = %+v", back)
		}
	})

	t.Run("exports: cancel once, from any state but the ends", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s.Stores)
		accepted, running := newExport(fx, Now), newExport(fx, Now.Add(time.Second))
		for _, x := range []*ehr.Export{accepted, running} {
			if err := s.Exports.CreateExport(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		token := newID()
		if _, err := s.Exports.ClaimExport(ctx, fx.Practice, running.ID, token, Now, Now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		at := Now.Add(time.Minute)
		for _, x := range []*ehr.Export{accepted, running} {
			before, err := s.Exports.CancelExport(ctx, fx.Practice, x.ID, at)
			if err != nil || before.ID != x.ID {
				t.Fatalf("CancelExport: %+v, %v", before, err)
			}
			if _, err := s.Exports.CancelExport(ctx, fx.Practice, x.ID, at); !errs.Is(err, errs.KindConflict) {
				t.Errorf("CancelExport twice: %v, want KindConflict", err)
			}
			back, err := s.Exports.Export(ctx, fx.Practice, x.ID)
			if err != nil || back.State != ehr.ExportCanceled || back.FinishedAt == nil || !back.FinishedAt.Equal(at) || back.Claim != nil {
				t.Errorf("canceled export = %+v, %v", back, err)
			}
		}
		if err := s.Exports.ProgressExport(ctx, fx.Practice, running.ID, token, "x", Now.Add(time.Hour)); !errs.Is(err, errs.KindConflict) {
			t.Errorf("ProgressExport of a canceled export: %v, want KindConflict", err)
		}
		if due, err := s.Exports.DueExports(ctx, Now.Add(2*time.Hour), 10); err != nil || len(due) != 0 {
			t.Errorf("DueExports of canceled exports = %+v, %v", due, err)
		}
		other := NewFixture(t, s.Stores)
		if _, err := s.Exports.CancelExport(ctx, other.Practice, accepted.ID, at); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("CancelExport from another practice: %v, want KindNotFound", err)
		}
	})
}
