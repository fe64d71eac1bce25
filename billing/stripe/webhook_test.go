package stripe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	stripego "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"
)

// sign signs body as Stripe does, at time at, with the SDK's own helper.
func sign(body []byte, secret string, at time.Time) billing.MapHeader {
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at})
	return billing.MapHeader{"stripe-signature": sp.Header}
}

func eventBody(t testing.TB, typ string, obj map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"id": "evt_test_1", "object": "event", "api_version": stripego.APIVersion, "created": t0.Unix(),
		"type": typ, "data": map[string]any{"object": obj},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWebhookVerification(t *testing.T) {
	c := clock.NewFixed(t0)
	_, a := onFake(t, c)
	body := eventBody(t, "payment_intent.succeeded", map[string]any{
		"id": "pi_1", "object": "payment_intent", "amount": 5000, "amount_received": 5000, "currency": "usd",
		"capture_method": "automatic", "status": "succeeded", "latest_charge": "ch_1",
	})
	ev, err := a.ParseWebhook(body, sign(body, webhookSecret, t0))
	if err != nil {
		t.Fatal(err)
	}
	want := billing.Event{ID: "evt_test_1", Type: "payment_intent.succeeded", Ref: "pi_1",
		Result: billing.Result{Ref: "pi_1", Kind: billing.EntryCharged, Amount: usd(5000), ProviderTx: "ch_1", At: t0}}
	if ev != want {
		t.Fatalf("event = %+v, want %+v", ev, want)
	}
	if _, err := a.ParseWebhook(body, sign(body, webhookSecret, t0.Add(-4*time.Minute))); err != nil {
		t.Fatalf("a signature four minutes old: %v", err)
	}
	tampered := bytes.Replace(body, []byte("5000"), []byte("9000"), 1)
	for _, tt := range []struct {
		name string
		body []byte
		h    billing.Header
	}{
		{"no header", body, billing.MapHeader{}},
		{"garbled header", body, billing.MapHeader{"Stripe-Signature": "nonsense"}},
		{"another secret", body, sign(body, "whsec_someone_else", t0)},
		{"stale", body, sign(body, webhookSecret, t0.Add(-6*time.Minute))},
		{"from the future", body, sign(body, webhookSecret, t0.Add(6*time.Minute))},
		{"tampered body", tampered, sign(body, webhookSecret, t0)},
		{"a fresh time before the signed stale one", body, billing.MapHeader{"Stripe-Signature": "t=" + strconv.FormatInt(t0.Unix(), 10) + "," + string(sign(body, webhookSecret, t0.Add(-time.Hour))["stripe-signature"])}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.ParseWebhook(tt.body, tt.h)
			wantErr(t, tt.name, err, errs.KindUnauthenticated, "")
		})
	}
	// The age is the adapter's clock's: the same signature goes stale as it moves.
	h := sign(body, webhookSecret, t0)
	c.Advance(10 * time.Minute)
	_, err = a.ParseWebhook(body, h)
	wantErr(t, "once the clock moved on", err, errs.KindUnauthenticated, "")

	noSecret, err := stripe.New(stripe.Config{SecretKey: secretKey, Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	_, err = noSecret.ParseWebhook(body, sign(body, "", c.Now()))
	wantErr(t, "no secret configured", err, errs.KindUnauthenticated, "")
}

func TestWebhookBadBodies(t *testing.T) {
	_, a := onFake(t, clock.NewFixed(t0))
	for _, tt := range []struct {
		name  string
		body  []byte
		field string
	}{
		{"not JSON", []byte("{{{"), "body"},
		{"no event", []byte(`{"object":"payment_intent","id":"pi_1"}`), "body"},
		{"another API train", []byte(`{"object":"event","id":"evt_1","api_version":"2020-08-27","type":"ping","data":{"object":{}}}`), "api_version"},
		{"no ID", []byte(`{"object":"event","api_version":"` + stripego.APIVersion + `","type":"ping","data":{"object":{}}}`), "id"},
		{"no object", []byte(`{"object":"event","id":"evt_1","api_version":"` + stripego.APIVersion + `","type":"payment_intent.succeeded"}`), "data.object"},
		{"object of another shape", eventBody(t, "refund.created", map[string]any{"id": 12}), "data.object"},
		{"unknown currency", eventBody(t, "payment_intent.succeeded", map[string]any{"id": "pi_1", "amount_received": 100, "currency": "zzz"}), "data.object.amount.currency"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.ParseWebhook(tt.body, sign(tt.body, webhookSecret, t0))
			wantErr(t, tt.name, err, errs.KindInvalid, tt.field)
		})
	}
	body := eventBody(t, "customer.created", map[string]any{"id": "cus_1", "object": "customer"})
	ev, err := a.ParseWebhook(body, sign(body, webhookSecret, t0))
	if err != nil || ev != (billing.Event{ID: "evt_test_1", Type: "customer.created"}) {
		t.Fatalf("an event of no concern = %+v, %v", ev, err)
	}
}

// TestWebhookEventsMatchResults runs a payment's steps on the fake and reads
// the events it would send: each ledger Result an event carries is the one
// the adapter's call returned (but for its time), so the caller can match
// them by Kind and ProviderTx.
func TestWebhookEventsMatchResults(t *testing.T) {
	ctx := context.Background()
	f, a := onFake(t, clock.NewFixed(t0))
	var results []billing.Result
	do := func(r billing.Result, err error) billing.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
		return r
	}
	p := newPayment(t, usd(10000), card(stripetest.CardVisa))
	h := do(a.Authorize(ctx, charge(p, billing.OpAuthorize)))
	do(a.Capture(ctx, billing.FollowUp{Ref: h.Ref, Amount: usd(6000), Key: "k-capture", By: patient}))
	do(a.Refund(ctx, billing.FollowUp{Ref: h.Ref, Amount: usd(1000), Key: "k-refund-1", By: patient}))
	do(a.Refund(ctx, billing.FollowUp{Ref: h.Ref, Amount: usd(2000), Key: "k-refund-2", By: patient}))
	q := newPayment(t, usd(3000), card(stripetest.CardMastercard))
	h2 := do(a.Authorize(ctx, charge(q, billing.OpAuthorize)))
	do(a.Cancel(ctx, billing.FollowUp{Ref: h2.Ref, Key: "k-cancel", By: patient}))
	do(a.Purchase(ctx, charge(newPayment(t, usd(700), card(stripetest.CardVisa)), billing.OpPurchase)))

	var fromEvents []billing.Result
	seen := map[string]bool{}
	for _, body := range f.Events() {
		ev, err := a.ParseWebhook(body, sign(body, webhookSecret, t0))
		if err != nil {
			t.Fatalf("event %s: %v", body, err)
		}
		if seen[ev.ID] {
			t.Fatalf("event ID %s twice", ev.ID)
		}
		seen[ev.ID] = true
		if ev.Ref == "" {
			t.Errorf("event %s (%s) names no payment", ev.ID, ev.Type)
		}
		if ev.Result.Kind != "" {
			fromEvents = append(fromEvents, ev.Result)
		}
	}
	if len(fromEvents) != len(results) {
		t.Fatalf("%d results from events, %d from calls:\n%+v\n%+v", len(fromEvents), len(results), fromEvents, results)
	}
	for i, r := range results {
		e := fromEvents[i]
		if e.Ref != r.Ref || e.Kind != r.Kind || e.Amount != r.Amount || e.ProviderTx != r.ProviderTx {
			t.Errorf("event result %d = %+v, the call's %+v", i, e, r)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	for _, s := range []string{
		`{"id":"evt_1","object":"event","api_version":"` + stripego.APIVersion + `","created":1772442000,"type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount_received":100,"currency":"usd","capture_method":"manual"}}}`,
		`{"id":"evt_2","object":"event","api_version":"` + stripego.APIVersion + `","type":"refund.created","data":{"object":{"id":"re_1","amount":100,"currency":"eur","payment_intent":"pi_1"}}}`,
		`{"id":"evt_3","object":"event","api_version":"` + stripego.APIVersion + `","type":"payment_intent.canceled","data":{"object":{"id":"pi_1","amount":-5,"currency":"usd","latest_charge":{"id":"ch_1"}}}}`,
		`{"id":"evt_4","object":"event","api_version":"` + stripego.APIVersion + `","type":"charge.refunded","data":null}`,
		`{"object":"event"}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s), true)
	}
	c := clock.NewFixed(t0)
	a, err := stripe.New(stripe.Config{SecretKey: secretKey, WebhookSecret: webhookSecret, Clock: c})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		h := billing.MapHeader{"Stripe-Signature": "t=" + strings.Repeat("1", len(body)%12) + ",v1=00"}
		if signed {
			h = sign(body, webhookSecret, t0)
		}
		ev, err := a.ParseWebhook(body, h)
		if err != nil {
			k := errs.KindOf(err)
			if k != errs.KindInvalid && k != errs.KindUnauthenticated {
				t.Fatalf("error %v is of kind %v", err, k)
			}
			if !signed && k != errs.KindUnauthenticated {
				t.Fatalf("an unsigned body: %v", err)
			}
			return
		}
		if !signed {
			t.Fatal("an unsigned body verified")
		}
		if ev.ID == "" {
			t.Fatal("an event without an ID")
		}
		if r := ev.Result; r.Kind != "" {
			if err := r.Amount.Validate("fuzz", "amount"); err != nil || r.Amount.Amount <= 0 || r.Ref != ev.Ref || r.Ref == "" {
				t.Fatalf("result %+v of event %+v", r, ev)
			}
		}
	})
}
