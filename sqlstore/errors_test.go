package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestUnstorableTextIsInvalid stores a NUL where PostgreSQL refuses it (a
// jsonb string, SQLSTATE 22P05): the store answers KindInvalid, not an
// internal error, and writes nothing.
func TestUnstorableTextIsInvalid(t *testing.T) {
	s := sqltest.Postgres(t)
	ctx := context.Background()
	f := mustFixture(t, s)
	p := *f.prov
	p.ID, p.NPI, p.Specialties = newID(), "1234567893", []string{"cardi\x00logy"}
	wantKind(t, s.Scheduling.CreateProvider(ctx, &p), errs.KindInvalid, "CreateProvider with a NUL in a specialty")
	ps, err := s.Scheduling.ListProviders(ctx, f.p.ID, scheduling.ProviderFilter{})
	ok(t, err, "ListProviders")
	if len(ps) != 1 {
		t.Fatalf("%d providers, want the fixture's only", len(ps))
	}
}

// TestTimeOutOfRangeIsInvalid reads with a time PostgreSQL cannot hold (the
// year 0, SQLSTATE 22008): KindInvalid, not an internal error.
func TestTimeOutOfRangeIsInvalid(t *testing.T) {
	s := sqltest.Postgres(t)
	f := mustFixture(t, s)
	_, err := s.Scheduling.ListBlocks(context.Background(), f.p.ID, scheduling.BlockFilter{From: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)})
	wantKind(t, err, errs.KindInvalid, "ListBlocks from the year 0")
}
