package carebook_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// monthly is a plan without a trial: 49.00 USD a period, 100 SMS included
// then 0.05 each, 10 bookings included then 0.20 each.
func monthly(id billing.PlanID, fee int64) *billing.Plan {
	return &billing.Plan{ID: id, Name: "Plan " + string(id), Currency: "USD", BaseFee: fee, Meters: []billing.MeterRate{
		{Meter: billing.MeterSMSSent, Included: 100, UnitPrice: 5}, {Meter: billing.MeterBookings, Included: 10, UnitPrice: 20}}}
}

// billedClinic is a clinic on plan "basic" (monthly, 4900) from now, with
// 130 SMS metered in its first period, and its administrator's caller.
func billedClinic(t *testing.T, c *clinic) (admin context.Context, sub *billing.Subscription) {
	t.Helper()
	require.NoError(t, c.e.PutPlan(c.staff, monthly("basic", 4900)))
	sub, err := c.e.Subscribe(c.staff, c.practice, "basic")
	require.NoError(t, err)
	require.Equal(t, billing.SubscriptionActive, sub.Status)
	_, err = c.st.Billing.RecordUsage(context.Background(), billing.UsageEvent{Practice: c.practice, Meter: billing.MeterSMSSent,
		Key: "campaign-1", Units: 130, At: c.clk.Now().Add(time.Hour)})
	require.NoError(t, err)
	p, err := c.e.Tenants.Practice(c.staff, c.practice)
	require.NoError(t, err)
	return callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID)), sub
}

// TestInvoiceClosedOnceAcrossReplicas: two Engines (on SQLite, on one
// store; on PostgreSQL, each on its own pool of one database) close the
// same ended period from 20 goroutines at once: one invoice, one
// "invoice.close" entry, its lines the base fee and the SMS beyond the
// included ones, its total their sum.
func TestInvoiceClosedOnceAcrossReplicas(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (*sqlstore.Store, *sqlstore.Store)
	}{
		{"SQLite", func(t *testing.T) (*sqlstore.Store, *sqlstore.Store) { st := sqltest.SQLite(t); return st, st }},
		{"PostgreSQL", func(t *testing.T) (*sqlstore.Store, *sqlstore.Store) {
			dsn := sqltest.PostgresDatabase(t)
			open := func() *sqlstore.Store {
				s, err := sqlstore.Open(context.Background(), dsn, sqlstore.WithMasterKey(sqltest.MasterKey()))
				require.NoError(t, err)
				t.Cleanup(func() { s.Close() })
				return s
			}
			return open(), open()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st1, st2 := tc.open(t)
			c := newClinic(t, st1)
			admin, sub := billedClinic(t, c)
			engines := []*carebook.Engine{c.e, carebook.NewWithStore(st2, carebook.WithClock(c.clk))}
			_, end := sub.Period(c.clk.Now())

			c.clk.Set(end.Add(-time.Second))
			n, err := c.e.CloseInvoices(context.Background())
			require.NoError(t, err)
			require.Zero(t, n, "a period not ended has no invoice")

			c.clk.Set(end.Add(time.Minute))
			var written atomic.Int32
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Go(func() {
					n, err := engines[i%2].CloseInvoices(context.Background())
					if err != nil {
						t.Error(err)
					}
					written.Add(int32(n))
				})
			}
			wg.Wait()
			require.EqualValues(t, 1, written.Load())
			invs, err := c.e.Invoices(admin, c.practice)
			require.NoError(t, err)
			require.Len(t, invs, 1)
			inv := invs[0]
			require.True(t, inv.PeriodStart.Equal(sub.PeriodStart) && inv.PeriodEnd.Equal(end))
			require.Equal(t, []billing.InvoiceLine{
				{Kind: billing.LineBase, Plan: "basic", Quantity: 31, Of: 31, Unit: 4900, Amount: 4900},
				{Kind: billing.LineUsage, Plan: "basic", Meter: billing.MeterSMSSent, Quantity: 30, Of: 130, Unit: 5, Amount: 150},
				{Kind: billing.LineUsage, Plan: "basic", Meter: billing.MeterBookings, Quantity: 0, Of: 0, Unit: 20, Amount: 0},
			}, inv.Lines)
			require.Equal(t, billing.Money{Amount: 5050, Currency: "USD"}, inv.Total)
			require.Equal(t, billing.InvoiceOpen, inv.Status)
			require.Len(t, entries(t, c, carebook.ActionInvoiceClose), 1)

			got, err := c.e.Invoice(admin, c.practice, inv.ID)
			require.NoError(t, err)
			require.Equal(t, inv.Total, got.Total)
			_, err = c.e.Invoice(admin, c.practice, uuid.New())
			require.True(t, errs.Is(err, errs.KindNotFound), "an unknown invoice: %v", err)
			p, err := c.e.Tenants.Practice(c.staff, c.practice)
			require.NoError(t, err)
			desk := callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID))
			_, err = c.e.Invoices(desk, c.practice)
			require.True(t, errs.Is(err, errs.KindForbidden), "the front desk reads invoices: %v", err)

			// Two periods later, the job catches up on both, once.
			c.clk.Set(end.AddDate(0, 2, 0).Add(time.Minute))
			n, err = engines[1].CloseInvoices(context.Background())
			require.NoError(t, err)
			require.Equal(t, 2, n)
			n, err = c.e.CloseInvoices(context.Background())
			require.NoError(t, err)
			require.Zero(t, n)
		})
	}
}

// stripeBilling is a clinic billed through the Stripe fake, its
// adapter failing the first commit after Stripe answered (crashOnce) if
// asked, and the practice's card on file saved from the test card card.
type stripeBilling struct {
	*payClinic
	fake  *stripetest.Fake
	sa    *stripe.Adapter
	admin context.Context
	sub   *billing.Subscription
}

func newStripeBilling(t *testing.T, st *sqlstore.Store, card string, crash bool, opts ...carebook.Option) *stripeBilling {
	t.Helper()
	clk := clock.NewFixed(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	fake := stripetest.NewFake(clk)
	t.Cleanup(fake.Close)
	sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_invoices", BackendURL: fake.URL(), Clock: clk, Retries: -1})
	require.NoError(t, err)
	var adapter billing.Adapter = sa
	if crash {
		adapter = &crashOnce{Adapter: sa}
	}
	c := newPayClinic(t, st, append([]carebook.Option{carebook.WithPaymentAdapter("stripe", adapter)}, opts...)...)
	b := &stripeBilling{payClinic: c, fake: fake, sa: sa}
	b.admin, b.sub = billedClinic(t, c.clinic)
	b.saveCard(t, card)
	return b
}

// saveCard saves card as the practice's payment method at the fake.
func (b *stripeBilling) saveCard(t *testing.T, card string) {
	t.Helper()
	setup, err := b.sa.SetupCard(context.Background(), billing.CardSetup{Key: billing.Key("setup-" + card)})
	require.NoError(t, err)
	token, err := b.fake.CompleteSetup(setup.ID, card)
	require.NoError(t, err)
	require.NoError(t, b.st.Billing.PutPaymentMethod(context.Background(), &billing.PaymentMethod{Practice: b.practice, Provider: "stripe",
		SetupRef: setup.ID, Token: token, Label: card, SavedAt: b.clk.Now(), SavedBy: "test"}))
}

// TestInvoiceChargedOnceAfterCrash: the closed period's invoice is charged
// to the practice's card off-session; a crash after Stripe answered and
// before the commit leaves it open, and the next run's retry sends the
// same key, so Stripe charges once and the invoice is paid with one
// attempt.
func TestInvoiceChargedOnceAfterCrash(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		b := newStripeBilling(t, st, stripetest.CardVisa, true)
		_, end := b.sub.Period(b.clk.Now())
		b.clk.Set(end.Add(time.Minute))
		n, err := b.e.RunBilling(context.Background())
		require.Error(t, err, "the crash")
		require.Equal(t, 1, n, "the invoice written, not charged")
		invs, err := b.e.Invoices(b.admin, b.practice)
		require.NoError(t, err)
		require.Len(t, invs, 1)
		require.Equal(t, billing.InvoiceOpen, invs[0].Status)
		require.Empty(t, invs[0].Attempts, "nothing recorded of the crashed charge")
		require.Equal(t, 1, charges(b.fake))

		b.clk.Advance(15 * time.Minute)
		_, err = b.e.RunBilling(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, charges(b.fake), "the retry replays the first key")
		inv, err := b.e.Invoice(b.admin, b.practice, invs[0].ID)
		require.NoError(t, err)
		require.Equal(t, billing.InvoicePaid, inv.Status)
		require.Len(t, inv.Attempts, 1)
		require.True(t, inv.Attempts[0].Paid)
		require.Equal(t, billing.InvoiceKey(inv.ID, 1), inv.Attempts[0].Key)
		require.True(t, inv.PaidAt.Equal(b.clk.Now().UTC().Truncate(time.Microsecond)))
		require.True(t, inv.NextAttempt.IsZero())
		var amount string
		for _, r := range b.fake.Requests() {
			if r.Method == "POST" && r.Path == "/v1/payment_intents" {
				amount = r.Form.Get("amount")
				require.Equal(t, "true", r.Form.Get("off_session"))
				require.Equal(t, string(inv.Attempts[0].Key), r.IdempotencyKey)
			}
		}
		require.Equal(t, "5050", amount)
		charged := entries(t, b.clinic, carebook.ActionInvoiceCharge)
		require.Len(t, charged, 1)
		require.Equal(t, "allowed", string(charged[0].Outcome))
		require.Equal(t, "system:billing", charged[0].Actor)

		_, err = b.e.RunBilling(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, charges(b.fake), "a paid invoice is not charged again")
		_, err = b.e.PayInvoice(b.admin, b.practice, inv.ID)
		require.True(t, errs.Is(err, errs.KindConflict), "paying a paid invoice: %v", err)
	})
}

// TestDunningWalk walks dunning with the injected clock: a declined card
// fails the invoice, which is tried again 1, 3 and 7 days after the first
// failure and not before; after the last the practice is read-only (its
// writes refused, nothing written by the refusal). The administrator
// paying it with the same card fails again; a card that pays, attached,
// makes it due again and the next run pays it and restores the practice.
// Each step is in the activity log.
func TestDunningWalk(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		b := newStripeBilling(t, st, stripetest.CardDeclined, false, carebook.WithDunning(1, 3, 7))
		_, end := b.sub.Period(b.clk.Now())
		first := end.Add(time.Minute)
		b.clk.Set(first)
		_, err := b.e.RunBilling(context.Background())
		require.NoError(t, err)
		invs, err := b.e.Invoices(b.admin, b.practice)
		require.NoError(t, err)
		require.Len(t, invs, 1)
		id := invs[0].ID
		inv := invs[0]
		require.Equal(t, billing.InvoiceFailed, inv.Status)
		require.Len(t, inv.Attempts, 1)
		require.NotEmpty(t, inv.Attempts[0].Error)

		for i, day := range []int{1, 3, 7} {
			b.clk.Set(first.AddDate(0, 0, day).Add(-time.Minute))
			n, err := b.e.ChargeInvoices(context.Background(), 10)
			require.NoError(t, err)
			require.Zero(t, n, "retried before day %d", day)
			b.clk.Set(first.AddDate(0, 0, day))
			n, err = b.e.ChargeInvoices(context.Background(), 10)
			require.NoError(t, err)
			require.Equal(t, 1, n, "retry on day %d", day)
			inv, err = b.e.Invoice(b.admin, b.practice, id)
			require.NoError(t, err)
			require.Len(t, inv.Attempts, i+2)
			require.True(t, inv.Attempts[i+1].At.Equal(first.AddDate(0, 0, day)))
			require.Equal(t, billing.InvoiceFailed, inv.Status)
			ro, err := b.e.ReadOnlyState(b.admin, b.practice)
			require.NoError(t, err)
			require.Equal(t, day == 7, len(ro) == 1, "read-only after day %d: %v", day, ro)
		}
		require.True(t, inv.NextAttempt.IsZero(), "no retry left")
		b.clk.Advance(30 * 24 * time.Hour)
		n, err := b.e.ChargeInvoices(context.Background(), 10)
		require.NoError(t, err)
		require.Zero(t, n)

		// Read-only: a write is refused and writes nothing.
		before := sqltest.RowCounts(t, st)
		_, err = b.e.PutPaymentPolicy(b.admin, &billing.Policy{Practice: b.practice, Collect: billing.CollectAtDesk})
		require.True(t, errs.Is(err, errs.KindReadOnly), "a write of a read-only practice: %v", err)
		require.Equal(t, before, sqltest.RowCounts(t, st))

		// Paying with the declined card fails once more; a card that pays,
		// once attached, makes the invoice due again, and the next run
		// pays it and restores the practice.
		inv, err = b.e.PayInvoice(b.admin, b.practice, id)
		require.NoError(t, err)
		require.Equal(t, billing.InvoiceFailed, inv.Status)
		setup, err := b.e.SetupPaymentMethod(b.admin, b.practice, "stripe")
		require.NoError(t, err)
		token, err := b.fake.CompleteSetup(setup.ID, stripetest.CardVisa)
		require.NoError(t, err)
		_, err = b.e.AttachPaymentMethod(b.admin, b.practice, carebook.PaymentMethodInput{Provider: "stripe", SetupRef: setup.ID, Token: token, Label: "Visa 4242"})
		require.NoError(t, err)
		n, err = b.e.ChargeInvoices(context.Background(), 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		inv, err = b.e.Invoice(b.admin, b.practice, id)
		require.NoError(t, err)
		require.Equal(t, billing.InvoicePaid, inv.Status)
		require.Len(t, inv.Attempts, 6)
		ro, err := b.e.ReadOnlyState(b.admin, b.practice)
		require.NoError(t, err)
		require.Empty(t, ro)
		_, err = b.e.PutPaymentPolicy(b.admin, &billing.Policy{Practice: b.practice, Collect: billing.CollectAtDesk})
		require.NoError(t, err, "restored on the next request")

		outcomes := []string{}
		for _, en := range entries(t, b.clinic, carebook.ActionInvoiceCharge) {
			outcomes = append(outcomes, string(en.Outcome))
		}
		require.Equal(t, []string{"failed", "failed", "failed", "failed", "failed", "allowed"}, outcomes)
		require.Len(t, entries(t, b.clinic, carebook.ActionInvoiceExhausted), 1)
		require.Len(t, entries(t, b.clinic, carebook.ActionReadOnlyEnter), 1)
		require.Len(t, entries(t, b.clinic, carebook.ActionReadOnlyLeave), 1)
		require.Len(t, entries(t, b.clinic, "invoice.pay"), 1)
	})
}

// TestPlanChangeProrated: an upgrade mid-period puts a credit of the old
// base fee for the whole days left and a charge of the new one for them
// on the period's invoice; the usage is priced by the new plan; a plan in
// another currency is refused mid-period, naming "plan"; subscribing to
// the plan the practice is on changes nothing.
func TestPlanChangeProrated(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		admin, sub := billedClinic(t, c) // 31 days from 2026-03-02 17:00 UTC
		require.NoError(t, c.e.PutPlan(c.staff, monthly("pro", 9300)))
		yen := monthly("yen", 5000)
		yen.Currency = "JPY"
		require.NoError(t, c.e.PutPlan(c.staff, yen))

		c.clk.Set(sub.PeriodStart.Add(10*24*time.Hour + 6*time.Hour)) // 20 whole days left
		same, err := c.e.Subscribe(c.staff, c.practice, "basic")
		require.NoError(t, err)
		require.Equal(t, sub.PeriodStart, same.PeriodStart)
		_, err = c.e.Subscribe(c.staff, c.practice, "yen")
		require.True(t, errs.Is(err, errs.KindInvalid) && errs.FieldOf(err) == "plan", "a change of currency: %v", err)
		up, err := c.e.Subscribe(c.staff, c.practice, "pro")
		require.NoError(t, err)
		require.Equal(t, billing.PlanID("pro"), up.Plan)
		require.True(t, up.PeriodStart.Equal(sub.PeriodStart), "the periods are kept")

		_, end := sub.Period(sub.PeriodStart)
		c.clk.Set(end)
		n, err := c.e.CloseInvoices(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		invs, err := c.e.Invoices(admin, c.practice)
		require.NoError(t, err)
		require.Len(t, invs, 1)
		require.Equal(t, []billing.InvoiceLine{
			{Kind: billing.LineBase, Plan: "basic", Quantity: 31, Of: 31, Unit: 4900, Amount: 4900},
			{Kind: billing.LineProrationCredit, Plan: "basic", Quantity: 20, Of: 31, Unit: 4900, Amount: -3161}, // 3161.29…
			{Kind: billing.LineProrationCharge, Plan: "pro", Quantity: 20, Of: 31, Unit: 9300, Amount: 6000},
			{Kind: billing.LineUsage, Plan: "pro", Meter: billing.MeterSMSSent, Quantity: 30, Of: 130, Unit: 5, Amount: 150},
			{Kind: billing.LineUsage, Plan: "pro", Meter: billing.MeterBookings, Quantity: 0, Of: 0, Unit: 20, Amount: 0},
		}, invs[0].Lines)
		require.Equal(t, int64(4900-3161+6000+150), invs[0].Total.Amount)
	})
}

// TestRegisterJobsBills: the billing job, run by the scheduler, closes the
// period that ended; a negative interval is refused naming it.
func TestRegisterJobsBills(t *testing.T) {
	c := newClinic(t, sqltest.SQLite(t))
	admin, sub := billedClinic(t, c)
	_, end := sub.Period(c.clk.Now())
	c.clk.Set(end.Add(time.Second))
	s, _ := fakeScheduler(t)
	_, err := c.e.RegisterJobs(s, carebook.JobsConfig{Billing: true, BillingEvery: -time.Second})
	require.Equal(t, "billing_every", errs.FieldOf(err))
	ran := make(chan string, 1)
	jobs, err := c.e.RegisterJobs(s, carebook.JobsConfig{Billing: true,
		JobOptions: []gocron.JobOption{gocron.WithEventListeners(gocron.AfterJobRuns(func(_ uuid.UUID, name string) { ran <- name }))}})
	require.NoError(t, err)
	require.Len(t, jobs.Scheduled, 1)
	s.Start()
	require.NoError(t, jobs.Scheduled[0].RunNow())
	select {
	case name := <-ran:
		require.Equal(t, carebook.BillingJobName, name)
	case <-time.After(time.Minute):
		t.Fatal("the billing job did not run")
	}
	invs, err := c.e.Invoices(admin, c.practice)
	require.NoError(t, err)
	require.Len(t, invs, 1)
	require.Equal(t, billing.InvoiceFailed, invs[0].Status, "no payment method on file: a failed attempt")
	require.Equal(t, "the practice has no payment method on file", invs[0].Attempts[0].Error)
}
