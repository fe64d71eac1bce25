package stripe_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/billingtest"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

var (
	t0       = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	practice = uuid.MustParse("01890a5d-0000-7000-8000-000000000001")
	patient  = actor.Actor{Kind: actor.Patient, ID: "patient-1"}
)

const (
	secretKey     = "sk_test_carebook"
	webhookSecret = "whsec_carebook_test"
)

func TestMain(m *testing.M) { stripetest.MockMain(m) }

// onFake returns a fake Stripe and an adapter pointed at it, telling time
// by c.
func onFake(t testing.TB, c clock.Clock) (*stripetest.Fake, *stripe.Adapter) {
	t.Helper()
	f := stripetest.NewFake(c)
	t.Cleanup(f.Close)
	a, err := stripe.New(stripe.Config{SecretKey: secretKey, WebhookSecret: webhookSecret, BackendURL: f.URL(), Clock: c, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return f, a
}

func TestConformance(t *testing.T) {
	billingtest.Run(t, func(t testing.TB) billing.Adapter {
		_, a := onFake(t, clock.NewFixed(t0))
		return a
	}, billingtest.WithMethod(card(stripetest.CardVisa)))
}

func card(token string) billing.Method {
	return billing.Method{Kind: billing.MethodCardOnline, Token: token}
}

func usd(n int64) billing.Money { return billing.Money{Amount: n, Currency: "USD"} }

func newPayment(t testing.TB, amount billing.Money, m billing.Method) *billing.Payment {
	t.Helper()
	p, err := billing.NewPayment(uuid.New(), practice, amount, m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func charge(p *billing.Payment, op billing.Operation) billing.Charge {
	return billing.Charge{Payment: p.ID, Amount: p.Amount, Method: p.Method, Key: p.KeyFor(op), By: patient, Description: "visit deposit"}
}

func wantErr(t testing.TB, what string, err error, kind errs.Kind, field string) {
	t.Helper()
	if errs.KindOf(err) != kind || errs.FieldOf(err) != field {
		t.Fatalf("%s: error %v (kind %v, field %q), want kind %v naming %q", what, err, errs.KindOf(err), errs.FieldOf(err), kind, field)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	c := clock.NewFixed(t0)
	for _, tt := range []struct {
		name  string
		cfg   stripe.Config
		field string
	}{
		{"no key", stripe.Config{Clock: c}, "secret_key"},
		{"no clock", stripe.Config{SecretKey: secretKey}, "clock"},
		{"relative URL", stripe.Config{SecretKey: secretKey, Clock: c, BackendURL: "localhost:12111"}, "backend_url"},
		{"other scheme", stripe.Config{SecretKey: secretKey, Clock: c, BackendURL: "ftp://example.com"}, "backend_url"},
		{"negative tolerance", stripe.Config{SecretKey: secretKey, Clock: c, WebhookTolerance: -time.Second}, "webhook_tolerance"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stripe.New(tt.cfg)
			wantErr(t, "New", err, errs.KindInvalid, tt.field)
		})
	}
}

// TestDeclineThenRetry follows a declined card the way the caller does:
// the replay of the declined key answers the same decline, and the try
// after Payment.Declined is a new request.
func TestDeclineThenRetry(t *testing.T) {
	ctx := context.Background()
	_, a := onFake(t, clock.NewFixed(t0))
	for _, declined := range []string{stripetest.CardDeclined, stripetest.CardInsufficientFund} {
		p := newPayment(t, usd(2500), card(declined))
		ch := charge(p, billing.OpPurchase)
		_, err := a.Purchase(ctx, ch)
		wantErr(t, "a declined card", err, errs.KindPreconditionFailed, "method")
		_, err = a.Purchase(ctx, ch)
		wantErr(t, "the declined request replayed", err, errs.KindPreconditionFailed, "method")
		p.Declined()
		p.Method = card(stripetest.CardVisa)
		ch = charge(p, billing.OpPurchase)
		r, err := a.Purchase(ctx, ch)
		if err != nil {
			t.Fatalf("the retry with another card: %v", err)
		}
		if _, err := p.Record(r, ch.Key, patient, ""); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuthenticationRequired(t *testing.T) {
	ctx := context.Background()
	_, a := onFake(t, clock.NewFixed(t0))
	p := newPayment(t, usd(2500), card(stripetest.CardAuthRequired))
	_, err := a.Authorize(ctx, charge(p, billing.OpAuthorize))
	wantErr(t, "a card that needs 3-D Secure", err, errs.KindPreconditionFailed, "method")
}

func TestRefusesWhatStripeCountsOtherwise(t *testing.T) {
	ctx := context.Background()
	_, a := onFake(t, clock.NewFixed(t0))
	for _, tt := range []struct {
		amount billing.Money
		field  string
	}{
		{billing.Money{Amount: 1255, Currency: "KWD"}, "amount"},
		{billing.Money{Amount: 500, Currency: "ISK"}, "currency"},
		{billing.Money{Amount: 500, Currency: "UGX"}, "currency"},
	} {
		_, err := a.Purchase(ctx, charge(newPayment(t, tt.amount, card(stripetest.CardVisa)), billing.OpPurchase))
		wantErr(t, "a purchase of "+tt.amount.String(), err, errs.KindInvalid, tt.field)
	}
	for _, m := range []billing.Money{{Amount: 1250, Currency: "KWD"}, {Amount: 1200, Currency: "JPY"}} {
		p := newPayment(t, m, card(stripetest.CardVisa))
		r, err := a.Purchase(ctx, charge(p, billing.OpPurchase))
		if err != nil || r.Amount != m {
			t.Fatalf("a purchase of %v = %+v, %v", m, r, err)
		}
	}
	_, err := a.Purchase(ctx, charge(newPayment(t, usd(2500), billing.Method{Kind: billing.MethodCash}), billing.OpPurchase))
	wantErr(t, "cash", err, errs.KindInvalid, "method.kind")
	_, err = a.Purchase(ctx, charge(newPayment(t, usd(2500), card("")), billing.OpPurchase))
	wantErr(t, "no token", err, errs.KindInvalid, "method.token")
	_, err = a.Purchase(ctx, charge(newPayment(t, usd(2500), card("pm_nobody_knows")), billing.OpPurchase))
	wantErr(t, "an unknown token", err, errs.KindInvalid, "method.token")
	_, err = a.Purchase(ctx, charge(newPayment(t, usd(20), card(stripetest.CardVisa)), billing.OpPurchase))
	wantErr(t, "below Stripe's minimum", err, errs.KindInvalid, "amount")
	p := newPayment(t, usd(2500), card(stripetest.CardVisa))
	r, err := a.Purchase(ctx, charge(p, billing.OpPurchase))
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Refund(ctx, billing.FollowUp{Ref: r.Ref, Amount: usd(100), Key: "k-long-reason", By: patient, Reason: strings.Repeat("x", 501)})
	wantErr(t, "a reason longer than Stripe keeps", err, errs.KindInvalid, "reason")
}

// TestRequestsCarryOurKeysAndVersion checks what went over the wire: every
// mutating request under the caller's key, every request at the SDK's API
// version, amounts in minor units with the currency in lower case.
func TestRequestsCarryOurKeysAndVersion(t *testing.T) {
	ctx := context.Background()
	f, a := onFake(t, clock.NewFixed(t0))
	p := newPayment(t, billing.Money{Amount: 1200, Currency: "JPY"}, card(stripetest.CardVisa))
	var keys []billing.Key
	step := func(op billing.Operation, call func(billing.Key) (billing.Result, error)) {
		t.Helper()
		k := p.KeyFor(op)
		r, err := call(k)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if _, err := p.Record(r, k, patient, ""); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	step(billing.OpAuthorize, func(k billing.Key) (billing.Result, error) {
		c := charge(p, billing.OpAuthorize)
		return a.Authorize(ctx, c)
	})
	step(billing.OpCapture, func(k billing.Key) (billing.Result, error) {
		return a.Capture(ctx, billing.FollowUp{Ref: p.Ref, Amount: billing.Money{Amount: 1000, Currency: "JPY"}, Key: k, By: patient})
	})
	step(billing.OpRefund, func(k billing.Key) (billing.Result, error) {
		return a.Refund(ctx, billing.FollowUp{Ref: p.Ref, Amount: billing.Money{Amount: 300, Currency: "JPY"}, Key: k, By: patient, Reason: "overcharged"})
	})
	var posts []stripetest.Request
	for _, r := range f.Requests() {
		if r.StripeVersion != stripe.APIVersion {
			t.Errorf("%s %s: Stripe-Version %q, want %q", r.Method, r.Path, r.StripeVersion, stripe.APIVersion)
		}
		if r.Method == http.MethodPost {
			posts = append(posts, r)
		}
	}
	if len(posts) != len(keys) {
		t.Fatalf("%d mutating requests, want %d: %+v", len(posts), len(keys), posts)
	}
	for i, r := range posts {
		if r.IdempotencyKey != string(keys[i]) {
			t.Errorf("%s: Idempotency-Key %q, want %q", r.Path, r.IdempotencyKey, keys[i])
		}
	}
	create := posts[0].Form
	for k, want := range map[string]string{
		"amount": "1200", "currency": "jpy", "capture_method": "manual", "confirm": "true",
		"payment_method": stripetest.CardVisa, "metadata[" + stripe.MetadataPayment + "]": p.ID.String(),
	} {
		if got := create.Get(k); got != want {
			t.Errorf("create: %s = %q, want %q", k, got, want)
		}
	}
	if got := posts[1].Form.Get("amount_to_capture"); got != "1000" {
		t.Errorf("capture: amount_to_capture = %q, want 1000", got)
	}
	if got := posts[2].Form.Get("amount"); got != "300" {
		t.Errorf("refund: amount = %q, want 300", got)
	}
	if got := posts[2].Form.Get("metadata[" + stripe.MetadataReason + "]"); got != "overcharged" {
		t.Errorf("refund: reason = %q", got)
	}
	tot, err := p.Totals()
	if err != nil || tot.Net.Amount != 700 || tot.Released.Amount != 200 {
		t.Fatalf("totals = %+v, %v; want 700 kept and 200 released", tot, err)
	}
}

// TestOffSessionFee saves a card, then charges a no-show fee to it while
// the patient is away.
func TestOffSessionFee(t *testing.T) {
	ctx := context.Background()
	f, a := onFake(t, clock.NewFixed(t0))
	setupKey := billing.DeriveKey(uuid.New(), billing.OpSetupCard, 1)
	saved, err := a.SetupCard(ctx, billing.CardSetup{Key: setupKey})
	if err != nil {
		t.Fatal(err)
	}
	if saved.ID == "" || saved.ClientSecret == "" || saved.Token != "" {
		t.Fatalf("SetupCard = %+v, want an ID and a client secret, no token before the patient completes it", saved)
	}
	pm, err := f.CompleteSetup(saved.ID, stripetest.CardVisa)
	if err != nil {
		t.Fatal(err)
	}
	fee := newPayment(t, usd(4000), billing.Method{Kind: billing.MethodCardOnline, Token: pm, OffSession: true})
	r, err := a.Purchase(ctx, charge(fee, billing.OpPurchase))
	if err != nil {
		t.Fatalf("the off-session fee: %v", err)
	}
	if r.Kind != billing.EntryCharged || r.Amount != usd(4000) {
		t.Fatalf("the fee = %+v", r)
	}
	var create stripetest.Request
	for _, q := range f.Requests() {
		if q.Method == http.MethodPost && q.Path == "/v1/payment_intents" {
			create = q
		}
	}
	if create.Form.Get("off_session") != "true" || create.Form.Get("customer") == "" {
		t.Fatalf("the fee's request = %v, want off_session and the card's customer", create.Form)
	}
	for _, q := range f.Requests() {
		if q.Method == http.MethodPost && q.IdempotencyKey == "" {
			t.Errorf("%s without an idempotency key", q.Path)
		}
	}

	// A saved card whose bank wants the patient present declines off session.
	saved2, err := a.SetupCard(ctx, billing.CardSetup{Customer: create.Form.Get("customer"), Key: billing.DeriveKey(uuid.New(), billing.OpSetupCard, 1)})
	if err != nil {
		t.Fatal(err)
	}
	pm2, err := f.CompleteSetup(saved2.ID, stripetest.CardAuthRequired)
	if err != nil {
		t.Fatal(err)
	}
	fee2 := newPayment(t, usd(4000), billing.Method{Kind: billing.MethodCardOnline, Token: pm2, OffSession: true})
	_, err = a.Purchase(ctx, charge(fee2, billing.OpPurchase))
	wantErr(t, "an off-session fee on a card that needs the patient", err, errs.KindPreconditionFailed, "method")
}

func TestCancelOfADeclinedPaymentRefused(t *testing.T) {
	ctx := context.Background()
	f, a := onFake(t, clock.NewFixed(t0))
	p := newPayment(t, usd(2500), card(stripetest.CardDeclined))
	_, err := a.Authorize(ctx, charge(p, billing.OpAuthorize))
	wantErr(t, "a declined hold", err, errs.KindPreconditionFailed, "method")
	var ref billing.Ref
	for _, body := range f.Events() {
		ev, err := a.ParseWebhook(body, sign(body, webhookSecret, t0))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == "payment_intent.payment_failed" {
			ref = ev.Ref
			if ev.Result.Kind != "" {
				t.Fatalf("a failed payment's event carries %+v", ev.Result)
			}
		}
	}
	if ref == "" {
		t.Fatal("no payment_intent.payment_failed event")
	}
	_, err = a.Cancel(ctx, billing.FollowUp{Ref: ref, Key: p.KeyFor(billing.OpCancel), By: patient})
	wantErr(t, "a cancellation of a payment that holds nothing", err, errs.KindConflict, "")
}

func TestUnreachableStripeIsInternal(t *testing.T) {
	f := stripetest.NewFake(clock.NewFixed(t0))
	url := f.URL()
	f.Close()
	a, err := stripe.New(stripe.Config{SecretKey: secretKey, BackendURL: url, Clock: clock.NewFixed(t0), Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Purchase(context.Background(), charge(newPayment(t, usd(2500), card(stripetest.CardVisa)), billing.OpPurchase))
	wantErr(t, "Stripe down", err, errs.KindInternal, "")
}

func TestBadSecretKeyIsInternal(t *testing.T) {
	f := stripetest.NewFake(clock.NewFixed(t0))
	t.Cleanup(f.Close)
	a, err := stripe.New(stripe.Config{SecretKey: "pk_test_not_a_secret", BackendURL: f.URL(), Clock: clock.NewFixed(t0), Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Purchase(context.Background(), charge(newPayment(t, usd(2500), card(stripetest.CardVisa)), billing.OpPurchase))
	wantErr(t, "a refused key", err, errs.KindInternal, "")
}

// TestConcurrentSetupCardMakesOneSetup replays one SetupCard from many
// goroutines at once: one customer and one SetupIntent, the same answer
// for all.
func TestConcurrentSetupCardMakesOneSetup(t *testing.T) {
	f, a := onFake(t, clock.NewFixed(t0))
	setup := billing.CardSetup{Key: billing.DeriveKey(uuid.New(), billing.OpSetupCard, 1)}
	const racers = 16
	var wg sync.WaitGroup
	saved := make([]billing.SavedCard, racers)
	fails := make([]error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			saved[i], fails[i] = a.SetupCard(context.Background(), setup)
		}()
	}
	wg.Wait()
	for i := range racers {
		if fails[i] != nil || saved[i] != saved[0] {
			t.Fatalf("racer %d: %+v, %v; racer 0: %+v", i, saved[i], fails[i], saved[0])
		}
	}
	customers := map[string]bool{}
	for _, q := range f.Requests() {
		if q.Path == "/v1/setup_intents" {
			customers[q.Form.Get("customer")] = true
		}
	}
	if len(customers) != 1 {
		t.Fatalf("setups for %d customers, want one: %v", len(customers), customers)
	}
}

func TestCheckoutConformance(t *testing.T) {
	billingtest.RunCheckout(t, func(t testing.TB) billing.HostedCheckout {
		_, a := onFake(t, clock.NewFixed(t0))
		return a
	})
}
