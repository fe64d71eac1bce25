package carebook_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
)

var checkoutURLs = carebook.CheckoutURLs{Success: "https://carebook.example/done", Cancel: "https://carebook.example/canceled"}

// checkoutClinic is a verified practice whose online provider is a fake
// Stripe, with a deposit its patient owes at the desk.
func checkoutClinic(t *testing.T, st *sqlstore.Store) (*payClinic, *stripetest.Fake, *clock.Fixed, *billing.Payment) {
	t.Helper()
	clk := clock.NewFixed(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	fake := stripetest.NewFake(clk)
	t.Cleanup(fake.Close)
	sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_checkout", WebhookSecret: "whsec_fees", BackendURL: fake.URL(), Clock: clk, Retries: -1})
	require.NoError(t, err)
	c := newPayClinic(t, st, carebook.WithPaymentAdapter("stripe", sa))
	c.clk.Set(clk.Now())
	return c, fake, clk, owedDeposit(t, c)
}

// owedDeposit opens a deposit of the visit its patient owes at the desk.
func owedDeposit(t *testing.T, c *payClinic) *billing.Payment {
	t.Helper()
	p, err := c.e.Billing.Open(c.staff, billing.Open{Practice: c.practice, Provider: billing.ProviderDesk, Amount: usd(2500),
		Method: billing.Method{Kind: billing.MethodCash}, Purpose: billing.PurposeDeposit, Patient: &c.patient.ID, Appointment: &c.appt.ID,
		By: actor.Actor{Kind: actor.System, ID: "test"}})
	require.NoError(t, err)
	return p
}

// checkoutKeys counts the distinct keys of the Checkout Sessions asked of
// the fake.
func checkoutKeys(f *stripetest.Fake) map[string]bool {
	keys := map[string]bool{}
	for _, r := range f.Requests() {
		if r.Method == "POST" && r.Path == "/v1/checkout/sessions" {
			keys[r.IdempotencyKey] = true
		}
	}
	return keys
}

// deliver sends each of the fake's events from the from-th on to
// carebook three times at once, last first.
func deliver(t *testing.T, c *payClinic, clk clock.Clock, f *stripetest.Fake, from int) {
	t.Helper()
	events := f.Events()[from:]
	var wg sync.WaitGroup
	for i := len(events) - 1; i >= 0; i-- {
		for range 3 {
			wg.Add(1)
			go func(body []byte) {
				defer wg.Done()
				if _, err := c.e.PaymentWebhook(context.Background(), "stripe", body, signed(clk, body)); err != nil {
					t.Errorf("webhook: %v", err)
				}
			}(events[i])
		}
	}
	wg.Wait()
}

// TestPayOnline: the patient starts paying an owed deposit online from
// many requests at once: one session, one key; paid on the provider's
// page, its events (each delivered three times at once, out of order)
// record the charge once, with one receipt per channel; then nothing is
// owed.
func TestPayOnline(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, fake, clk, owed := checkoutClinic(t, st)
		const racers = 16
		sessions := make([]billing.CheckoutSession, racers)
		fails := make([]error, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				sessions[i], fails[i] = c.e.PayOnline(c.self, c.practice, owed.ID, checkoutURLs)
			}()
		}
		close(start)
		wg.Wait()
		for i := range racers {
			require.NoError(t, fails[i])
			require.Equal(t, sessions[0], sessions[i], "one session for one attempt")
		}
		require.True(t, strings.HasPrefix(sessions[0].URL, fake.URL()), sessions[0].URL)
		require.Equal(t, map[string]bool{string(billing.DeriveKey(owed.ID, billing.OpCheckout, 1)): true}, checkoutKeys(fake))
		require.Len(t, entries(t, c.clinic, "payment.checkout"), racers)

		got, err := c.e.Payment(c.self, c.practice, owed.ID)
		require.NoError(t, err)
		s, _ := got.Status()
		require.Equal(t, billing.StatusPending, s, "pending until the webhook lands")

		to, err := fake.PayCheckout(sessions[0].ID, stripetest.CardVisa)
		require.NoError(t, err)
		require.Equal(t, checkoutURLs.Success, to)
		deliver(t, c, clk, fake, 0)
		got, err = c.e.Payment(c.self, c.practice, owed.ID)
		require.NoError(t, err)
		s, _ = got.Status()
		require.Equal(t, billing.StatusPaid, s)
		require.Len(t, got.Ledger, 1, "the session's and the intent's events are one charge")
		require.Equal(t, "stripe", got.Provider)
		require.Equal(t, billing.MethodCardOnline, got.Method.Kind)
		require.True(t, strings.HasPrefix(string(got.Ref), "pi_"), got.Ref)
		require.Equal(t, 2, c.receipts(t))
		r, err := c.e.Receipt(c.self, c.practice, owed.ID)
		require.NoError(t, err)
		require.NotEmpty(t, r.Lines)

		_, err = c.e.PayOnline(c.self, c.practice, owed.ID, checkoutURLs)
		require.True(t, errs.Is(err, errs.KindConflict), "paid: %v", err)
	})
}

// TestPayOnlineExpiredThenAgain: a session that expires unpaid leaves the
// payment owed; the next attempt is a new session under a new key.
func TestPayOnlineExpiredThenAgain(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, fake, clk, owed := checkoutClinic(t, st)
		first, err := c.e.PayOnline(c.self, c.practice, owed.ID, checkoutURLs)
		require.NoError(t, err)
		require.NoError(t, fake.ExpireCheckout(first.ID))
		deliver(t, c, clk, fake, 0)
		got, err := c.e.Payment(c.self, c.practice, owed.ID)
		require.NoError(t, err)
		require.Empty(t, got.Ledger)
		require.Equal(t, 1, got.Declines, "one expiry, however often told")
		next, err := c.e.PayOnline(c.self, c.practice, owed.ID, checkoutURLs)
		require.NoError(t, err)
		require.NotEqual(t, first.ID, next.ID)
		require.Len(t, checkoutKeys(fake), 2)
	})
}

// TestPayOnlineRefused: another caller than the patient, an unverified
// practice, a provider that hosts no checkout and bad return URLs are
// refused, and no session is asked for.
func TestPayOnlineRefused(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, fake, _, owed := checkoutClinic(t, st)
		_, err := c.e.PayOnline(c.desk, c.practice, owed.ID, checkoutURLs)
		require.True(t, errs.Is(err, errs.KindForbidden), "the front desk: %v", err)
		_, err = c.e.PayOnline(c.self, c.practice, owed.ID, carebook.CheckoutURLs{Success: "/done", Cancel: checkoutURLs.Cancel})
		require.True(t, errs.Is(err, errs.KindInvalid) && errs.FieldOf(err) == "success_url", "a relative URL: %v", err)
		require.Empty(t, checkoutKeys(fake))

		// The same practice, on a server whose provider hosts no checkout.
		sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_plain", WebhookSecret: "whsec_fees", BackendURL: fake.URL(), Clock: c.clk, Retries: -1})
		require.NoError(t, err)
		plain := carebook.NewWithStore(st, carebook.WithClock(c.clk), carebook.WithPaymentAdapter("stripe", webhookAdapter{sa, sa}))
		_, err = plain.PayOnline(c.self, c.practice, owed.ID, checkoutURLs)
		require.True(t, errs.Is(err, errs.KindPreconditionFailed), "no hosted checkout: %v", err)
		require.Empty(t, checkoutKeys(fake))
	})
}

// TestPayOnlineUnverified: a practice that is not verified takes no
// online payment.
func TestPayOnlineUnverified(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newPayClinic(t, st)
		fake := stripetest.NewFake(c.clk)
		t.Cleanup(fake.Close)
		sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_unverified", WebhookSecret: "whsec_fees", BackendURL: fake.URL(), Clock: c.clk, Retries: -1})
		require.NoError(t, err)
		c.e = carebook.NewWithStore(st, carebook.WithClock(c.clk), carebook.WithPaymentAdapter("stripe", sa))
		owed := owedDeposit(t, c)
		_, err = c.e.PayOnline(c.self, c.practice, owed.ID, checkoutURLs)
		require.True(t, errs.Is(err, errs.KindPreconditionFailed), "unverified: %v", err)
		require.Contains(t, err.Error(), "not verified")
		require.Empty(t, checkoutKeys(fake))
	})
}
