package stripe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/google/uuid"
)

// sent is one request the adapter sent to stripe-mock, with its answer's
// status.
type sent struct {
	method, path, key, version string
	form                       url.Values
	status                     int
}

// recorder is a RoundTripper that records requests and answers; it sets
// the fields of a retrieved PaymentIntent to those in intent, since
// stripe-mock answers with one fixture whatever the state a step needs.
type recorder struct {
	intent map[string]any

	mu   sync.Mutex
	sent []sent
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	form, _ := url.ParseQuery(string(body))
	if req.Method == http.MethodGet {
		form = req.URL.Query()
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if req.Method == http.MethodGet && strings.HasPrefix(req.URL.Path, "/v1/payment_intents/") && r.intent != nil && resp.StatusCode == http.StatusOK {
		var obj map[string]any
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, err
		}
		for k, v := range r.intent {
			obj[k] = v
		}
		b, _ = json.Marshal(obj)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Del("Content-Length")
	}
	r.mu.Lock()
	r.sent = append(r.sent, sent{method: req.Method, path: req.URL.Path, key: req.Header.Get("Idempotency-Key"), version: req.Header.Get("Stripe-Version"), form: form, status: resp.StatusCode})
	r.mu.Unlock()
	return resp, nil
}

// TestRequestShapesOnStripeMock sends every request the adapter makes to
// stripe-mock, which checks each against Stripe's OpenAPI document: all
// must be accepted, carry the caller's key if they change anything, and the
// SDK's API version. stripe-mock's answers are fixtures, so what the
// adapter makes of them is not checked here (the fake's tests do that).
func TestRequestShapesOnStripeMock(t *testing.T) {
	base := stripetest.Mock(t)
	ctx := context.Background()
	pay := uuid.New()
	key := billing.DeriveKey(pay, billing.OpAuthorize, 1)
	hold := billing.Charge{Payment: pay, Amount: usd(5000), Method: card("pm_card_visa"), Key: key, By: patient, Description: "visit deposit"}
	offSession := hold
	offSession.Method.OffSession = true
	follow := func(amount billing.Money) billing.FollowUp {
		return billing.FollowUp{Ref: "pi_123", Amount: amount, Key: key, By: patient, Reason: "visit moved"}
	}
	checkout := billing.CheckoutRequest{Practice: uuid.New(), Payment: pay, Amount: usd(5000), Key: key, Description: "Visit deposit",
		SuccessURL: "https://carebook.example/p/x/checkout/done", CancelURL: "https://carebook.example/p/x/checkout/canceled"}
	setup := billing.SetupCheckoutRequest{Practice: uuid.New(), Key: key, Description: "carebook subscription",
		SuccessURL: "https://carebook.example/p/x/billing/payment-method", CancelURL: "https://carebook.example/p/x/billing/payment-method?setup=canceled"}
	held := map[string]any{"status": "requires_capture", "amount": 5000, "amount_capturable": 5000, "currency": "usd", "capture_method": "manual"}
	paid := map[string]any{"status": "succeeded", "amount": 5000, "amount_received": 5000, "currency": "usd", "latest_charge": map[string]any{"id": "ch_123", "object": "charge"}}
	for _, tt := range []struct {
		name   string
		intent map[string]any
		call   func(a *stripe.Adapter) error
		want   []string // method and path of each request
		form   map[string]string
	}{
		{"Authorize", nil, func(a *stripe.Adapter) error { _, err := a.Authorize(ctx, hold); return err },
			[]string{"POST /v1/payment_intents"},
			map[string]string{"amount": "5000", "currency": "usd", "capture_method": "manual", "confirm": "true", "payment_method": "pm_card_visa", "payment_method_types[0]": "card", "description": "visit deposit", "metadata[carebook_payment]": pay.String()}},
		{"Purchase", nil, func(a *stripe.Adapter) error { _, err := a.Purchase(ctx, hold); return err },
			[]string{"POST /v1/payment_intents"},
			map[string]string{"capture_method": "automatic", "confirm": "true"}},
		{"PurchaseOffSession", nil, func(a *stripe.Adapter) error { _, err := a.Purchase(ctx, offSession); return err },
			[]string{"GET /v1/payment_methods/pm_card_visa", "POST /v1/payment_intents"},
			map[string]string{"off_session": "true", "confirm": "true"}},
		{"Capture", held, func(a *stripe.Adapter) error { _, err := a.Capture(ctx, follow(usd(3000))); return err },
			[]string{"GET /v1/payment_intents/pi_123", "POST /v1/payment_intents/pi_123/capture"},
			map[string]string{"amount_to_capture": "3000", "expand[0]": "latest_charge.balance_transaction"}},
		{"Cancel", held, func(a *stripe.Adapter) error { _, err := a.Cancel(ctx, follow(billing.Money{})); return err },
			[]string{"GET /v1/payment_intents/pi_123", "POST /v1/payment_intents/pi_123/cancel"}, nil},
		{"Refund", paid, func(a *stripe.Adapter) error { _, err := a.Refund(ctx, follow(usd(1200))); return err },
			[]string{"GET /v1/payment_intents/pi_123", "POST /v1/refunds"},
			map[string]string{"charge": "ch_123", "amount": "1200", "metadata[carebook_reason]": "visit moved"}},
		{"StartCheckout", nil, func(a *stripe.Adapter) error { _, err := a.StartCheckout(ctx, checkout); return err },
			[]string{"POST /v1/checkout/sessions"},
			map[string]string{"mode": "payment", "payment_method_types[0]": "card", "line_items[0][quantity]": "1",
				"line_items[0][price_data][currency]": "usd", "line_items[0][price_data][unit_amount]": "5000",
				"line_items[0][price_data][product_data][name]": "Visit deposit", "success_url": checkout.SuccessURL, "cancel_url": checkout.CancelURL,
				"client_reference_id": pay.String(), "metadata[carebook_payment]": pay.String(), "metadata[carebook_practice]": checkout.Practice.String(),
				"payment_intent_data[metadata][carebook_payment]": pay.String(), "payment_intent_data[description]": "Visit deposit"}},
		{"StartSetupCheckout", nil, func(a *stripe.Adapter) error { _, err := a.StartSetupCheckout(ctx, setup); return err },
			[]string{"POST /v1/customers", "POST /v1/checkout/sessions"},
			map[string]string{"mode": "setup", "payment_method_types[0]": "card", "success_url": setup.SuccessURL + "?session_id={CHECKOUT_SESSION_ID}",
				"cancel_url": setup.CancelURL, "client_reference_id": setup.Practice.String(), "metadata[carebook_practice]": setup.Practice.String(),
				"metadata[carebook_purpose]": "payment_method", "setup_intent_data[metadata][carebook_practice]": setup.Practice.String(),
				"setup_intent_data[description]": "carebook subscription"}},
		{"SetupOutcome", nil, func(a *stripe.Adapter) error { _, err := a.SetupOutcome(ctx, "cs_test_123"); return err },
			[]string{"GET /v1/checkout/sessions/cs_test_123"}, map[string]string{"expand[0]": "setup_intent.payment_method"}},
		{"SetupCard", nil, func(a *stripe.Adapter) error { _, err := a.SetupCard(ctx, billing.CardSetup{Key: key}); return err },
			[]string{"POST /v1/customers", "POST /v1/setup_intents"},
			map[string]string{"usage": "off_session", "payment_method_types[0]": "card"}},
		{"SetupCardForACustomer", nil, func(a *stripe.Adapter) error {
			_, err := a.SetupCard(ctx, billing.CardSetup{Customer: "cus_123", Key: key})
			return err
		}, []string{"POST /v1/setup_intents"}, map[string]string{"customer": "cus_123"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{intent: tt.intent}
			a, err := stripe.New(stripe.Config{SecretKey: "sk_test_123", BackendURL: base, Clock: clock.NewFixed(t0), HTTPClient: &http.Client{Transport: rec}, Retries: -1})
			if err != nil {
				t.Fatal(err)
			}
			callErr := tt.call(a)
			if len(rec.sent) != len(tt.want) {
				t.Fatalf("sent %d requests, want %v (the call said %v): %+v", len(rec.sent), tt.want, callErr, rec.sent)
			}
			for i, s := range rec.sent {
				if got := s.method + " " + s.path; got != tt.want[i] {
					t.Errorf("request %d = %s, want %s", i, got, tt.want[i])
				}
				if s.status != http.StatusOK {
					t.Errorf("%s %s: stripe-mock answered %d (the call said %v)", s.method, s.path, s.status, callErr)
				}
				if s.version != stripe.APIVersion {
					t.Errorf("%s %s: Stripe-Version %q, want %q", s.method, s.path, s.version, stripe.APIVersion)
				}
				if s.method == http.MethodPost && s.key == "" {
					t.Errorf("%s %s: no Idempotency-Key", s.method, s.path)
				}
				if s.method == http.MethodPost && s.path != "/v1/customers" && s.key != string(key) {
					t.Errorf("%s %s: Idempotency-Key %q, want the caller's %q", s.method, s.path, s.key, key)
				}
				if s.method == http.MethodGet && s.key != "" {
					t.Errorf("%s %s: a read sent an Idempotency-Key", s.method, s.path)
				}
			}
			last := rec.sent[len(rec.sent)-1].form
			for k, want := range tt.form {
				if got := last.Get(k); got != want {
					t.Errorf("%s = %q, want %q (form %v)", k, got, want, last)
				}
			}
		})
	}
}
