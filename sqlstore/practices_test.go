package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestPracticeIDs: the pages of PracticeIDs list every practice of every
// group once, in ID order.
func TestPracticeIDs(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
		var want []tenant.PracticeID
		for range 2 {
			g := &tenant.Group{ID: uuid.New(), Name: "G", CreatedAt: at}
			require.NoError(t, s.Tenants.CreateGroup(ctx, g))
			for range 3 {
				p := &tenant.Practice{ID: uuid.New(), GroupID: g.ID, Name: "P", Policy: tenant.DefaultPolicy, CreatedAt: at}
				require.NoError(t, s.Tenants.CreatePractice(ctx, p))
				want = append(want, p.ID)
			}
		}
		slices.SortFunc(want, func(a, b tenant.PracticeID) int { return slices.Compare(a[:], b[:]) })
		var got []tenant.PracticeID
		var after tenant.PracticeID
		for pages := 0; ; pages++ {
			ids, err := s.Tenants.PracticeIDs(ctx, after, 4)
			require.NoError(t, err)
			require.LessOrEqual(t, pages, 2, "the pages do not end")
			got = append(got, ids...)
			if len(ids) < 4 {
				break
			}
			after = ids[len(ids)-1]
		}
		require.Equal(t, want, got)
	})
}
