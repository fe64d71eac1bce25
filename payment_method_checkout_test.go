package carebook_test

import (
	"context"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85/webhook"
)

var setupURLs = carebook.CheckoutURLs{Success: "https://carebook.example/billing/payment-method?setup=done", Cancel: "https://carebook.example/billing/payment-method"}

// followClock tells the time of a clock given once it exists (a clinic's,
// made after its fake Stripe).
type followClock struct{ c atomic.Pointer[clock.Clock] }

func (f *followClock) follow(c clock.Clock) { f.c.Store(&c) }

// Now is the followed clock's time, or the system's before it is set.
func (f *followClock) Now() time.Time {
	if c := f.c.Load(); c != nil {
		return (*c).Now()
	}
	return time.Now()
}

// readOnlyTrial is a trialClinic whose trial ran out without a payment
// method: read-only; its fake Stripe tells the clinic's time.
func readOnlyTrial(t *testing.T, st *sqlstore.Store) *trialClinic {
	t.Helper()
	c := newTrialClinicOn(t, st, &followClock{})
	c.clk.Set(c.at(3, 17, 9, 0))
	n, err := c.e.EndTrials(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	return c
}

// savedOnPage starts a setup session for c's administrator and saves
// card on the fake's page, returning the session's ID as the success URL
// has it.
func savedOnPage(t *testing.T, c *trialClinic, card string) string {
	t.Helper()
	s, err := c.e.StartPaymentMethodCheckout(c.admin, c.practice, "stripe", setupURLs)
	require.NoError(t, err)
	back, err := c.fake.CompleteSetupCheckout(s.ID, card)
	require.NoError(t, err)
	u, err := url.Parse(back)
	require.NoError(t, err)
	require.Equal(t, s.ID, u.Query().Get(billing.SessionParam))
	return s.ID
}

// deliverAll sends every event of the fake from the from-th on to c's
// engine times times at once, last first, and returns how many
// deliveries applied.
func deliverAll(t *testing.T, c *trialClinic, from, times int) int {
	t.Helper()
	events := c.fake.Events()[from:]
	var wg sync.WaitGroup
	var applied atomic.Int32
	for i := len(events) - 1; i >= 0; i-- {
		for range times {
			wg.Add(1)
			go func(body []byte) {
				defer wg.Done()
				sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_trials", Timestamp: time.Now()})
				ok, err := c.e.PaymentWebhook(context.Background(), "stripe", body, billing.MapHeader{"Stripe-Signature": sp.Header})
				if err != nil {
					t.Errorf("webhook: %v", err)
				}
				if ok {
					applied.Add(1)
				}
			}(events[i])
		}
	}
	wg.Wait()
	return int(applied.Load())
}

// TestPaymentMethodByWebhook: the administrator of a read-only practice
// saves a card on the provider's page and never comes back; the
// provider's completed event, delivered five times at once, attaches the
// card once (one entry), which restores the practice; the success page
// opened later changes nothing.
func TestPaymentMethodByWebhook(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := readOnlyTrial(t, st)
		before := len(c.fake.Events())
		id := savedOnPage(t, c, stripetest.CardVisa)
		// setup_intent.succeeded applies once (remembered, no effect);
		// checkout.session.completed once, attaching.
		require.Equal(t, 2, deliverAll(t, c, before, 5))
		m, err := c.e.PracticePaymentMethod(c.admin, c.practice)
		require.NoError(t, err)
		require.Equal(t, "Visa ending 4242", m.Label)
		require.Equal(t, "system:webhook:stripe", m.SavedBy)
		attached := entries(t, c.clinic, carebook.ActionPaymentMethodAttach)
		require.Len(t, attached, 1)
		require.Len(t, entries(t, c.clinic, carebook.ActionReadOnlyEnter), 1)
		require.Len(t, entries(t, c.clinic, carebook.ActionReadOnlyLeave), 1)
		ros, err := c.e.ReadOnlyState(c.admin, c.practice)
		require.NoError(t, err)
		require.Empty(t, ros)

		again, err := c.e.CompletePaymentMethodCheckout(c.admin, c.practice, "stripe", id)
		require.NoError(t, err)
		require.Equal(t, m.SavedAt, again.SavedAt, "the card attached by the webhook stays as it was")
		require.Equal(t, m.SavedBy, again.SavedBy)
	})
}

// TestPaymentMethodBySuccessPage: back on the success page the card is
// attached at once; the webhook that follows, and a delayed one of an
// older session, change nothing; another practice cannot take the
// session, and a session not completed yet is refused.
func TestPaymentMethodBySuccessPage(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := readOnlyTrial(t, st)
		old, err := c.e.StartPaymentMethodCheckout(c.admin, c.practice, "stripe", setupURLs)
		require.NoError(t, err)
		_, err = c.e.CompletePaymentMethodCheckout(c.admin, c.practice, "stripe", old.ID)
		require.True(t, errs.Is(err, errs.KindPreconditionFailed) && errs.FieldOf(err) == billing.SessionParam, "%v", err)

		c.clk.Set(c.clk.Now().Add(time.Minute))
		id := savedOnPage(t, c, stripetest.CardMastercard)
		m, err := c.e.CompletePaymentMethodCheckout(c.admin, c.practice, "stripe", id)
		require.NoError(t, err)
		require.Equal(t, "Mastercard ending 4444", m.Label)
		ros, err := c.e.ReadOnlyState(c.admin, c.practice)
		require.NoError(t, err)
		require.Empty(t, ros, "the card restores the practice")

		// The older session completed late (a second tab): its event
		// comes after the newer card was attached, and leaves it.
		c.clk.Set(c.clk.Now().Add(time.Hour))
		_, err = c.fake.CompleteSetupCheckout(old.ID, stripetest.CardVisa)
		require.NoError(t, err)
		// Each event is remembered once; neither completed session's
		// attaches again.
		require.Equal(t, 2, deliverAll(t, c, 0, 2), "the two setup_intent.succeeded events")
		now, err := c.e.PracticePaymentMethod(c.admin, c.practice)
		require.NoError(t, err)
		require.Equal(t, m.SetupRef, now.SetupRef)
		require.Len(t, entries(t, c.clinic, carebook.ActionPaymentMethodAttach), 2, "the success page's and its failed try; no webhook's")

		other := newTrialClinic(t, st)
		_, err = c.e.CompletePaymentMethodCheckout(other.admin, other.practice, "stripe", id)
		require.True(t, errs.Is(err, errs.KindNotFound) && errs.FieldOf(err) == billing.SessionParam, "%v", err)
		_, err = c.e.CompletePaymentMethodCheckout(c.admin, c.practice, "stripe", "cs_nope")
		require.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
		_, err = c.e.StartPaymentMethodCheckout(c.admin, c.practice, "nope", setupURLs)
		require.True(t, errs.Is(err, errs.KindInvalid) && errs.FieldOf(err) == "provider", "%v", err)
		_, err = c.e.StartPaymentMethodCheckout(c.desk, c.practice, "stripe", setupURLs)
		require.True(t, errs.Is(err, errs.KindForbidden), "the front desk: %v", err)
	})
}
