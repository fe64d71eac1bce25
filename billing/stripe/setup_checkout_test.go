package stripe_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

func setupFor(practice uuid.UUID) billing.SetupCheckoutRequest {
	return billing.SetupCheckoutRequest{Practice: practice, Key: billing.DeriveKey(uuid.New(), billing.OpSetupCheckout, 1),
		SuccessURL: "https://carebook.example/billing/payment-method?setup=done", CancelURL: "https://carebook.example/billing/payment-method?setup=canceled"}
}

// TestSetupCheckoutSavesACard walks a setup session as the
// administrator's browser does: the hosted page's button saves the card,
// Stripe sends the browser back with the session's ID, SetupOutcome reads
// the saved card (labelled, its token charging off-session), and the
// completed event names the session and the practice.
func TestSetupCheckoutSavesACard(t *testing.T) {
	f, a := onFake(t, clock.NewFixed(t0))
	ctx := context.Background()
	prac := uuid.New()
	s, err := a.StartSetupCheckout(ctx, setupFor(prac))
	if err != nil {
		t.Fatal(err)
	}
	if o, err := a.SetupOutcome(ctx, s.ID); err != nil || o.Done || o.Practice != prac {
		t.Fatalf("before the card: %+v, %v", o, err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Post(s.URL, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || back.Query().Get(billing.SessionParam) != s.ID || back.Query().Get("setup") != "done" {
		t.Fatalf("saving answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	o, err := a.SetupOutcome(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Done || o.Practice != prac || o.Label != "Visa ending 4242" || !strings.HasPrefix(o.Token, "pm_") || !strings.HasPrefix(o.SetupRef, "seti_") || !o.Created.Equal(t0) {
		t.Fatalf("outcome = %+v", o)
	}
	ev := eventOf(t, f, a, "checkout.session.completed")
	if want := (billing.Event{ID: ev.ID, Type: "checkout.session.completed", Setup: s.ID, Practice: prac}); ev != want {
		t.Fatalf("completed event = %+v, want %+v", ev, want)
	}
	// The card belongs to the session's Customer: it pays an invoice
	// off-session.
	inv := uuid.New()
	r, err := a.Purchase(ctx, billing.Charge{Payment: inv, Amount: usd(4900), Key: billing.InvoiceKey(inv, 1), By: patient,
		Method: billing.Method{Kind: billing.MethodCardOnline, Token: o.Token, OffSession: true}})
	if err != nil || r.Kind != billing.EntryCharged {
		t.Fatalf("an off-session charge of the saved card: %+v, %v", r, err)
	}
	if _, err := f.CompleteSetupCheckout(s.ID, stripetest.CardVisa); err == nil {
		t.Fatal("a setup session completed twice")
	}
}

func TestSetupCheckoutRefusals(t *testing.T) {
	_, a := onFake(t, clock.NewFixed(t0))
	ctx := context.Background()
	bad := setupFor(uuid.New())
	bad.SuccessURL = "/relative"
	_, err := a.StartSetupCheckout(ctx, bad)
	wantErr(t, "a relative success URL", err, errs.KindInvalid, "success_url")
	_, err = a.StartSetupCheckout(ctx, setupFor(uuid.Nil))
	wantErr(t, "no practice", err, errs.KindInvalid, "practice")
	for _, id := range []string{"cs_test_unknown", "pi_123", "cs_../../v1/customers"} {
		_, err = a.SetupOutcome(ctx, id)
		wantErr(t, "session "+id, err, errs.KindNotFound, billing.SessionParam)
	}
	// A payment session is no setup: never done, names no practice.
	s, err := a.StartCheckout(ctx, checkoutFor(uuid.New(), uuid.New(), 1))
	if err != nil {
		t.Fatal(err)
	}
	if o, err := a.SetupOutcome(ctx, s.ID); err != nil || o.Done || o.Practice != uuid.Nil {
		t.Fatalf("a payment session's outcome: %+v, %v", o, err)
	}
}

// TestSetupEventsRead: a setup session's events: completed names the
// session and practice; made outside carebook, or expired, names nothing.
func TestSetupEventsRead(t *testing.T) {
	_, a := onFake(t, clock.NewFixed(t0))
	prac := uuid.New()
	meta := map[string]any{stripe.MetadataPractice: prac.String(), stripe.MetadataPurpose: stripe.PurposePaymentMethod}
	obj := func(status string, meta map[string]any) map[string]any {
		return map[string]any{"id": "cs_9", "object": "checkout.session", "mode": "setup", "status": status, "setup_intent": "seti_9", "metadata": meta}
	}
	for _, tt := range []struct {
		name, typ string
		obj       map[string]any
		want      billing.Event
	}{
		{"completed", "checkout.session.completed", obj("complete", meta), billing.Event{Setup: "cs_9", Practice: prac}},
		{"outside carebook", "checkout.session.completed", obj("complete", map[string]any{}), billing.Event{}},
		{"expired", "checkout.session.expired", obj("expired", meta), billing.Event{}},
	} {
		body := eventBody(t, tt.typ, tt.obj)
		ev, err := a.ParseWebhook(body, sign(body, webhookSecret, t0))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		tt.want.ID, tt.want.Type = "evt_test_1", tt.typ
		if ev != tt.want {
			t.Errorf("%s: event = %+v, want %+v", tt.name, ev, tt.want)
		}
	}
	body := eventBody(t, "checkout.session.completed", obj("complete", map[string]any{stripe.MetadataPractice: "nope", stripe.MetadataPurpose: stripe.PurposePaymentMethod}))
	_, err := a.ParseWebhook(body, sign(body, webhookSecret, t0))
	wantErr(t, "a practice that is no ID", err, errs.KindInvalid, "data.object.metadata."+stripe.MetadataPractice)
}
