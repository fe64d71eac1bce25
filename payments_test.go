package carebook_test

import (
	"context"
	"errors"
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
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/nppes"
	"github.com/carebook/carebook/nppes/nppestest"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85/webhook"
)

func usd(n int64) billing.Money { return billing.Money{Amount: n, Currency: "USD"} }

// payClinic is a clinic with a front desk caller, the patient's own caller
// and a confirmed visit tomorrow.
type payClinic struct {
	*clinic
	desk, self context.Context
	appt       *scheduling.Appointment
}

// newPayClinic is a payClinic. With options (an online payment adapter),
// the practice is verified
// first, against a fake NPI registry, as online payments need.
func newPayClinic(t *testing.T, st *sqlstore.Store, opts ...carebook.Option) *payClinic {
	t.Helper()
	c := newClinic(t, st)
	p, err := c.e.Tenants.Practice(c.staff, c.practice)
	require.NoError(t, err)
	if len(opts) > 0 {
		reg := nppestest.New()
		t.Cleanup(reg.Close)
		reg.Add(nppestest.Record{NPI: harborNPI, Type: "NPI-2", Status: "A", Organization: "HARBOR PEDIATRICS"})
		client, err := nppes.New(nppes.Config{BaseURL: reg.URL()})
		require.NoError(t, err)
		c.e = carebook.NewWithStore(st, append([]carebook.Option{carebook.WithClock(c.clk), carebook.WithNPIRegistry(client)}, opts...)...)
		owner := callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
		_, err = c.e.VerifyPractice(owner, c.practice, harborNPI)
		require.NoError(t, err)
	}
	pc := &payClinic{clinic: c, desk: callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID))}
	self := callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, c.patient.ID))
	cl, _ := carebook.CallerFrom(self)
	me := *cl
	me.Actor = actor.Actor{Kind: actor.Patient, ID: c.patient.ID.String()}
	pc.self = carebook.WithCaller(self, me)
	pc.appt = c.book(t, c.at(3, 3, 10, 0))
	return pc
}

// receipts counts the receipt messages of the visit.
func (c *payClinic) receipts(t *testing.T) int {
	t.Helper()
	msgs, err := c.e.Notify.Messages(c.staff, c.practice, notify.MessageFilter{AppointmentID: &c.appt.ID, Limit: 100})
	require.NoError(t, err)
	n := 0
	for _, m := range msgs {
		if m.Kind == notify.KindReceipt {
			n++
		}
	}
	return n
}

// TestDeskPaymentLedger: the desk takes cash for a visit with its receipt
// and its entry; the receipt prints the same twice; a partial refund, then
// one beyond what is left (refused, nothing written); a reversal; bad input
// names the field.
func TestDeskPaymentLedger(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newPayClinic(t, st)
		p, err := c.e.TakeDeskPayment(c.desk, c.practice, carebook.DeskPayment{Patient: c.patient.ID, Appointment: &c.appt.ID,
			Amount: usd(4000), Method: billing.Method{Kind: billing.MethodCash}})
		require.NoError(t, err)
		s, err := p.Status()
		require.NoError(t, err)
		require.Equal(t, billing.StatusPaid, s)
		require.Len(t, entries(t, c.clinic, "payment.take"), 1)
		// One receipt per channel the patient takes (SMS and email).
		require.Equal(t, 2, c.receipts(t))

		r1, err := c.e.Receipt(c.desk, c.practice, p.ID)
		require.NoError(t, err)
		c.clk.Advance(time.Hour)
		r2, err := c.e.Receipt(c.desk, c.practice, p.ID)
		require.NoError(t, err)
		require.Equal(t, r1.Text(), r2.Text())
		require.Contains(t, r1.Text(), "Harbor Pediatrics")

		p, err = c.e.RefundPayment(c.desk, c.practice, p.ID, usd(1500), "overcharged")
		require.NoError(t, err)
		tot, _ := p.Totals()
		require.Equal(t, usd(2500), tot.Net)
		_, err = c.e.RefundPayment(c.desk, c.practice, p.ID, usd(2600), "too much")
		require.True(t, errs.Is(err, errs.KindConflict), "refund beyond what is left: %v", err)
		got, err := c.e.Payment(c.desk, c.practice, p.ID)
		require.NoError(t, err)
		require.Len(t, got.Ledger, 2)
		require.Equal(t, 4, c.receipts(t))

		_, err = c.e.RefundPayment(c.desk, c.practice, p.ID, usd(100), "")
		require.Equal(t, "reason", errs.FieldOf(err))
		_, err = c.e.TakeDeskPayment(c.desk, c.practice, carebook.DeskPayment{Patient: c.patient.ID, Amount: usd(100),
			Method: billing.Method{Kind: billing.MethodCardOnline}})
		require.Equal(t, "method.kind", errs.FieldOf(err))
		_, err = c.e.TakeDeskPayment(c.desk, c.practice, carebook.DeskPayment{Patient: c.patient.ID, Amount: billing.Money{Amount: 100, Currency: "XXX"},
			Method: billing.Method{Kind: billing.MethodCash}})
		require.Equal(t, "currency", errs.FieldOf(err))
		other := uuid.New()
		_, err = c.e.TakeDeskPayment(c.desk, c.practice, carebook.DeskPayment{Patient: c.patient.ID, Appointment: &other, Amount: usd(100),
			Method: billing.Method{Kind: billing.MethodCash}})
		require.Equal(t, "appointment_id", errs.FieldOf(err))

		// A cash payment typed twice is reversed, moving no money.
		twice, err := c.e.TakeDeskPayment(c.desk, c.practice, carebook.DeskPayment{Patient: c.patient.ID, Amount: usd(700),
			Method: billing.Method{Kind: billing.MethodCash}, Purpose: billing.PurposeOther})
		require.NoError(t, err)
		twice, err = c.e.ReversePayment(c.desk, c.practice, twice.ID, 1, "typed twice")
		require.NoError(t, err)
		tot, _ = twice.Totals()
		require.True(t, tot.Net.IsZero())
		_, err = c.e.ReversePayment(c.desk, c.practice, twice.ID, 1, "again")
		require.True(t, errs.Is(err, errs.KindConflict), "a second reversal: %v", err)

		list, err := c.e.Payments(c.desk, c.practice, billing.PaymentFilter{Patient: &c.patient.ID})
		require.NoError(t, err)
		require.Len(t, list, 2)
	})
}

// TestPaymentAccess: a patient reads their own payments and receipts but
// takes and refunds none, and reads no one else's; a stranger gets 404.
func TestPaymentAccess(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newPayClinic(t, st)
		p, err := c.e.TakeDeskPayment(c.desk, c.practice, carebook.DeskPayment{Patient: c.patient.ID, Amount: usd(4000),
			Method: billing.Method{Kind: billing.MethodCardTerminal, Reference: "slip 81"}})
		require.NoError(t, err)

		mine, err := c.e.Payments(c.self, c.practice, billing.PaymentFilter{Patient: &c.patient.ID})
		require.NoError(t, err)
		require.Len(t, mine, 1)
		_, err = c.e.Receipt(c.self, c.practice, p.ID)
		require.NoError(t, err)
		_, err = c.e.Payments(c.self, c.practice, billing.PaymentFilter{})
		require.True(t, errs.Is(err, errs.KindForbidden), "all payments as a patient: %v", err)
		_, err = c.e.TakeDeskPayment(c.self, c.practice, carebook.DeskPayment{Patient: c.patient.ID, Amount: usd(1), Method: billing.Method{Kind: billing.MethodCash}})
		require.True(t, errs.Is(err, errs.KindForbidden), "a patient taking a payment: %v", err)
		_, err = c.e.RefundPayment(c.self, c.practice, p.ID, usd(1), "mine")
		require.True(t, errs.Is(err, errs.KindForbidden), "a patient refunding: %v", err)

		other, err := c.e.Scheduling.CreatePatient(c.staff, c.practice, scheduling.PatientInput{GivenName: "Bo", FamilyName: "Brown",
			BirthDate: "1990-01-01", Phone: "+12025550199", Language: "en"})
		require.NoError(t, err)
		theirs, err := c.e.TakeDeskPayment(c.desk, c.practice, carebook.DeskPayment{Patient: other.ID, Amount: usd(900), Method: billing.Method{Kind: billing.MethodCash}})
		require.NoError(t, err)
		_, err = c.e.Receipt(c.self, c.practice, theirs.ID)
		require.True(t, errs.Is(err, errs.KindForbidden), "another patient's receipt: %v", err)

		elsewhere := newClinic(t, st)
		p2, err := elsewhere.e.Tenants.Practice(elsewhere.staff, elsewhere.practice)
		require.NoError(t, err)
		stranger := callerWith(t, elsewhere, rbac.FrontDeskID, rbac.PracticeScope(p2.GroupID, p2.ID))
		_, err = c.e.Receipt(stranger, c.practice, p.ID)
		require.True(t, errs.Is(err, errs.KindNotFound), "a stranger: %v", err)
		_, err = c.e.Receipt(stranger, c.practice, uuid.New())
		require.True(t, errs.Is(err, errs.KindNotFound), "a stranger, unknown payment: %v", err)
		_, err = c.e.Receipt(c.desk, c.practice, uuid.New())
		require.True(t, errs.Is(err, errs.KindNotFound), "an unknown payment: %v", err)
	})
}

// TestFeesOnce: a no-show writes its fee once, owed at the desk, paid
// there; a patient's cancellation inside the cut-off is allowed only when a
// late-cancellation fee applies, and writes it; staff cancelling, or a
// visit type without a fee, writes none.
func TestFeesOnce(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newPayClinic(t, st)
		admin := c.staff
		p, err := c.e.Tenants.Practice(admin, c.practice)
		require.NoError(t, err)
		owner := callerWith(t, c.clinic, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
		_, err = c.e.PutPaymentPolicy(owner, &billing.Policy{Practice: c.practice, Collect: billing.CollectAtDesk, Price: usd(10000),
			NoShow: billing.Fee{Fixed: usd(2500)}, LateCancel: billing.Fee{Percent: 50}})
		require.NoError(t, err)
		_, err = c.e.PutPaymentPolicy(owner, &billing.Policy{Practice: c.practice, Collect: "later"})
		require.Equal(t, "collect", errs.FieldOf(err))

		// The visit tomorrow at 10:00 is past now: a no-show.
		c.clk.Set(c.at(3, 3, 11, 0))
		_, err = c.e.Scheduling.Transition(c.staff, c.practice, c.appt.ID, scheduling.StatusNoVisit, "")
		require.NoError(t, err)
		fees, err := c.e.Payments(c.desk, c.practice, billing.PaymentFilter{Appointment: &c.appt.ID})
		require.NoError(t, err)
		require.Len(t, fees, 1)
		require.Equal(t, billing.PurposeNoShowFee, fees[0].Purpose)
		require.Equal(t, usd(2500), fees[0].Amount)
		require.Empty(t, fees[0].Ledger, "owed, not taken")
		paid, err := c.e.PayOwed(c.desk, c.practice, fees[0].ID, billing.Method{Kind: billing.MethodCash})
		require.NoError(t, err)
		s, _ := paid.Status()
		require.Equal(t, billing.StatusPaid, s)
		_, err = c.e.PayOwed(c.desk, c.practice, fees[0].ID, billing.Method{Kind: billing.MethodCash})
		require.True(t, errs.Is(err, errs.KindConflict), "paying a fee twice: %v", err)

		// A patient cancels two hours before: inside the 24-hour cut-off.
		late := c.book(t, c.at(3, 4, 10, 0))
		c.clk.Set(c.at(3, 4, 8, 0))
		_, err = c.e.Scheduling.Cancel(c.self, c.practice, late.ID, "")
		require.NoError(t, err)
		fees, err = c.e.Payments(c.desk, c.practice, billing.PaymentFilter{Appointment: &late.ID})
		require.NoError(t, err)
		require.Len(t, fees, 1)
		require.Equal(t, billing.PurposeLateCancel, fees[0].Purpose)
		require.Equal(t, usd(5000), fees[0].Amount)

		// Staff cancelling late charges nothing.
		byStaff := c.book(t, c.at(3, 5, 10, 0))
		c.clk.Set(c.at(3, 5, 9, 0))
		_, err = c.e.Scheduling.Cancel(c.staff, c.practice, byStaff.ID, "the provider is ill")
		require.NoError(t, err)
		fees, err = c.e.Payments(c.desk, c.practice, billing.PaymentFilter{Appointment: &byStaff.ID})
		require.NoError(t, err)
		require.Empty(t, fees)

		// Without a late-cancellation fee the cut-off holds.
		_, err = c.e.PutPaymentPolicy(owner, &billing.Policy{Practice: c.practice, Collect: billing.CollectAtDesk})
		require.NoError(t, err)
		held := c.book(t, c.at(3, 6, 10, 0))
		c.clk.Set(c.at(3, 6, 9, 0))
		_, err = c.e.Scheduling.Cancel(c.self, c.practice, held.ID, "")
		require.True(t, errs.Is(err, errs.KindPreconditionFailed), "a late cancel without a fee: %v", err)
	})
}

// crashOnce fails the first commit of a step whose adapter call
// succeeded: a crash after the provider answered, before the commit.
type crashOnce struct {
	billing.Adapter
	mu      sync.Mutex
	crashed bool
}

func (c *crashOnce) Purchase(ctx context.Context, ch billing.Charge) (billing.Result, error) {
	r, err := c.Adapter.Purchase(ctx, ch)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && !c.crashed {
		c.crashed = true
		return billing.Result{}, errors.New("crash: the process died before it recorded the answer")
	}
	return r, err
}

// webhookAdapter is an adapter (crashOnce) with the webhooks of another
// (the Stripe adapter it wraps).
type webhookAdapter struct {
	billing.Adapter
	billing.WebhookVerifier
}

// signed signs a webhook body as Stripe does, at clk's now, with the SDK's
// helper.
func signed(clk clock.Clock, body []byte) billing.MapHeader {
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_fees", Timestamp: clk.Now()})
	return billing.MapHeader{"Stripe-Signature": sp.Header}
}

// charges counts the fake's PaymentIntents created (not replayed).
func charges(f *stripetest.Fake) int {
	seen := map[string]bool{}
	for _, r := range f.Requests() {
		if r.Method == "POST" && r.Path == "/v1/payment_intents" {
			seen[r.IdempotencyKey] = true
		}
	}
	return len(seen)
}

// TestFeeOnCardOnFileChargedOnce: a no-show fee on a card on file is
// charged off-session once the change commits; a crash after Stripe
// answered and before the commit leaves it owed, and ChargeFees' retry
// sends the same key, so the card is charged once. Its Stripe events,
// delivered five times at once and out of order, change nothing more and
// send one receipt.
func TestFeeOnCardOnFileChargedOnce(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		clk := clock.NewFixed(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
		fake := stripetest.NewFake(clk)
		t.Cleanup(fake.Close)
		sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_fees", WebhookSecret: "whsec_fees", BackendURL: fake.URL(), Clock: clk, Retries: -1})
		require.NoError(t, err)
		adapter := &crashOnce{Adapter: sa}
		c := newPayClinic(t, st, carebook.WithPaymentAdapter("stripe", webhookAdapter{adapter, sa}))
		c.clk.Set(clk.Now())
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		owner := callerWith(t, c.clinic, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
		_, err = c.e.PutPaymentPolicy(owner, &billing.Policy{Practice: c.practice, Collect: billing.CollectCardOnFile, NoShow: billing.Fee{Fixed: usd(3000)}})
		require.NoError(t, err)
		setup, err := sa.SetupCard(context.Background(), billing.CardSetup{Key: "carebook-setup-1"})
		require.NoError(t, err)
		token, err := fake.CompleteSetup(setup.ID, stripetest.CardVisa)
		require.NoError(t, err)
		require.NoError(t, c.e.Billing.Store().SaveCard(context.Background(), billing.Card{Practice: c.practice, Patient: c.patient.ID,
			Provider: "stripe", Token: token, Label: "Visa 4242", SavedAt: clk.Now()}))

		c.clk.Set(c.at(3, 3, 11, 0))
		clk.Set(c.clk.Now())
		_, err = c.e.Scheduling.Transition(c.staff, c.practice, c.appt.ID, scheduling.StatusNoVisit, "")
		require.NoError(t, err)
		fees, err := c.e.Payments(c.desk, c.practice, billing.PaymentFilter{Appointment: &c.appt.ID})
		require.NoError(t, err)
		require.Len(t, fees, 1)
		require.Empty(t, fees[0].Ledger, "the crash left the fee owed")
		require.Equal(t, 1, charges(fake))

		c.clk.Advance(10 * time.Minute)
		n, err := c.e.ChargeFees(context.Background(), 5*time.Minute, 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, 1, charges(fake), "the retry replays the first key")
		fee, err := c.e.Payment(c.desk, c.practice, fees[0].ID)
		require.NoError(t, err)
		s, _ := fee.Status()
		require.Equal(t, billing.StatusPaid, s)
		require.Equal(t, 2, c.receipts(t))
		n, err = c.e.ChargeFees(context.Background(), 0, 10)
		require.NoError(t, err)
		require.Zero(t, n)

		// Stripe's events of that charge, each five times, at once, last
		// first.
		events := fake.Events()
		require.NotEmpty(t, events)
		var wg sync.WaitGroup
		for i := len(events) - 1; i >= 0; i-- {
			for range 5 {
				wg.Add(1)
				go func(body []byte) {
					defer wg.Done()
					_, err := c.e.PaymentWebhook(context.Background(), "stripe", body, signed(clk, body))
					if err != nil {
						t.Errorf("webhook: %v", err)
					}
				}(events[i])
			}
		}
		wg.Wait()
		fee, err = c.e.Payment(c.desk, c.practice, fees[0].ID)
		require.NoError(t, err)
		require.Len(t, fee.Ledger, 1, "the events told of the charge already recorded")
		require.Equal(t, 2, c.receipts(t))
	})
}

// TestWebhookEventsInAnyOrder: a hold recorded by carebook, then captured
// and partly refunded at Stripe (the dashboard): their events, delivered
// refund first, each five times at once, apply once each and in the
// ledger's order, with one receipt per channel for each.
func TestWebhookEventsInAnyOrder(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		clk := clock.NewFixed(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
		fake := stripetest.NewFake(clk)
		t.Cleanup(fake.Close)
		sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_order", WebhookSecret: "whsec_fees", BackendURL: fake.URL(), Clock: clk, Retries: -1})
		require.NoError(t, err)
		c := newPayClinic(t, st, carebook.WithPaymentAdapter("stripe", sa))
		ctx := c.staff
		by := actor.Actor{Kind: actor.Patient, ID: c.patient.ID.String()}
		p, err := c.e.Billing.Open(ctx, billing.Open{Practice: c.practice, Provider: "stripe", Amount: usd(8000),
			Method: billing.Method{Kind: billing.MethodCardOnline, Token: stripetest.CardVisa}, Purpose: billing.PurposeDeposit,
			Patient: &c.patient.ID, Appointment: &c.appt.ID, By: by})
		require.NoError(t, err)
		p, _, err = c.e.Billing.Do(ctx, billing.Step{Practice: c.practice, Payment: p.ID, Op: billing.OpAuthorize, By: by})
		require.NoError(t, err)
		before := len(fake.Events())

		_, err = sa.Capture(ctx, billing.FollowUp{Ref: p.Ref, Amount: usd(8000), Key: "dashboard-capture", By: by})
		require.NoError(t, err)
		_, err = sa.Refund(ctx, billing.FollowUp{Ref: p.Ref, Amount: usd(3000), Key: "dashboard-refund", By: by, Reason: "asked"})
		require.NoError(t, err)
		events := fake.Events()[before:]
		require.GreaterOrEqual(t, len(events), 2)

		var wg sync.WaitGroup
		for i := len(events) - 1; i >= 0; i-- {
			for range 5 {
				wg.Add(1)
				go func(body []byte) {
					defer wg.Done()
					if _, err := c.e.PaymentWebhook(context.Background(), "stripe", body, signed(clk, body)); err != nil {
						t.Errorf("webhook: %v", err)
					}
				}(events[i])
			}
			wg.Wait() // each event's five deliveries race; the later events came first
		}
		got, err := c.e.Payment(c.desk, c.practice, p.ID)
		require.NoError(t, err)
		kinds := []billing.EntryKind{}
		for _, e := range got.Ledger {
			kinds = append(kinds, e.Kind)
		}
		require.Equal(t, []billing.EntryKind{billing.EntryAuthorized, billing.EntryCaptured, billing.EntryRefunded}, kinds)
		tot, err := got.Totals()
		require.NoError(t, err)
		require.Equal(t, usd(5000), tot.Net)
		require.Equal(t, 4, c.receipts(t), "a receipt by SMS and by email for the capture and for the refund")

		_, err = c.e.PaymentWebhook(context.Background(), "stripe", events[0], billing.MapHeader{"Stripe-Signature": "t=1,v1=00"})
		require.True(t, errs.Is(err, errs.KindUnauthenticated), "a forged signature: %v", err)
		_, err = c.e.PaymentWebhook(context.Background(), "paypal", events[0], signed(clk, events[0]))
		require.True(t, errs.Is(err, errs.KindNotFound), "an unknown provider: %v", err)
	})
}
