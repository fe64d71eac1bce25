package stripe_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

func checkoutFor(practice, pay uuid.UUID, attempt int) billing.CheckoutRequest {
	return billing.CheckoutRequest{Practice: practice, Payment: pay, Amount: usd(5000), Key: billing.DeriveKey(pay, billing.OpCheckout, attempt),
		Description: "Visit deposit", SuccessURL: "https://carebook.example/done", CancelURL: "https://carebook.example/canceled"}
}

// eventOf returns the fake's last event of type typ, parsed by a.
func eventOf(t *testing.T, f *stripetest.Fake, a *stripe.Adapter, typ string) billing.Event {
	t.Helper()
	evs := f.Events()
	for i := len(evs) - 1; i >= 0; i-- {
		var head struct{ Type string }
		if err := json.Unmarshal(evs[i], &head); err != nil {
			t.Fatal(err)
		}
		if head.Type != typ {
			continue
		}
		ev, err := a.ParseWebhook(evs[i], sign(evs[i], webhookSecret, t0))
		if err != nil {
			t.Fatalf("ParseWebhook(%s): %v", typ, err)
		}
		return ev
	}
	t.Fatalf("the fake sent no %s event", typ)
	return billing.Event{}
}

// TestCheckoutPaidOnHostedPage walks a session as the patient's browser
// does: the page, its Pay button, the redirect to the success URL, and the
// events that report the charge of the payment named in the metadata.
func TestCheckoutPaidOnHostedPage(t *testing.T) {
	f, a := onFake(t, clock.NewFixed(t0))
	practice, pay := uuid.New(), uuid.New()
	s, err := a.StartCheckout(context.Background(), checkoutFor(practice, pay, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL, f.URL()) || !strings.HasPrefix(s.ID, "cs_") || !s.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("session = %+v", s)
	}
	resp, err := http.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(page), `<button id="pay"`) || !strings.Contains(string(page), "Visit deposit") {
		t.Fatalf("the hosted page is %s", page)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Post(s.URL, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://carebook.example/done" {
		t.Fatalf("paying answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	done := eventOf(t, f, a, "checkout.session.completed")
	if done.Ref == "" || !strings.HasPrefix(string(done.Ref), "pi_") {
		t.Fatalf("completed event's Ref = %q", done.Ref)
	}
	want := billing.Event{ID: done.ID, Type: "checkout.session.completed", Ref: done.Ref, Practice: practice, Payment: pay,
		Result: billing.Result{Ref: done.Ref, Kind: billing.EntryCharged, Amount: usd(5000), At: t0}}
	if done != want {
		t.Fatalf("completed event = %+v, want %+v", done, want)
	}
	// The intent's own event is the same charge, of the same Ref: the
	// ledger takes it as a report of the opening it already has.
	if paid := eventOf(t, f, a, "payment_intent.succeeded"); paid.Ref != done.Ref || paid.Result.Kind != billing.EntryCharged || paid.Result.Amount != usd(5000) {
		t.Fatalf("payment_intent.succeeded = %+v", paid)
	}
	if _, err := f.PayCheckout(s.ID, stripetest.CardVisa); err == nil {
		t.Fatal("a session paid twice")
	}
}

func TestCheckoutExpiredAndDeclined(t *testing.T) {
	f, a := onFake(t, clock.NewFixed(t0))
	practice, pay := uuid.New(), uuid.New()
	s, err := a.StartCheckout(context.Background(), checkoutFor(practice, pay, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.PayCheckout(s.ID, stripetest.CardDeclined); err == nil {
		t.Fatal("a declined card paid the session")
	}
	if err := f.ExpireCheckout(s.ID); err != nil {
		t.Fatal(err)
	}
	ev := eventOf(t, f, a, "checkout.session.expired")
	want := billing.Event{ID: ev.ID, Type: "checkout.session.expired", Practice: practice, Payment: pay}
	if ev != want {
		t.Fatalf("expired event = %+v, want %+v (still owed: no Result)", ev, want)
	}
	// The next attempt is a new session under its own key.
	next, err := a.StartCheckout(context.Background(), checkoutFor(practice, pay, 2))
	if err != nil || next.ID == s.ID {
		t.Fatalf("the next attempt = %+v, %v; the expired one was %q", next, err, s.ID)
	}
}

func TestCheckoutEventsRead(t *testing.T) {
	_, a := onFake(t, clock.NewFixed(t0))
	practice, pay := uuid.New(), uuid.New()
	meta := map[string]any{stripe.MetadataPayment: pay.String(), stripe.MetadataPractice: practice.String()}
	session := func(edit func(o map[string]any)) map[string]any {
		o := map[string]any{"id": "cs_1", "object": "checkout.session", "mode": "payment", "status": "complete", "payment_status": "paid",
			"amount_total": 5000, "currency": "usd", "payment_intent": "pi_1", "metadata": meta}
		edit(o)
		return o
	}
	for _, tt := range []struct {
		name  string
		typ   string
		obj   map[string]any
		want  billing.Event
		field string // the field a refusal names, if refused
	}{
		{"paid", "checkout.session.completed", session(func(map[string]any) {}),
			billing.Event{Ref: "pi_1", Practice: practice, Payment: pay, Result: billing.Result{Ref: "pi_1", Kind: billing.EntryCharged, Amount: usd(5000), At: t0}}, ""},
		{"completed, not paid yet", "checkout.session.completed", session(func(o map[string]any) { o["payment_status"] = "unpaid" }),
			billing.Event{Ref: "pi_1"}, ""},
		{"made outside carebook", "checkout.session.completed", session(func(o map[string]any) { o["metadata"] = map[string]any{} }),
			billing.Event{}, ""},
		{"a payment ID that is none", "checkout.session.completed", session(func(o map[string]any) {
			o["metadata"] = map[string]any{stripe.MetadataPayment: "nope", stripe.MetadataPractice: practice.String()}
		}), billing.Event{}, "data.object.metadata.carebook_payment"},
		{"paid without an intent", "checkout.session.completed", session(func(o map[string]any) { delete(o, "payment_intent") }),
			billing.Event{}, "data.object.payment_intent"},
		{"no ID", "checkout.session.expired", session(func(o map[string]any) { delete(o, "id") }), billing.Event{}, "data.object.id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := eventBody(t, tt.typ, tt.obj)
			ev, err := a.ParseWebhook(body, sign(body, webhookSecret, t0))
			if tt.field != "" {
				wantErr(t, tt.name, err, errs.KindInvalid, tt.field)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.ID, tt.want.Type = "evt_test_1", tt.typ
			if ev != tt.want {
				t.Fatalf("event = %+v, want %+v", ev, tt.want)
			}
		})
	}
}
