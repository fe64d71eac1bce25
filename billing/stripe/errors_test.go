package stripe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
)

// TestStripeErrorsMapOntoKinds answers a purchase with each kind of Stripe
// error and checks the error kind and field the adapter gives for it: by
// Stripe's type and code, never its text.
func TestStripeErrorsMapOntoKinds(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		kind   errs.Kind
		field  string
	}{
		{"card declined", 402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"do_not_honor","message":"Your card was declined."}}`, errs.KindPreconditionFailed, "method"},
		{"expired card", 402, `{"error":{"type":"card_error","code":"expired_card","message":"Your card has expired."}}`, errs.KindPreconditionFailed, "method"},
		{"key reused", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters"}}`, errs.KindConflict, "key"},
		{"key in use", 409, `{"error":{"type":"invalid_request_error","code":"idempotency_key_in_use","message":"in use"}}`, errs.KindConflict, ""},
		{"unknown payment method", 400, `{"error":{"type":"invalid_request_error","code":"resource_missing","param":"payment_method","message":"No such PaymentMethod"}}`, errs.KindInvalid, "method.token"},
		{"unknown customer", 400, `{"error":{"type":"invalid_request_error","code":"resource_missing","param":"customer","message":"No such customer"}}`, errs.KindNotFound, ""},
		{"state", 400, `{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"status"}}`, errs.KindConflict, ""},
		{"amount too small", 400, `{"error":{"type":"invalid_request_error","code":"amount_too_small","param":"amount","message":"small"}}`, errs.KindInvalid, "amount"},
		{"other bad parameter", 400, `{"error":{"type":"invalid_request_error","code":"parameter_unknown","param":"frobnicate","message":"unknown"}}`, errs.KindInvalid, ""},
		{"rate limited", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow down"}}`, errs.KindRateLimited, ""},
		{"bad key", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}}`, errs.KindInternal, ""},
		{"Stripe failed", 500, `{"error":{"type":"api_error","message":"oops"}}`, errs.KindInternal, ""},
		{"no JSON", 502, `<html>bad gateway</html>`, errs.KindInternal, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			a, err := stripe.New(stripe.Config{SecretKey: secretKey, BackendURL: srv.URL, Clock: clock.NewFixed(t0), Retries: -1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.Purchase(context.Background(), charge(newPayment(t, usd(2500), card(stripetest.CardVisa)), billing.OpPurchase))
			wantErr(t, tt.name, err, tt.kind, tt.field)
		})
	}
}
