package billingtest

import (
	"context"
	"testing"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

// RunCheckout runs the conformance cases of billing.HostedCheckout: bad
// requests refused naming the field, the same key answered with the same
// session (also when Racers calls race), another key with another
// session, and a key reused for another request refused with
// errs.KindConflict naming "key". Every case gets a fresh adapter from
// newAdapter. What the patient does on the page is the adapter's own
// tests' work: the suite cannot pay.
func RunCheckout(t *testing.T, newAdapter func(t testing.TB) billing.HostedCheckout) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(t testing.TB, a billing.HostedCheckout)
	}{
		{"BadRequestRefused", testCheckoutBadRequest},
		{"ReplayReturnsSameSession", testCheckoutReplay},
		{"ConcurrentStartMakesOneSession", testCheckoutRace},
		{"KeyReusedForAnotherRequestRefused", testCheckoutKeyReused},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newAdapter(t)) })
	}
}

// checkoutRequest is a valid request for a new payment, of attempt 1.
func checkoutRequest() billing.CheckoutRequest {
	pay := uuid.New()
	return billing.CheckoutRequest{Practice: uuid.New(), Payment: pay, Amount: usd(5000),
		Key: billing.DeriveKey(pay, billing.OpCheckout, 1), Description: "Visit deposit",
		SuccessURL: "https://carebook.example/checkout/done", CancelURL: "https://carebook.example/checkout/canceled"}
}

func startCheckout(t testing.TB, a billing.HostedCheckout, r billing.CheckoutRequest) billing.CheckoutSession {
	t.Helper()
	s, err := a.StartCheckout(context.Background(), r)
	if err != nil {
		t.Fatalf("StartCheckout: %v", err)
	}
	if s.ID == "" || s.URL == "" {
		t.Fatalf("StartCheckout = %+v, want an ID and a URL", s)
	}
	return s
}

func testCheckoutBadRequest(t testing.TB, a billing.HostedCheckout) {
	for _, tt := range []struct {
		name, field string
		edit        func(r *billing.CheckoutRequest)
	}{
		{"no practice", "practice", func(r *billing.CheckoutRequest) { r.Practice = uuid.Nil }},
		{"no payment", "payment", func(r *billing.CheckoutRequest) { r.Payment = uuid.Nil }},
		{"zero amount", "amount", func(r *billing.CheckoutRequest) { r.Amount = usd(0) }},
		{"unknown currency", "currency", func(r *billing.CheckoutRequest) { r.Amount.Currency = "XYZ" }},
		{"no key", "key", func(r *billing.CheckoutRequest) { r.Key = "" }},
		{"relative success URL", "success_url", func(r *billing.CheckoutRequest) { r.SuccessURL = "/done" }},
		{"cancel URL of another scheme", "cancel_url", func(r *billing.CheckoutRequest) { r.CancelURL = "javascript:alert(1)" }},
	} {
		r := checkoutRequest()
		tt.edit(&r)
		_, err := a.StartCheckout(context.Background(), r)
		refused(t, "StartCheckout with "+tt.name, err, errs.KindInvalid, tt.field)
	}
}

func testCheckoutReplay(t testing.TB, a billing.HostedCheckout) {
	r := checkoutRequest()
	first := startCheckout(t, a, r)
	if again := startCheckout(t, a, r); again != first {
		t.Fatalf("the same key answered %+v, then %+v", first, again)
	}
	next := r
	next.Key = billing.DeriveKey(r.Payment, billing.OpCheckout, 2)
	if other := startCheckout(t, a, next); other.ID == first.ID {
		t.Fatalf("the next attempt's key answered the first attempt's session %q", first.ID)
	}
}

func testCheckoutRace(t testing.TB, a billing.HostedCheckout) {
	r := checkoutRequest()
	sessions, fails := race(func() (billing.CheckoutSession, error) { return a.StartCheckout(context.Background(), r) })
	var first billing.CheckoutSession
	for i, s := range sessions {
		if fails[i] != nil {
			// A racer the provider asks to retry (its twin is still
			// running) is a conflict naming no field; retried, it
			// gets the one session.
			refused(t, "a racing StartCheckout", fails[i], errs.KindConflict, "")
			s = startCheckout(t, a, r)
		}
		if first.ID == "" {
			first = s
		}
		if s != first {
			t.Fatalf("racing calls under one key made sessions %+v and %+v", first, s)
		}
	}
}

func testCheckoutKeyReused(t testing.TB, a billing.HostedCheckout) {
	r := checkoutRequest()
	startCheckout(t, a, r)
	other := r
	other.Amount = usd(7000)
	_, err := a.StartCheckout(context.Background(), other)
	refused(t, "StartCheckout of another amount under the same key", err, errs.KindConflict, "key")
}
