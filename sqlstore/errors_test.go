package sqlstore_test

import (
	"context"
	"testing"

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
	wantKind(t, s.CreateProvider(ctx, &p), errs.KindInvalid, "CreateProvider with a NUL in a specialty")
	ps, err := s.ListProviders(ctx, f.p.ID, scheduling.ProviderFilter{})
	ok(t, err, "ListProviders")
	if len(ps) != 1 {
		t.Fatalf("%d providers, want the fixture's only", len(ps))
	}
}
