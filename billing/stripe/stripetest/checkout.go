package stripetest

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// checkoutPath is where the fake serves a Checkout Session's hosted page.
const checkoutPath = "/checkout/pay/"

type session struct {
	id, status, paymentStatus, currency, name, intent string
	successURL, cancelURL, reference                  string
	amount, created, expiresAt                        int64
	metadata, intentMetadata                          map[string]string
}

// createSession serves POST /v1/checkout/sessions: one line in payment
// mode, paid by card on the fake's hosted page (PayCheckout).
func (f *Fake) createSession(form url.Values) (int, any, bool) {
	amount, err := strconv.ParseInt(form.Get("line_items[0][price_data][unit_amount]"), 10, 64)
	cur := form.Get("line_items[0][price_data][currency]")
	switch {
	case form.Get("mode") != "payment":
		return invalid("parameter_invalid_empty", "mode", "the fake makes payment sessions only")
	case form.Get("line_items[0][quantity]") != "1" || form.Has("line_items[1][quantity]"):
		return invalid("parameter_invalid_integer", "line_items", "the fake sells one line of quantity 1")
	case err != nil || amount <= 0:
		return invalid("parameter_invalid_integer", "line_items[0][price_data][unit_amount]", "Invalid positive integer")
	case amount < 50:
		return invalid("amount_too_small", "line_items[0][price_data][unit_amount]", "Amount must be at least 50 cents")
	case len(cur) != 3 || strings.ToLower(cur) != cur:
		return invalid("parameter_invalid_empty", "line_items[0][price_data][currency]", "Invalid currency")
	case form.Get("line_items[0][price_data][product_data][name]") == "":
		return invalid("parameter_missing", "line_items[0][price_data][product_data][name]", "Missing required param")
	case !absolute(form.Get("success_url")) || !absolute(form.Get("cancel_url")):
		return invalid("url_invalid", "success_url", "Not a valid URL")
	}
	s := &session{
		id: f.id("cs_test"), status: "open", paymentStatus: "unpaid", currency: cur, amount: amount,
		name: form.Get("line_items[0][price_data][product_data][name]"), successURL: form.Get("success_url"),
		cancelURL: form.Get("cancel_url"), reference: form.Get("client_reference_id"), created: f.now(),
		expiresAt: f.now() + 24*3600, metadata: metadataAt(form, "metadata"), intentMetadata: metadataAt(form, "payment_intent_data[metadata]"),
	}
	f.sessions[s.id] = s
	return http.StatusOK, f.renderSession(s), true
}

// PayCheckout does what the patient does on a Checkout Session's page:
// pays it with card (one of the test cards). A card that pays makes the
// session's PaymentIntent, charged at once, and the events
// payment_intent.succeeded and checkout.session.completed; a declined one
// payment_intent.payment_failed, leaving the session open. It returns the
// URL Stripe sends the browser to: the session's success URL, or "" and
// an error.
func (f *Fake) PayCheckout(sessionID, card string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[sessionID]
	switch {
	case !ok:
		return "", fmt.Errorf("no checkout session %q", sessionID)
	case s.status != "open":
		return "", fmt.Errorf("the checkout session %q is %s", sessionID, s.status)
	}
	if _, ok := f.method(card); !ok {
		return "", fmt.Errorf("no test card %q", card)
	}
	in := &intent{id: f.id("pi"), amount: s.amount, currency: s.currency, capture: "automatic", created: f.now(),
		method: f.id("pm"), description: s.name, metadata: s.intentMetadata, status: "requires_payment_method"}
	f.intents[in.id] = in
	if _, declined := declineCodes[card]; declined || card == CardAuthRequired {
		f.emit("payment_intent.payment_failed", f.renderIntent(in, nil))
		return "", fmt.Errorf("the card %q was declined", card)
	}
	ch := &charge{id: f.id("ch"), intent: in.id, currency: in.currency, amount: s.amount, created: f.now(),
		isCaptured: true, captured: s.amount, balanceTxCreated: f.now()}
	f.charges[ch.id] = ch
	in.charge, in.status, in.received = ch.id, "succeeded", s.amount
	s.intent, s.status, s.paymentStatus = in.id, "complete", "paid"
	f.emit("payment_intent.succeeded", f.renderIntent(in, nil))
	f.emit("checkout.session.completed", f.renderSession(s))
	return s.successURL, nil
}

// ExpireCheckout expires an open Checkout Session unpaid, as Stripe does at
// its expires_at, with the event checkout.session.expired.
func (f *Fake) ExpireCheckout(sessionID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[sessionID]
	if !ok || s.status != "open" {
		return fmt.Errorf("no open checkout session %q", sessionID)
	}
	s.status = "expired"
	f.emit("checkout.session.expired", f.renderSession(s))
	return nil
}

// hostedPage serves a session's page (GET: its amount and a Pay button,
// no script) and its payment (POST: PayCheckout with CardVisa, then 303 to
// the success URL).
func (f *Fake) hostedPage(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, checkoutPath)
	if r.Method == http.MethodPost {
		to, err := f.PayCheckout(id, CardVisa)
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	f.mu.Lock()
	s, ok := f.sessions[id]
	var name, amount, cancel string
	if ok {
		name, amount, cancel = s.name, strconv.FormatInt(s.amount, 10)+" "+strings.ToUpper(s.currency)+" (minor units)", s.cancelURL
	}
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html><head><title>Fake Stripe Checkout</title></head><body>
<h1>Fake Stripe Checkout</h1><p id="item">%s</p><p id="amount">%s</p>
<form method="post" action="%s"><button id="pay" type="submit">Pay</button></form>
<p><a id="cancel" href="%s">Cancel</a></p></body></html>`,
		html.EscapeString(name), html.EscapeString(amount), html.EscapeString(checkoutPath+id), html.EscapeString(cancel))
}

func (f *Fake) renderSession(s *session) map[string]any {
	return map[string]any{
		"id": s.id, "object": "checkout.session", "mode": "payment", "status": s.status, "payment_status": s.paymentStatus,
		"amount_total": s.amount, "amount_subtotal": s.amount, "currency": s.currency, "url": f.srv.URL + checkoutPath + s.id,
		"success_url": s.successURL, "cancel_url": s.cancelURL, "client_reference_id": nullable(s.reference),
		"payment_intent": nullable(s.intent), "metadata": s.metadata, "created": s.created, "expires_at": s.expiresAt,
		"livemode": false,
	}
}

func absolute(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
