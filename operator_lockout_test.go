package carebook_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
)

// TestOperatorLockout: a support staff member is locked out after 5 failed
// sign-ins in a row, as an account is (identity's default rule), even from
// 8 at once: the right password is then refused (KindRateLimited, the 15
// minutes to wait in its details) until the lock ends on the engine's
// clock; a success resets the count, and the next lock lasts twice as
// long.
func TestOperatorLockout(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		ctx := context.Background()
		op, pw, err := c.e.AddOperator(ctx, "help@carebook.example")
		require.NoError(t, err)
		signIn := func(password string) error {
			_, _, err := c.e.OperatorSignIn(ctx, op.Email, password)
			return err
		}
		wantLocked := func(wait int64) {
			t.Helper()
			err := signIn(pw)
			require.Equal(t, errs.KindRateLimited, errs.KindOf(err), "%v", err)
			e, _ := errs.As(err)
			require.Equal(t, map[string]any{"retry_after_seconds": wait}, e.Details)
		}

		for range 4 {
			require.Equal(t, errs.KindUnauthenticated, errs.KindOf(signIn("guess")))
		}
		require.NoError(t, signIn(pw), "4 failures do not lock")
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if k := errs.KindOf(signIn("guess")); k != errs.KindUnauthenticated && k != errs.KindRateLimited {
					t.Errorf("a wrong password: %v", k)
				}
			}()
		}
		wg.Wait()
		wantLocked(15 * 60)
		c.clk.Advance(14 * time.Minute)
		wantLocked(60)
		c.clk.Advance(time.Minute)
		require.NoError(t, signIn(pw))

		for range 5 {
			require.Equal(t, errs.KindUnauthenticated, errs.KindOf(signIn("guess")))
		}
		wantLocked(15 * 60)
		c.clk.Advance(15 * time.Minute)
		for range 5 {
			require.Equal(t, errs.KindUnauthenticated, errs.KindOf(signIn("guess")))
		}
		wantLocked(30 * 60)
	})
}
