package carebook_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/billingtest"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
)

// field returns the Field of err, an *errs.Error.
func field(t *testing.T, err error) string {
	t.Helper()
	var fe *errs.Error
	require.ErrorAs(t, err, &fe)
	return fe.Field
}

// TestOperatorSignIn: a support staff member added with a one-time
// password signs in with it (any case of the email), the session idles out
// on the engine's clock and ends on sign-out; a wrong password and an
// unknown email are refused alike; an email taken is a conflict.
func TestOperatorSignIn(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		ctx := context.Background()
		_, _, err := c.e.AddOperator(ctx, "not an email")
		require.Equal(t, "email", field(t, err))
		op, pw, err := c.e.AddOperator(ctx, "Help@Carebook.Example")
		require.NoError(t, err)
		require.Equal(t, "help@carebook.example", op.Email)
		require.GreaterOrEqual(t, len(pw), 20)
		_, _, err = c.e.AddOperator(ctx, "help@carebook.example")
		require.Equal(t, errs.KindConflict, errs.KindOf(err))

		_, _, err = c.e.OperatorSignIn(ctx, "help@carebook.example", pw+"x")
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
		_, _, err = c.e.OperatorSignIn(ctx, "nobody@carebook.example", pw)
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
		_, _, err = c.e.OperatorSignIn(ctx, "", pw)
		require.Equal(t, "email", field(t, err))

		tok, got, err := c.e.OperatorSignIn(ctx, " HELP@carebook.example", pw)
		require.NoError(t, err)
		require.Equal(t, op.ID, got.ID)
		who, err := c.e.OperatorAuthenticate(ctx, tok)
		require.NoError(t, err)
		require.Equal(t, op.Email, who.Email)

		c.clk.Advance(carebook.OperatorIdleTimeout - time.Second)
		_, err = c.e.OperatorAuthenticate(ctx, tok) // used: idles again from now
		require.NoError(t, err)
		c.clk.Advance(carebook.OperatorIdleTimeout - time.Second)
		_, err = c.e.OperatorAuthenticate(ctx, tok)
		require.NoError(t, err)
		c.clk.Advance(carebook.OperatorIdleTimeout)
		_, err = c.e.OperatorAuthenticate(ctx, tok)
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err), "idle past the timeout")

		tok, _, err = c.e.OperatorSignIn(ctx, "help@carebook.example", pw)
		require.NoError(t, err)
		require.NoError(t, c.e.OperatorSignOut(ctx, tok))
		_, err = c.e.OperatorAuthenticate(ctx, tok)
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err), "signed out")
		_, err = c.e.OperatorAuthenticate(ctx, "made-up")
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
	})
}

// TestOperatorIsNoCaller: a context carrying only an Operator is refused
// every practice and patient operation (a patient read, a booking, the
// chart), and the support operations refuse a context without one, a
// practice's staff included.
func TestOperatorIsNoCaller(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, admin, _, _ := subscribed(t, st, 500)
		op, _, err := c.e.AddOperator(context.Background(), "help@carebook.example")
		require.NoError(t, err)
		ops := carebook.WithOperator(context.Background(), *op)

		_, err = c.e.Patient(ops, c.practice, c.patient.ID)
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
		_, err = c.e.Book(ops, c.practice, bookRequest(c, time.Date(2026, 3, 3, 10, 0, 0, 0, c.loc)))
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
		_, err = c.e.Chart(ops, c.practice, c.patient.ID, ehr.ChartFilter{})
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
		_, err = c.e.Subscription(ops, c.practice)
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))

		for name, ctx := range map[string]context.Context{"none": context.Background(), "practice admin": admin, "system actor": c.staff} {
			_, err = c.e.SupportTenants(ctx, [16]byte{})
			require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err), name)
			_, err = c.e.SupportPractice(ctx, c.practice)
			require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err), name)
			err = c.e.ExtendTrial(ctx, c.practice, c.clk.Now().AddDate(0, 1, 0), "asked")
			require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err), name)
			err = c.e.ChangePlan(ctx, c.practice, "basic", "asked")
			require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err), name)
		}
	})
}

// TestSupportActions: the support staff list every practice with its
// plan, status and usage, extend a trial and change a plan; each action
// needs a reason, names its bad input, and is in the practice's activity
// log as the staff member in the role "support", with its record.
func TestSupportActions(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, _, _, sub := subscribed(t, st, 500)
		require.NoError(t, c.e.PutPlan(c.staff, billingtest.SamplePlan("pro")))
		op, _, err := c.e.AddOperator(context.Background(), "help@carebook.example")
		require.NoError(t, err)
		ops := carebook.WithOperator(context.Background(), *op)
		_, err = c.e.Scheduling.Book(c.staff, c.practice, bookRequest(c, time.Date(2026, 3, 3, 10, 0, 0, 0, c.loc)))
		require.NoError(t, err)

		ts, err := c.e.SupportTenants(ops, [16]byte{})
		require.NoError(t, err)
		require.Len(t, ts, 1)
		require.Equal(t, c.practice, ts[0].Practice.ID)
		require.Equal(t, billing.PlanID("basic"), ts[0].Subscription.Plan)
		require.Equal(t, billing.SubscriptionTrialing, ts[0].Subscription.Status)
		require.Contains(t, ts[0].Usage, billing.UsageTotal{Practice: c.practice, Meter: billing.MeterBookings, Units: 1})

		later := sub.TrialEnd.AddDate(0, 0, 14)
		cases := []struct {
			name, field string
			err         error
		}{
			{"no reason", "reason", c.e.ExtendTrial(ops, c.practice, later, "  ")},
			{"past", "until", c.e.ExtendTrial(ops, c.practice, c.clk.Now().Add(-time.Hour), "asked")},
			{"earlier than the trial end", "until", c.e.ExtendTrial(ops, c.practice, sub.TrialEnd.Add(-time.Hour), "asked")},
			{"unknown practice", "practice_id", c.e.ExtendTrial(ops, [16]byte{1}, later, "asked")},
			{"no plan", "plan", c.e.ChangePlan(ops, c.practice, "", "asked")},
			{"unknown plan", "plan", c.e.ChangePlan(ops, c.practice, "gold", "asked")},
		}
		for _, tc := range cases {
			require.Equal(t, tc.field, field(t, tc.err), tc.name)
		}
		require.Empty(t, entries(t, c, carebook.ActionSupportExtendTrial), "bad input writes nothing")

		require.NoError(t, c.e.ExtendTrial(ops, c.practice, later, "onboarding took longer"))
		require.NoError(t, c.e.ChangePlan(ops, c.practice, "pro", "upgrade by phone"))
		v, err := c.e.SupportPractice(ops, c.practice)
		require.NoError(t, err)
		require.Equal(t, later.UTC(), v.Subscription.TrialEnd)
		require.Equal(t, billing.PlanID("pro"), v.Subscription.Plan)
		require.Len(t, v.Actions, 2)
		require.Equal(t, "upgrade by phone", v.Actions[0].Reason)
		require.Equal(t, "onboarding took longer", v.Actions[1].Reason)

		for _, action := range []string{carebook.ActionSupportExtendTrial, carebook.ActionSupportChangePlan} {
			got := entries(t, c, action)
			require.Len(t, got, 1, action)
			require.Equal(t, "operator:help@carebook.example", got[0].Actor)
			require.Equal(t, carebook.OperatorRole, got[0].Role)
			require.Equal(t, audit.Allowed, got[0].Outcome)
		}
	})
}

// TestExtendTrialParallel: many support staff extending the same trial at
// once each leave their entry and record, and the trial ends at one of
// their dates.
func TestExtendTrialParallel(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, _, _, sub := subscribed(t, st, 500)
		op, _, err := c.e.AddOperator(context.Background(), "help@carebook.example")
		require.NoError(t, err)
		ops := carebook.WithOperator(context.Background(), *op)
		const n = 16
		var wg sync.WaitGroup
		errc := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- c.e.ExtendTrial(ops, c.practice, sub.TrialEnd.AddDate(0, 0, i+1), "parallel")
			}()
		}
		wg.Wait()
		close(errc)
		ok := 0
		for err := range errc {
			if err == nil {
				ok++
			} else {
				require.Equal(t, "until", field(t, err), "a later extension already in: refused naming until")
			}
		}
		require.GreaterOrEqual(t, ok, 1)
		require.Len(t, entries(t, c, carebook.ActionSupportExtendTrial), ok)
		v, err := c.e.SupportPractice(ops, c.practice)
		require.NoError(t, err)
		require.Len(t, v.Actions, ok)
	})
}

// TestSupportLiftsTrialEnd: a practice made read-only by its trial's end
// is shown read-only on the panel; extending its trial makes it trialing
// and writable again, and a practice read-only for an unpaid invoice is
// lifted only by LiftReadOnly, each with its entries.
func TestSupportLiftsTrialEnd(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, _, _, sub := subscribed(t, st, 500)
		op, _, err := c.e.AddOperator(context.Background(), "help@carebook.example")
		require.NoError(t, err)
		ops := carebook.WithOperator(context.Background(), *op)
		c.clk.Set(sub.TrialEnd.Add(time.Hour))
		n, err := c.e.EndTrials(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		v, err := c.e.SupportPractice(ops, c.practice)
		require.NoError(t, err)
		require.Equal(t, billing.SubscriptionReadOnly, v.Subscription.Status)
		require.Len(t, v.ReadOnly, 1)

		until := c.clk.Now().AddDate(0, 0, 7)
		require.NoError(t, c.e.ExtendTrial(ops, c.practice, until, "card on its way"))
		v, err = c.e.SupportPractice(ops, c.practice)
		require.NoError(t, err)
		require.Equal(t, billing.SubscriptionTrialing, v.Subscription.Status)
		require.Empty(t, v.ReadOnly)
		leaves := entries(t, c, carebook.ActionReadOnlyLeave)
		require.Len(t, leaves, 1)
		require.Equal(t, op.Actor(), leaves[0].Actor)

		require.NoError(t, carebook.EnterReadOnly(c.e, context.Background(), c.practice, "payment_failed"))
		err = c.e.ExtendTrial(ops, c.practice, until.AddDate(0, 0, 7), "again")
		require.Equal(t, "until", field(t, err))
		require.NoError(t, c.e.LiftReadOnly(ops, c.practice, "paid by wire"))
		v, err = c.e.SupportPractice(ops, c.practice)
		require.NoError(t, err)
		require.Empty(t, v.ReadOnly)
		require.Len(t, entries(t, c, carebook.ActionSupportLiftReadOnly), 1)
		require.Len(t, entries(t, c, carebook.ActionSupportExtendTrial), 1)
	})
}
