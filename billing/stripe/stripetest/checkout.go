package stripetest

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/stripe/stripe-go/v85/webhook"
)

// checkoutPath is where the fake serves a Checkout Session's hosted page.
const checkoutPath = "/checkout/pay/"

type session struct {
	id, mode, status, paymentStatus, currency, name, intent string
	customer, setup                                         string
	successURL, cancelURL, reference                        string
	amount, created, expiresAt                              int64
	metadata, intentMetadata                                map[string]string
}

// createSession serves POST /v1/checkout/sessions: one line in payment
// mode, paid by card on the fake's hosted page (PayCheckout), or a card
// saved in setup mode (CompleteSetupCheckout).
func (f *Fake) createSession(form url.Values) (int, any, bool) {
	if form.Get("mode") == "setup" {
		return f.createSetupSession(form)
	}
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
		id: f.id("cs_test"), mode: "payment", status: "open", paymentStatus: "unpaid", currency: cur, amount: amount,
		name: form.Get("line_items[0][price_data][product_data][name]"), successURL: form.Get("success_url"),
		cancelURL: form.Get("cancel_url"), reference: form.Get("client_reference_id"), created: f.now(),
		expiresAt: f.now() + 24*3600, metadata: metadataAt(form, "metadata"), intentMetadata: metadataAt(form, "payment_intent_data[metadata]"),
	}
	f.sessions[s.id] = s
	return http.StatusOK, f.renderSession(s, nil), true
}

// createSetupSession serves POST /v1/checkout/sessions in setup mode: a
// card saved for a Customer (given, or none) on the fake's hosted page.
func (f *Fake) createSetupSession(form url.Values) (int, any, bool) {
	cus := form.Get("customer")
	switch {
	case cus != "" && !f.customers[cus]:
		return missing("customer", "customer", cus)
	case form.Has("line_items[0][quantity]"):
		return invalid("parameter_unknown", "line_items", "line_items cannot be used in setup mode")
	case !absolute(form.Get("success_url")) || form.Has("cancel_url") && !absolute(form.Get("cancel_url")):
		return invalid("url_invalid", "success_url", "Not a valid URL")
	}
	s := &session{
		id: f.id("cs_test"), mode: "setup", status: "open", paymentStatus: "no_payment_required", customer: cus,
		name: form.Get("setup_intent_data[description]"), successURL: form.Get("success_url"), cancelURL: form.Get("cancel_url"),
		reference: form.Get("client_reference_id"), created: f.now(), expiresAt: f.now() + 24*3600,
		metadata: metadataAt(form, "metadata"), intentMetadata: metadataAt(form, "setup_intent_data[metadata]"),
	}
	f.sessions[s.id] = s
	return http.StatusOK, f.renderSession(s, nil), true
}

// CompleteSetupCheckout does what the administrator does on a setup
// session's page: saves card (one of the test cards) to the session's
// Customer. It makes the session's SetupIntent, succeeded with the saved
// card, and the events setup_intent.succeeded and
// checkout.session.completed, and returns the URL Stripe sends the
// browser to: the success URL with the session's ID filled in.
func (f *Fake) CompleteSetupCheckout(sessionID, card string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[sessionID]
	switch {
	case !ok || s.mode != "setup":
		return "", fmt.Errorf("no setup checkout session %q", sessionID)
	case s.status != "open":
		return "", fmt.Errorf("the checkout session %q is %s", sessionID, s.status)
	}
	if _, ok := f.method(card); !ok {
		return "", fmt.Errorf("no test card %q", card)
	}
	si := &setup{id: f.id("seti"), customer: s.customer, status: "succeeded", method: f.id("pm"), metadata: s.intentMetadata}
	si.secret = si.id + "_secret"
	f.setups[si.id] = si
	f.saved[si.method] = savedCard{customer: s.customer, card: card}
	s.setup, s.status = si.id, "complete"
	f.emit("setup_intent.succeeded", f.renderSetup(si, false))
	f.emit("checkout.session.completed", f.renderSession(s, nil))
	return s.returnURL(), nil
}

// returnURL is the session's success URL with its ID in place of Stripe's
// template.
func (s *session) returnURL() string {
	return strings.ReplaceAll(s.successURL, "{CHECKOUT_SESSION_ID}", s.id)
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
	case s.mode != "payment" || s.status != "open":
		return "", fmt.Errorf("the checkout session %q is %s %s", sessionID, s.status, s.mode)
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
	f.emit("checkout.session.completed", f.renderSession(s, nil))
	return s.returnURL(), nil
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
	f.emit("checkout.session.expired", f.renderSession(s, nil))
	return nil
}

// hostedPage serves a session's page (GET: what it is for and a button,
// no script) and what the browser does there (POST: PayCheckout, or
// CompleteSetupCheckout, with CardVisa; then the webhook events are
// delivered, if DeliverWebhooks asked for them, and the answer is a 303 to
// the success URL).
func (f *Fake) hostedPage(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, checkoutPath)
	f.mu.Lock()
	s, ok := f.sessions[id]
	var mode, name, amount, cancel string
	if ok {
		mode, name, cancel = s.mode, s.name, s.cancelURL
		amount = strconv.FormatInt(s.amount, 10) + " " + strings.ToUpper(s.currency) + " (minor units)"
	}
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method == http.MethodPost {
		complete := f.PayCheckout
		if mode == "setup" {
			complete = f.CompleteSetupCheckout
		}
		to, err := complete(id, CardVisa)
		if err == nil {
			err = f.deliver()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	button := "Pay"
	if mode == "setup" {
		button, amount = "Save card", "Card "+CardVisa+" saved for later payments"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Fake Stripe Checkout</title></head><body><main id="main">
<h1>Fake Stripe Checkout</h1><p id="item">%s</p><p id="amount">%s</p>
<form method="post" action="%s"><button id="pay" type="submit">%s</button></form>
<p><a id="cancel" href="%s">Cancel</a></p></main></body></html>`,
		html.EscapeString(name), html.EscapeString(amount), html.EscapeString(checkoutPath+id), html.EscapeString(button), html.EscapeString(cancel))
}

// DeliverWebhooks has the hosted page deliver the events made so far and
// from now on, signed with secret (webhook.GenerateTestSignedPayload, at
// the fake's clock), to endpoint (carebook's webhook URL), as Stripe does,
// before it sends the browser back: each event once, in order.
func (f *Fake) DeliverWebhooks(endpoint, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hookURL, f.hookSecret = endpoint, secret
}

// deliver posts the events not delivered yet, outside the fake's lock
// (the endpoint may call the fake back).
func (f *Fake) deliver() error {
	f.mu.Lock()
	endpoint, secret := f.hookURL, f.hookSecret
	events := f.events[f.delivered:]
	f.delivered = len(f.events)
	f.mu.Unlock()
	if endpoint == "" {
		return nil
	}
	for _, body := range events {
		sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: f.clock.Now()})
		req, err := http.NewRequest(http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Stripe-Signature", sp.Header)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("the webhook endpoint answered %d", resp.StatusCode)
		}
	}
	return nil
}

// retrieveSession serves GET /v1/checkout/sessions/{id}, with its
// setup_intent (and its payment_method) expanded when asked.
func (f *Fake) retrieveSession(id string, form url.Values) (int, any, bool) {
	s, ok := f.sessions[id]
	if !ok {
		return missing("session", "checkout.session", id)
	}
	return http.StatusOK, f.renderSession(s, list(form, "expand")), false
}

func (f *Fake) renderSession(s *session, expand []string) map[string]any {
	out := map[string]any{
		"id": s.id, "object": "checkout.session", "mode": s.mode, "status": s.status, "payment_status": s.paymentStatus,
		"url": f.srv.URL + checkoutPath + s.id, "success_url": s.successURL, "cancel_url": nullable(s.cancelURL),
		"client_reference_id": nullable(s.reference), "payment_intent": nullable(s.intent), "setup_intent": nullable(s.setup),
		"customer": nullable(s.customer), "metadata": s.metadata, "created": s.created, "expires_at": s.expiresAt, "livemode": false,
	}
	if s.mode == "payment" {
		out["amount_total"], out["amount_subtotal"], out["currency"] = s.amount, s.amount, s.currency
	}
	if si, ok := f.setups[s.setup]; ok && (contains(expand, "setup_intent") || contains(expand, "setup_intent.payment_method")) {
		out["setup_intent"] = f.renderSetup(si, contains(expand, "setup_intent.payment_method"))
	}
	return out
}

func absolute(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
