package carebook_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/billingtest"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
)

// trialClinic is a payClinic on a plan with a 14-day trial, with Stripe
// (a fake of ours) to save the practice's card, and its administrator.
type trialClinic struct {
	*payClinic
	admin context.Context
	fake  *stripetest.Fake
}

func newTrialClinic(t *testing.T, st *sqlstore.Store) *trialClinic {
	t.Helper()
	return newTrialClinicOn(t, st, nil)
}

// newTrialClinicOn is newTrialClinic with its fake Stripe telling the
// time of the clinic's clock when fakeClock is set (set to it once the
// clinic is made), else the system's.
func newTrialClinicOn(t *testing.T, st *sqlstore.Store, fakeClock *followClock) *trialClinic {
	t.Helper()
	var fc clock.Clock = clock.System{}
	if fakeClock != nil {
		fc = fakeClock
	}
	fake := stripetest.NewFake(fc)
	t.Cleanup(fake.Close)
	sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_trials", WebhookSecret: "whsec_trials", BackendURL: fake.URL(), Clock: clock.System{}, Retries: -1})
	require.NoError(t, err)
	c := &trialClinic{payClinic: newPayClinic(t, st, carebook.WithPaymentAdapter("stripe", sa)), fake: fake}
	if fakeClock != nil {
		fakeClock.follow(c.clk)
	}
	p, err := c.e.Tenants.Practice(c.staff, c.practice)
	require.NoError(t, err)
	c.admin = callerWith(t, c.clinic, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
	require.NoError(t, c.e.PutPlan(c.staff, billingtest.SamplePlan("basic")))
	sub, err := c.e.Subscribe(c.staff, c.practice, "basic")
	require.NoError(t, err)
	require.Equal(t, billing.SubscriptionTrialing, sub.Status)
	require.Equal(t, c.clk.Now().UTC().AddDate(0, 0, 14), sub.TrialEnd)
	return c
}

// requireReadOnly checks that err is the refusal of a write of a practice
// read-only for reasons.
func requireReadOnly(t *testing.T, err error, reasons ...billing.ReadOnlyReason) {
	t.Helper()
	require.Truef(t, errs.Is(err, errs.KindReadOnly), "want read-only, got %v", err)
	e, _ := errs.As(err)
	d, ok := e.Details.(billing.ReadOnlyDetails)
	require.True(t, ok, "details %T", e.Details)
	require.Equal(t, reasons, d.Reasons)
	require.Len(t, d.Restore, len(reasons))
	require.Contains(t, e.Msg, reasons[0].Restore())
}

// TestTrialEndWalk is the "done when" of trials: writes go on during the
// trial; once it ends without a payment method the trial job makes the
// practice read-only, a booking, a new patient, a settings change and a
// staff change are refused and change no table's row count, while reads
// and the patient's own cancellation go on; attaching a card restores the
// practice and the next write goes through; each step is in the activity
// log.
func TestTrialEndWalk(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newTrialClinic(t, st)
		book := func(ctx context.Context, start time.Time) (*scheduling.Appointment, error) {
			return c.e.Book(ctx, c.practice, scheduling.BookRequest{PatientID: c.patient.ID, ProviderID: c.provider, VisitTypeID: c.vt, Start: start})
		}
		newPatient := func(ctx context.Context) error {
			return c.e.Guard(ctx, carebook.Access{Permission: rbac.PatientContactWrite, PracticeID: c.practice,
				Action: "patient.create", ResourceType: "patient"}, func(ctx context.Context) (string, error) {
				p, err := c.e.Scheduling.CreatePatient(ctx, c.practice, scheduling.PatientInput{GivenName: "Alan", FamilyName: "Turing",
					BirthDate: "2014-06-23", Phone: "+12025550100", Language: "en"})
				if err != nil {
					return "", err
				}
				return p.ID.String(), nil
			})
		}
		settings := func() error {
			_, err := c.e.PutPaymentPolicy(c.admin, &billing.Policy{Practice: c.practice, Collect: billing.CollectAtDesk})
			return err
		}

		// The trial runs: writes go on, and the job leaves it be.
		visit, err := book(c.desk, c.at(3, 25, 9, 0))
		require.NoError(t, err)
		require.NoError(t, newPatient(c.desk))
		require.NoError(t, settings())
		c.clk.Set(c.at(3, 16, 7, 59)) // the trial ends at 12:00 UTC, 08:00 in New York
		n, err := c.e.EndTrials(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)

		// It ends without a payment method: the job makes it read-only, once.
		c.clk.Set(c.at(3, 17, 9, 0))
		n, err = c.e.EndTrials(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = c.e.EndTrials(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)
		sub, err := c.e.Subscription(c.admin, c.practice)
		require.NoError(t, err)
		require.Equal(t, billing.SubscriptionReadOnly, sub.Status)

		before := sqltest.RowCounts(t, st)
		require.Greater(t, len(before), 30, "the catalog lists every table")
		_, err = book(c.desk, c.at(3, 18, 9, 0))
		requireReadOnly(t, err, billing.ReadOnlyTrialEnded)
		_, err = book(c.self, c.at(3, 18, 10, 0))
		requireReadOnly(t, err, billing.ReadOnlyTrialEnded)
		requireReadOnly(t, newPatient(c.desk), billing.ReadOnlyTrialEnded)
		requireReadOnly(t, settings(), billing.ReadOnlyTrialEnded)
		_, _, err = c.e.CreateAPIKey(c.admin, c.practice, "sync", []string{"appointment.read"})
		requireReadOnly(t, err, billing.ReadOnlyTrialEnded)
		_, err = c.e.TakeDeskPayment(c.desk, c.practice, carebook.DeskPayment{Patient: c.patient.ID, Appointment: &c.appt.ID,
			Amount: usd(2500), Method: billing.Method{Kind: billing.MethodCash}})
		requireReadOnly(t, err, billing.ReadOnlyTrialEnded)
		cancel := func(ctx context.Context) error {
			return c.e.Guard(ctx, carebook.Access{Permission: rbac.AppointmentCancel, PracticeID: c.practice, AppointmentID: &visit.ID,
				Action: "appointment.status", ResourceType: "appointment", ResourceID: visit.ID.String()}, func(ctx context.Context) (string, error) {
				_, err := c.e.Scheduling.Transition(ctx, c.practice, visit.ID, scheduling.StatusCanceled, "")
				return "", err
			})
		}
		requireReadOnly(t, cancel(c.desk), billing.ReadOnlyTrialEnded)
		require.Equal(t, before, sqltest.RowCounts(t, st), "a refused write changes no table's row count")

		// Reads go on, and so does the patient's own cancellation.
		_, err = c.e.Patient(c.desk, c.practice, c.patient.ID)
		require.NoError(t, err)
		_, err = c.e.Payments(c.desk, c.practice, billing.PaymentFilter{})
		require.NoError(t, err)
		_, err = c.e.PaymentPolicies(c.admin, c.practice)
		require.NoError(t, err)
		ros, err := c.e.ReadOnlyState(c.admin, c.practice)
		require.NoError(t, err)
		require.Len(t, ros, 1)
		require.Equal(t, billing.ReadOnlyTrialEnded, ros[0].Reason)
		require.Equal(t, c.at(3, 17, 9, 0).UTC(), ros[0].Since)
		require.NoError(t, cancel(c.self))
		got, err := c.e.Scheduling.Appointment(c.staff, c.practice, visit.ID)
		require.NoError(t, err)
		require.Equal(t, scheduling.StatusCanceled, got.Status)

		// The administrator saves a card: the practice writes again at once.
		setup, err := c.e.SetupPaymentMethod(c.admin, c.practice, "stripe")
		require.NoError(t, err)
		require.NotEmpty(t, setup.ClientSecret)
		token, err := c.fake.CompleteSetup(setup.ID, stripetest.CardVisa)
		require.NoError(t, err)
		m, err := c.e.AttachPaymentMethod(c.admin, c.practice, carebook.PaymentMethodInput{Provider: "stripe", SetupRef: setup.ID, Token: token, Label: "Visa ending 4242"})
		require.NoError(t, err)
		require.Equal(t, token, m.Token)
		_, err = book(c.desk, c.at(3, 18, 9, 0))
		require.NoError(t, err)
		require.NoError(t, settings())
		sub, err = c.e.Subscription(c.admin, c.practice)
		require.NoError(t, err)
		require.Equal(t, billing.SubscriptionActive, sub.Status)
		ros, err = c.e.ReadOnlyState(c.admin, c.practice)
		require.NoError(t, err)
		require.Empty(t, ros)

		for _, a := range []string{carebook.ActionReadOnlyEnter, carebook.ActionPaymentMethodSetup, carebook.ActionPaymentMethodAttach, carebook.ActionReadOnlyLeave} {
			require.Len(t, entries(t, c.clinic, a), 1, a)
		}
		enter := entries(t, c.clinic, carebook.ActionReadOnlyEnter)[0]
		require.Equal(t, "system:billing", enter.Actor)
		require.Equal(t, "trial_ended", enter.ResourceID)
		leave := entries(t, c.clinic, carebook.ActionReadOnlyLeave)[0]
		require.Greater(t, leave.Seq, enter.Seq)
		require.Equal(t, "trial_ended", leave.ResourceID)
	})
}

// TestReadOnlyReasons: each reason is entered and left once, logged once;
// a practice read-only for two is restored only when both are lifted, each
// by its own remedy; bad reasons and practices are refused naming them.
func TestReadOnlyReasons(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newTrialClinic(t, st)
		ctx := context.Background()
		write := func() error {
			_, err := c.e.PutPaymentPolicy(c.admin, &billing.Policy{Practice: c.practice, Collect: billing.CollectAtDesk})
			return err
		}
		err := carebook.EnterReadOnly(c.e, ctx, c.practice, "overdue")
		require.True(t, errs.Is(err, errs.KindInvalid) && errs.FieldOf(err) == "reason", "%v", err)
		err = carebook.EnterReadOnly(c.e, ctx, newClinic(t, st).practice, "trial_ended")
		require.NoError(t, err, "a practice on no plan may be read-only too")
		err = carebook.EnterReadOnly(c.e, ctx, c.appt.ID, "trial_ended")
		require.True(t, errs.Is(err, errs.KindNotFound) && errs.FieldOf(err) == "practice_id", "%v", err)

		for range 2 {
			require.NoError(t, carebook.EnterReadOnly(c.e, ctx, c.practice, "payment_failed"))
		}
		c.clk.Advance(time.Hour)
		require.NoError(t, carebook.EnterReadOnly(c.e, ctx, c.practice, "trial_ended"))
		require.Len(t, entries(t, c.clinic, carebook.ActionReadOnlyEnter), 2, "entered once per reason")
		requireReadOnly(t, write(), billing.ReadOnlyPaymentFailed, billing.ReadOnlyTrialEnded)

		// A card lifts the trial's end, not the failed payment.
		_, err = c.e.AttachPaymentMethod(c.admin, c.practice, carebook.PaymentMethodInput{Provider: "stripe", Token: "pm_card_visa", Label: "Visa"})
		require.NoError(t, err)
		requireReadOnly(t, write(), billing.ReadOnlyPaymentFailed)
		sub, err := c.e.Subscription(c.admin, c.practice)
		require.NoError(t, err)
		require.Equal(t, billing.SubscriptionReadOnly, sub.Status)
		for range 2 {
			require.NoError(t, carebook.LeaveReadOnly(c.e, ctx, c.practice, "payment_failed"))
		}
		require.NoError(t, write())
		require.Len(t, entries(t, c.clinic, carebook.ActionReadOnlyLeave), 2, "left once per reason")
		sub, err = c.e.Subscription(c.admin, c.practice)
		require.NoError(t, err)
		require.Equal(t, billing.SubscriptionActive, sub.Status)

		// The operator lifts every reason at once.
		require.NoError(t, carebook.EnterReadOnly(c.e, ctx, c.practice, "payment_failed"))
		require.NoError(t, carebook.EnterReadOnly(c.e, ctx, c.practice, "trial_ended"))
		requireReadOnly(t, write(), billing.ReadOnlyPaymentFailed, billing.ReadOnlyTrialEnded)
		op, _, err := c.e.AddOperator(ctx, "help@carebook.example")
		require.NoError(t, err)
		ops := carebook.WithOperator(ctx, *op)
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(c.e.LiftReadOnly(ctx, c.practice, "paid by wire")), "no operator")
		require.Equal(t, "reason", errs.FieldOf(c.e.LiftReadOnly(ops, c.practice, "")))
		requireReadOnly(t, write(), billing.ReadOnlyPaymentFailed, billing.ReadOnlyTrialEnded)
		require.NoError(t, c.e.LiftReadOnly(ops, c.practice, "paid by wire"))
		require.NoError(t, write())
		leaves := entries(t, c.clinic, carebook.ActionReadOnlyLeave)
		require.Len(t, leaves, 4)
		require.Equal(t, "operator:help@carebook.example", leaves[3].Actor)
		require.Equal(t, carebook.OperatorRole, leaves[3].Role)
		require.Len(t, entries(t, c.clinic, carebook.ActionSupportLiftReadOnly), 1)
		err = c.e.LiftReadOnly(ops, c.practice, "again")
		require.True(t, errs.Is(err, errs.KindPreconditionFailed) && errs.FieldOf(err) == "practice_id", "%v", err)
		require.Len(t, entries(t, c.clinic, carebook.ActionSupportLiftReadOnly), 1)
	})
}

// TestPaymentMethodInput: bad input names its field, and is told only to
// whoever may attach a card; the front desk may not, read-only or not.
func TestPaymentMethodInput(t *testing.T) {
	st := sqltest.SQLite(t)
	c := newTrialClinic(t, st)
	long := string(make([]byte, 201))
	for _, tc := range []struct {
		in    carebook.PaymentMethodInput
		field string
	}{
		{carebook.PaymentMethodInput{Provider: "stripe"}, "token"},
		{carebook.PaymentMethodInput{Provider: "stripe", Token: "  "}, "token"},
		{carebook.PaymentMethodInput{Provider: "stripe", Token: "pm_1\n"}, "token"},
		{carebook.PaymentMethodInput{Provider: "stripe", Token: "pm_1", Label: long}, "label"},
		{carebook.PaymentMethodInput{Provider: "stripe", Token: "pm_1", SetupRef: "\xff"}, "setup_ref"},
		{carebook.PaymentMethodInput{Provider: "adyen", Token: "pm_1"}, "provider"},
		{carebook.PaymentMethodInput{Provider: "desk", Token: "pm_1"}, "provider"},
	} {
		_, err := c.e.AttachPaymentMethod(c.admin, c.practice, tc.in)
		require.Truef(t, errs.Is(err, errs.KindInvalid) && errs.FieldOf(err) == tc.field, "%+v: %v, want invalid naming %s", tc.in, err, tc.field)
		_, err = c.e.AttachPaymentMethod(c.desk, c.practice, tc.in)
		require.Truef(t, errs.Is(err, errs.KindForbidden), "the desk's %+v: %v, want forbidden", tc.in, err)
	}
	_, err := c.e.SetupPaymentMethod(c.admin, c.practice, "adyen")
	require.True(t, errs.Is(err, errs.KindInvalid) && errs.FieldOf(err) == "provider", "%v", err)
	_, err = c.e.PracticePaymentMethod(c.admin, c.practice)
	require.True(t, errs.Is(err, errs.KindNotFound) && errs.FieldOf(err) == "payment_method", "%v", err)
	require.NoError(t, carebook.EnterReadOnly(c.e, context.Background(), c.practice, "trial_ended"))
	_, err = c.e.AttachPaymentMethod(c.desk, c.practice, carebook.PaymentMethodInput{Provider: "stripe", Token: "pm_1"})
	require.True(t, errs.Is(err, errs.KindForbidden), "%v", err)
	_, err = c.e.SetupPaymentMethod(c.desk, c.practice, "stripe")
	require.True(t, errs.Is(err, errs.KindForbidden), "%v", err)
}

// TestTrialWithCard: a practice that saved a card during its trial becomes
// active when the trial ends, never read-only; so does one that saves it
// after the trial ran out and before the job saw it.
func TestTrialWithCard(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newTrialClinic(t, st)
		late := newTrialClinic(t, st)
		late.clk = c.clk
		late.e = carebook.NewWithStore(st, carebook.WithClock(c.clk), carebook.WithPaymentAdapter("stripe", stripeFor(t, late.fake)))
		_, err := c.e.AttachPaymentMethod(c.admin, c.practice, carebook.PaymentMethodInput{Provider: "stripe", Token: "pm_card_visa"})
		require.NoError(t, err)
		c.clk.Set(c.at(3, 17, 9, 0))
		_, err = late.e.AttachPaymentMethod(late.admin, late.practice, carebook.PaymentMethodInput{Provider: "stripe", Token: "pm_card_visa"})
		require.NoError(t, err)
		n, err := c.e.EndTrials(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)
		for _, tc := range []*trialClinic{c, late} {
			sub, err := tc.e.Subscription(tc.admin, tc.practice)
			require.NoError(t, err)
			require.Equal(t, billing.SubscriptionActive, sub.Status)
			require.Len(t, entries(t, tc.clinic, carebook.ActionTrialConverted), 1)
			require.Empty(t, entries(t, tc.clinic, carebook.ActionReadOnlyEnter))
		}
	})
}

// stripeFor is a Stripe adapter over fake.
func stripeFor(t *testing.T, fake *stripetest.Fake) *stripe.Adapter {
	t.Helper()
	sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_trials", WebhookSecret: "whsec_trials", BackendURL: fake.URL(), Clock: clock.System{}, Retries: -1})
	require.NoError(t, err)
	return sa
}

// TestEndTrialsConcurrent: replicas running the trial job at once make the
// practice read-only once, with one entry.
func TestEndTrialsConcurrent(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newTrialClinic(t, st)
		c.clk.Set(c.at(3, 17, 9, 0))
		var mu sync.Mutex
		total := 0
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				replica := carebook.NewWithStore(st, carebook.WithClock(c.clk))
				n, err := replica.EndTrials(context.Background())
				require.NoError(t, err)
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
		wg.Wait()
		require.Equal(t, 1, total)
		require.Len(t, entries(t, c.clinic, carebook.ActionReadOnlyEnter), 1)
	})
}

// TestReadOnlyAcrossReplicas: a replica that found the practice writable
// trusts it for ReadOnlyTTL of its clock, then sees it read-only; leaving
// read-only on another replica takes effect on its next write.
func TestReadOnlyAcrossReplicas(t *testing.T) {
	st := sqltest.SQLite(t)
	c := newTrialClinic(t, st)
	other := carebook.NewWithStore(st, carebook.WithClock(c.clk))
	write := func() error {
		_, err := c.e.PutPaymentPolicy(c.admin, &billing.Policy{Practice: c.practice, Collect: billing.CollectAtDesk})
		return err
	}
	require.NoError(t, write())
	require.NoError(t, carebook.EnterReadOnly(other, context.Background(), c.practice, "payment_failed"))
	c.clk.Advance(carebook.ReadOnlyTTL - time.Second)
	require.NoError(t, write(), "within the TTL the replica trusts what it read")
	c.clk.Advance(time.Second)
	requireReadOnly(t, write(), billing.ReadOnlyPaymentFailed)
	require.NoError(t, carebook.LeaveReadOnly(other, context.Background(), c.practice, "payment_failed"))
	require.NoError(t, write(), "leaving takes effect on the next write")
	// On the replica that enters, at once.
	require.NoError(t, carebook.EnterReadOnly(c.e, context.Background(), c.practice, "payment_failed"))
	requireReadOnly(t, write(), billing.ReadOnlyPaymentFailed)
}
