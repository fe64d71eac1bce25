package carebook_test

import (
	"context"
	"strconv"
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
	fake := stripetest.NewFake(clock.System{})
	t.Cleanup(fake.Close)
	sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_trials", WebhookSecret: "whsec_trials", BackendURL: fake.URL(), Clock: clock.System{}, Retries: -1})
	require.NoError(t, err)
	c := &trialClinic{payClinic: newPayClinic(t, st, carebook.WithPaymentAdapter("stripe", sa)), fake: fake}
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

// rowCounts counts the rows of every table of the database, as its catalog
// lists them.
func rowCounts(t *testing.T, st *sqlstore.Store) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if st.Dialect() == sqlstore.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	var names []string
	require.NoError(t, st.DB().NewRaw(q).Scan(ctx, &names))
	require.Greater(t, len(names), 30, "the catalog lists the tables")
	out := make(map[string]int64, len(names))
	for _, n := range names {
		var c int64
		require.NoError(t, st.DB().NewRaw(`SELECT count(*) FROM `+strconv.Quote(n)).Scan(ctx, &c), n)
		out[n] = c
	}
	return out
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

		before := rowCounts(t, st)
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
		require.Equal(t, before, rowCounts(t, st), "a refused write changes no table's row count")

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
