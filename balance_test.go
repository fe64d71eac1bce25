package carebook_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
)

// pricedVisit gives the clinic's visits a price of 100.00 USD with a
// deposit of 25.00.
func pricedVisit(t *testing.T, c *payClinic) {
	t.Helper()
	_, err := c.e.Billing.PutPolicy(c.desk, &billing.Policy{Practice: c.practice, Collect: billing.CollectDeposit, Price: usd(10000),
		Deposit: usd(2500)}, actor.Actor{Kind: actor.System, ID: "test"})
	require.NoError(t, err)
}

// cash is a desk payment of n cents for the clinic's visit.
func cash(c *payClinic, n int64) carebook.DeskPayment {
	return carebook.DeskPayment{Patient: c.patient.ID, Appointment: &c.appt.ID, Amount: usd(n), Method: billing.Method{Kind: billing.MethodCash}}
}

// wantOverOwed checks that err refuses a desk payment above what is owed,
// naming amount and saying what was paid and how.
func wantOverOwed(t *testing.T, err error, says ...string) {
	t.Helper()
	require.True(t, errs.Is(err, errs.KindConflict), "%v", err)
	require.Equal(t, "amount", errs.FieldOf(err))
	for _, s := range says {
		require.Contains(t, err.Error(), s)
	}
}

// paidOnline has the patient pay the clinic's owed deposit on the fake's
// checkout page; its events are not delivered yet.
func paidOnline(t *testing.T, c *payClinic, fake *stripetest.Fake, owed *billing.Payment) {
	t.Helper()
	s, err := c.e.PayOnline(c.self, c.practice, owed.ID, checkoutURLs)
	require.NoError(t, err)
	_, err = fake.PayCheckout(s.ID, stripetest.CardVisa)
	require.NoError(t, err)
}

// TestDeskTakesOnlyWhatIsOwed: a visit of 100.00 whose 25.00 deposit the
// patient paid online: the desk is refused 100.00 (naming amount, saying
// it was paid online and when, nothing written), takes the 75.00 left,
// and then nothing more. A deposit the desk took while the patient paid
// it online is kept, and the provider's money is recorded on a payment of
// its own, to refund; the balance says so.
func TestDeskTakesOnlyWhatIsOwed(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, fake, clk, owed := checkoutClinic(t, st)
		pricedVisit(t, c)

		// Owed, not yet paid: the deposit counts as asked.
		_, err := c.e.TakeDeskPayment(c.desk, c.practice, cash(c, 10000))
		wantOverOwed(t, err, "75.00 USD owed", "25.00 USD is asked by a payment still owed")

		paidOnline(t, c, fake, owed)
		deliver(t, c, clk, fake, 0)
		before := sqltest.RowCounts(t, st)
		_, err = c.e.TakeDeskPayment(c.desk, c.practice, cash(c, 10000))
		wantOverOwed(t, err, "more than the 75.00 USD owed on this visit of 100.00 USD", "25.00 USD paid online (card_online) on 2026-03-02")
		e, ok := errs.As(err)
		require.True(t, ok)
		require.Equal(t, "75.00 USD", e.Details.(map[string]any)["owed"])
		after := sqltest.RowCounts(t, st)
		require.Equal(t, before["billing_payments"], after["billing_payments"], "the refusal wrote a payment")

		_, err = c.e.TakeDeskPayment(c.desk, c.practice, cash(c, 7500))
		require.NoError(t, err)
		_, err = c.e.TakeDeskPayment(c.desk, c.practice, cash(c, 1))
		wantOverOwed(t, err, "0.00 USD owed", "75.00 USD paid at the desk (cash)")
		// What is not the visit's money is not bounded by it.
		other := cash(c, 500)
		other.Purpose = billing.PurposeOther
		_, err = c.e.TakeDeskPayment(c.desk, c.practice, other)
		require.NoError(t, err)

		b, err := c.e.VisitBalance(c.desk, c.practice, c.appt.ID)
		require.NoError(t, err)
		require.Equal(t, usd(10000), b.Due)
		require.Equal(t, usd(10000), b.Taken)
		require.Zero(t, b.Owed.Amount)
		require.Len(t, b.Parts, 2)
		require.True(t, b.Parts[0].Online())
		_, err = c.e.VisitBalance(c.self, c.practice, c.appt.ID)
		require.NoError(t, err, "the patient reads their own visit's balance")
	})
}

// TestPayOwedBeyondThePrice: the desk took 75.00 of a visit of 100.00
// whose 25.00 deposit is owed, then the price went down to 80.00: taking
// the deposit at the desk would pay 100.00, and is refused naming amount.
func TestPayOwedBeyondThePrice(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, _, _, owed := checkoutClinic(t, st)
		pricedVisit(t, c)
		_, err := c.e.TakeDeskPayment(c.desk, c.practice, cash(c, 7500))
		require.NoError(t, err)
		_, err = c.e.Billing.PutPolicy(c.desk, &billing.Policy{Practice: c.practice, Collect: billing.CollectDeposit, Price: usd(8000),
			Deposit: usd(2500)}, actor.Actor{Kind: actor.System, ID: "test"})
		require.NoError(t, err)
		_, err = c.e.PayOwed(c.desk, c.practice, owed.ID, billing.Method{Kind: billing.MethodCash})
		wantOverOwed(t, err, "25.00 USD is more than the 5.00 USD owed on this visit of 80.00 USD", "75.00 USD paid at the desk (cash)")
		got, err := c.e.Payment(c.desk, c.practice, owed.ID)
		require.NoError(t, err)
		require.Empty(t, got.Ledger)
	})
}

// TestDeskPaidWhileOnline: the desk takes the owed deposit, then the
// provider tells of the patient's online payment of it: the deposit keeps
// the desk's cash, and the 25.00 the provider took is a payment of its own
// (overpaid, paid by card online), to refund, and not counted as paid:
// 75.00 is still owed; the events delivered again change nothing.
func TestDeskPaidWhileOnline(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, fake, clk, owed := checkoutClinic(t, st)
		pricedVisit(t, c)
		paidOnline(t, c, fake, owed)
		_, err := c.e.PayOwed(c.desk, c.practice, owed.ID, billing.Method{Kind: billing.MethodCash})
		require.NoError(t, err)
		deliver(t, c, clk, fake, 0)
		deliver(t, c, clk, fake, 0)

		got, err := c.e.Payment(c.desk, c.practice, owed.ID)
		require.NoError(t, err)
		require.Len(t, got.Ledger, 1)
		require.Equal(t, billing.ProviderDesk, got.Provider)
		over := overpayments(t, c)
		require.Len(t, over, 1)
		require.Equal(t, "stripe", over[0].Provider)
		require.Equal(t, usd(2500), over[0].Amount)
		s, _ := over[0].Status()
		require.Equal(t, billing.StatusPaid, s)

		b, err := c.e.VisitBalance(c.desk, c.practice, c.appt.ID)
		require.NoError(t, err)
		require.Equal(t, usd(2500), b.Taken)
		require.Equal(t, usd(7500), b.Owed)
		require.Equal(t, usd(2500), b.Overpaid)
		_, err = c.e.TakeDeskPayment(c.desk, c.practice, cash(c, 7501))
		wantOverOwed(t, err, "25.00 USD paid twice online, to refund, (card_online)", "25.00 USD paid at the desk (cash)")

		// Refunded, nothing is to give back.
		_, err = c.e.RefundPayment(c.desk, c.practice, over[0].ID, usd(2500), "paid twice")
		require.NoError(t, err)
		b, err = c.e.VisitBalance(c.desk, c.practice, c.appt.ID)
		require.NoError(t, err)
		require.Equal(t, usd(7500), b.Owed)
		require.Zero(t, b.Overpaid.Amount)
	})
}

// overpayments lists the clinic's visit's payments of money taken twice.
func overpayments(t *testing.T, c *payClinic) []*billing.Payment {
	t.Helper()
	ps, err := c.e.Payments(c.desk, c.practice, billing.PaymentFilter{Appointment: &c.appt.ID})
	require.NoError(t, err)
	var out []*billing.Payment
	for _, p := range ps {
		if p.Purpose == billing.PurposeOverpaid {
			out = append(out, p)
		}
	}
	return out
}

// TestDeskAndOnlineRace: the patient has paid the owed deposit on the
// provider's page, and its events (each delivered four times) race the
// front desk taking the same deposit (PayOwed, 8 times), new payments of
// the 75.00 left (8 times) and of more (4 times), all at once, on both
// stores. The deposit is taken exactly once; if the desk won it, the
// provider's money is a payment of its own to refund, else the desk is
// refused; exactly one 75.00 goes through, none above it; the visit owes
// nothing.
func TestDeskAndOnlineRace(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, fake, clk, owed := checkoutClinic(t, st)
		pricedVisit(t, c)
		paidOnline(t, c, fake, owed)
		events := fake.Events()
		require.NotEmpty(t, events)

		const payOwed, rest, more = 8, 8, 4
		var (
			wg                      sync.WaitGroup
			mu                      sync.Mutex
			owedWon, restWon, moreN int
		)
		start := make(chan struct{})
		run := func(fn func()) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				fn()
			}()
		}
		for range payOwed {
			run(func() {
				_, err := c.e.PayOwed(c.desk, c.practice, owed.ID, billing.Method{Kind: billing.MethodCash})
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					owedWon++
				} else if !errs.Is(err, errs.KindConflict) {
					t.Errorf("PayOwed: %v", err)
				}
			})
		}
		for _, body := range events {
			for range 4 {
				run(func() {
					if _, err := c.e.PaymentWebhook(context.Background(), "stripe", body, signed(clk, body)); err != nil {
						t.Errorf("webhook: %v", err)
					}
				})
			}
		}
		take := func(n int64, won *int) {
			_, err := c.e.TakeDeskPayment(c.desk, c.practice, cash(c, n))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				*won++
			case !errs.Is(err, errs.KindConflict) || errs.FieldOf(err) != "amount":
				t.Errorf("TakeDeskPayment(%d): %v", n, err)
			}
		}
		for range rest {
			run(func() { take(7500, &restWon) })
		}
		for range more {
			run(func() { take(7600, &moreN) })
		}
		close(start)
		wg.Wait()

		got, err := c.e.Payment(c.desk, c.practice, owed.ID)
		require.NoError(t, err)
		require.Len(t, got.Ledger, 1, "the deposit is taken once")
		over := overpayments(t, c)
		if got.Provider == billing.ProviderDesk {
			require.Equal(t, 1, owedWon)
			require.Len(t, over, 1, "the provider's money, recorded to refund")
			require.Equal(t, usd(2500), over[0].Amount)
		} else {
			require.Equal(t, "stripe", got.Provider)
			require.Zero(t, owedWon)
			require.Empty(t, over)
		}
		require.Equal(t, 1, restWon, "exactly one desk payment of what is left")
		require.Zero(t, moreN)

		b, err := c.e.VisitBalance(c.desk, c.practice, c.appt.ID)
		require.NoError(t, err)
		require.Zero(t, b.Owed.Amount)
		require.Equal(t, usd(10000), b.Taken)
		require.Equal(t, int64(2500*len(over)), b.Overpaid.Amount)
		t.Logf("the deposit went to %s", strings.ToUpper(got.Provider))
	})
}
