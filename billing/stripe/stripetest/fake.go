// Package stripetest serves tests of the Stripe adapter (billing/stripe):
// Fake, a small stateful Stripe of ours with the endpoints the adapter uses,
// and Mock, Stripe's own stripe-mock, which checks the shape of requests
// against Stripe's OpenAPI document but keeps no state.
package stripetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/carebook/carebook/clock"
	stripego "github.com/stripe/stripe-go/v85"
)

// The payment methods the fake knows besides the cards saved by
// CompleteSetup, after Stripe's test cards.
const (
	CardVisa             = "pm_card_visa"
	CardMastercard       = "pm_card_mastercard"
	CardDeclined         = "pm_card_chargeDeclined"                  // declined: generic_decline
	CardInsufficientFund = "pm_card_chargeDeclinedInsufficientFunds" // declined: insufficient_funds
	CardAuthRequired     = "pm_card_authenticationRequired"          // needs 3-D Secure: requires_action on session, declined off session
)

var declineCodes = map[string]string{CardDeclined: "generic_decline", CardInsufficientFund: "insufficient_funds"}

// Request is one request the fake received.
type Request struct {
	Method         string
	Path           string
	IdempotencyKey string
	StripeVersion  string
	Form           url.Values // the form body, or the query of a GET
}

// Fake is a stateful Stripe for tests: Checkout Sessions paid on a hosted
// page of the fake (PayCheckout), PaymentIntents that hold, capture,
// cancel and take at once; refunds within what was captured; declines by
// the test cards above; Customers, SetupIntents and saved cards; and
// idempotency keys remembered as Stripe does (the same key with the same
// parameters replays the first answer, declines included; with other
// parameters it is an idempotency_error). It records the webhook events
// Stripe would send. It is safe for concurrent use: requests are served
// one at a time.
type Fake struct {
	srv   *httptest.Server
	clock clock.Clock

	mu        sync.Mutex
	n         int
	intents   map[string]*intent
	charges   map[string]*charge
	refunds   map[string]*refund
	customers map[string]bool
	setups    map[string]*setup
	saved     map[string]savedCard // a saved card's payment method → its customer and test card
	sessions  map[string]*session
	keys      map[string]answer
	requests  []Request
	events    [][]byte
	delivered int // events[:delivered] were delivered (DeliverWebhooks)

	hookURL, hookSecret string
}

type intent struct {
	id, currency, capture, status, customer, method, description, cancelReason string
	amount, capturable, received, created, canceledAt                          int64
	charge                                                                     string
	metadata                                                                   map[string]string
}

type charge struct {
	id, intent, currency       string
	amount, captured, refunded int64
	isCaptured                 bool
	created, balanceTxCreated  int64
}

type refund struct {
	id, charge, intent, currency string
	amount, created              int64
	metadata                     map[string]string
}

type setup struct {
	id, customer, secret, status, method string
	metadata                             map[string]string
}

type savedCard struct{ customer, card string }

type answer struct {
	fingerprint string
	status      int
	body        []byte
}

// NewFake starts a fake Stripe telling time by c; Close stops it.
func NewFake(c clock.Clock) *Fake {
	f := &Fake{
		clock:     c,
		intents:   map[string]*intent{},
		charges:   map[string]*charge{},
		refunds:   map[string]*refund{},
		customers: map[string]bool{},
		setups:    map[string]*setup{},
		saved:     map[string]savedCard{},
		sessions:  map[string]*session{},
		keys:      map[string]answer{},
	}
	f.srv = httptest.NewServer(f)
	return f
}

// Close stops the fake.
func (f *Fake) Close() { f.srv.Close() }

// URL is the fake's base URL, for the adapter's Config.BackendURL.
func (f *Fake) URL() string { return f.srv.URL }

// Requests returns the requests received so far, in order.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Events returns the bodies of the webhook events Stripe would have sent so
// far, in the order they happened (sign them with
// webhook.GenerateTestSignedPayload to deliver them).
func (f *Fake) Events() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.events...)
}

// CompleteSetup does what the patient's browser does with a SetupIntent's
// client secret: it saves card (one of the test cards above) to the setup's
// customer and returns the saved card's payment method.
func (f *Fake) CompleteSetup(setupID, card string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.setups[setupID]
	if !ok {
		return "", fmt.Errorf("no SetupIntent %q", setupID)
	}
	if _, ok := f.method(card); !ok {
		return "", fmt.Errorf("no test card %q", card)
	}
	s.method, s.status = f.id("pm"), "succeeded"
	f.saved[s.method] = savedCard{customer: s.customer, card: card}
	return s.method, nil
}

// ServeHTTP serves one request of the Stripe API.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, checkoutPath) {
		f.hostedPage(w, r) // the patient's browser, not the API
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer sk_") {
		write(w, http.StatusUnauthorized, apiError("invalid_request_error", "", "", "Invalid API Key provided"))
		return
	}
	if err := r.ParseForm(); err != nil {
		write(w, http.StatusBadRequest, apiError("invalid_request_error", "", "", "the body is no form"))
		return
	}
	form := r.PostForm
	if r.Method == http.MethodGet {
		form = r.URL.Query()
	}
	key := r.Header.Get("Idempotency-Key")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, IdempotencyKey: key, StripeVersion: r.Header.Get("Stripe-Version"), Form: form})
	fingerprint := r.Method + " " + r.URL.Path + "?" + form.Encode()
	if r.Method == http.MethodPost && key != "" {
		if a, ok := f.keys[key]; ok {
			if a.fingerprint != fingerprint {
				write(w, http.StatusBadRequest, apiError("idempotency_error", "", "", "Keys for idempotent requests can only be used with the same parameters they were first used with."))
				return
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(a.status)
			_, _ = w.Write(a.body)
			return
		}
	}
	status, v, keep := f.route(r.Method, r.URL.Path, form)
	body, _ := json.Marshal(v)
	if r.Method == http.MethodPost && key != "" && keep {
		f.keys[key] = answer{fingerprint: fingerprint, status: status, body: body}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// route serves a request; keep says whether Stripe would keep the answer
// under the idempotency key (it does once the request started executing,
// not for a request that failed validation).
func (f *Fake) route(method, path string, form url.Values) (int, any, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case method == http.MethodPost && path == "/v1/payment_intents":
		return f.createIntent(form)
	case method == http.MethodGet && len(parts) == 3 && parts[1] == "payment_intents":
		in, ok := f.intents[parts[2]]
		if !ok {
			return missing("intent", "payment_intent", parts[2])
		}
		return http.StatusOK, f.renderIntent(in, list(form, "expand")), false
	case method == http.MethodPost && len(parts) == 4 && parts[1] == "payment_intents" && parts[3] == "capture":
		return f.capture(parts[2], form)
	case method == http.MethodPost && len(parts) == 4 && parts[1] == "payment_intents" && parts[3] == "cancel":
		return f.cancel(parts[2], form)
	case method == http.MethodPost && path == "/v1/refunds":
		return f.createRefund(form)
	case method == http.MethodPost && path == "/v1/customers":
		id := f.id("cus")
		f.customers[id] = true
		return http.StatusOK, map[string]any{"id": id, "object": "customer", "created": f.now()}, true
	case method == http.MethodPost && path == "/v1/checkout/sessions":
		return f.createSession(form)
	case method == http.MethodGet && len(parts) == 4 && parts[1] == "checkout" && parts[2] == "sessions":
		return f.retrieveSession(parts[3], form)
	case method == http.MethodPost && path == "/v1/setup_intents":
		return f.createSetup(form)
	case method == http.MethodGet && len(parts) == 3 && parts[1] == "payment_methods":
		cus, ok := f.method(parts[2])
		if !ok {
			return missing("payment_method", "payment_method", parts[2])
		}
		return http.StatusOK, f.renderMethod(parts[2], cus), false
	}
	return http.StatusNotFound, apiError("invalid_request_error", "", "", "Unrecognized request URL ("+method+": "+path+")"), false
}

func (f *Fake) createIntent(form url.Values) (int, any, bool) {
	amount, err := strconv.ParseInt(form.Get("amount"), 10, 64)
	switch {
	case err != nil || amount <= 0:
		return invalid("parameter_invalid_integer", "amount", "Invalid positive integer")
	case amount < 50:
		return invalid("amount_too_small", "amount", "Amount must be at least 50 cents")
	case len(form.Get("currency")) != 3 || strings.ToLower(form.Get("currency")) != form.Get("currency"):
		return invalid("parameter_invalid_empty", "currency", "Invalid currency")
	case form.Get("confirm") != "true":
		return invalid("parameter_missing", "confirm", "the fake confirms at once only")
	}
	capture := form.Get("capture_method")
	if capture == "" {
		capture = "automatic"
	}
	if capture != "automatic" && capture != "automatic_async" && capture != "manual" {
		return invalid("parameter_invalid_empty", "capture_method", "Invalid capture_method")
	}
	pm := form.Get("payment_method")
	owner, ok := f.method(pm)
	if !ok {
		return missing("payment_method", "payment_method", pm)
	}
	if owner != "" && form.Get("customer") != owner {
		return invalid("", "customer", "The provided PaymentMethod belongs to a Customer; pass that Customer")
	}
	offSession := form.Get("off_session") == "true"
	if offSession && form.Get("customer") == "" {
		return invalid("", "off_session", "an off-session payment needs a Customer's saved card")
	}
	in := &intent{
		id: f.id("pi"), amount: amount, currency: form.Get("currency"), capture: capture, created: f.now(),
		customer: form.Get("customer"), method: pm, description: form.Get("description"), metadata: metadata(form),
		status: "requires_payment_method",
	}
	f.intents[in.id] = in
	card := pm
	if s, ok := f.saved[pm]; ok {
		card = s.card
	}
	if card == CardAuthRequired && !offSession {
		in.status = "requires_action"
		f.emit("payment_intent.requires_action", f.renderIntent(in, nil))
		return http.StatusOK, f.renderIntent(in, list(form, "expand")), true
	}
	code, declined := declineCodes[card]
	if card == CardAuthRequired {
		code, declined = "authentication_required", true
	}
	if declined {
		f.emit("payment_intent.payment_failed", f.renderIntent(in, nil))
		e := apiError("card_error", "card_declined", "", "Your card was declined.")
		inner := e["error"].(map[string]any)
		inner["decline_code"] = code
		inner["payment_intent"] = f.renderIntent(in, nil)
		return http.StatusPaymentRequired, e, true
	}
	ch := &charge{id: f.id("ch"), intent: in.id, currency: in.currency, amount: amount, created: f.now()}
	f.charges[ch.id] = ch
	in.charge = ch.id
	if capture == "manual" {
		in.status, in.capturable = "requires_capture", amount
		f.emit("payment_intent.amount_capturable_updated", f.renderIntent(in, nil))
	} else {
		in.status, in.received = "succeeded", amount
		ch.isCaptured, ch.captured, ch.balanceTxCreated = true, amount, f.now()
		f.emit("payment_intent.succeeded", f.renderIntent(in, nil))
	}
	return http.StatusOK, f.renderIntent(in, list(form, "expand")), true
}

func (f *Fake) capture(id string, form url.Values) (int, any, bool) {
	in, ok := f.intents[id]
	if !ok {
		return missing("intent", "payment_intent", id)
	}
	if in.status != "requires_capture" {
		return unexpected(in, "captured")
	}
	amount := in.capturable
	if s := form.Get("amount_to_capture"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return invalid("parameter_invalid_integer", "amount_to_capture", "Invalid positive integer")
		}
		amount = n
	}
	if amount > in.capturable {
		return http.StatusBadRequest, apiError("invalid_request_error", "amount_too_large", "amount_to_capture", "The amount to capture exceeds the amount capturable"), true
	}
	ch := f.charges[in.charge]
	ch.isCaptured, ch.captured, ch.balanceTxCreated = true, amount, f.now()
	in.status, in.received, in.capturable = "succeeded", amount, 0
	f.emit("payment_intent.succeeded", f.renderIntent(in, nil))
	return http.StatusOK, f.renderIntent(in, list(form, "expand")), true
}

func (f *Fake) cancel(id string, form url.Values) (int, any, bool) {
	in, ok := f.intents[id]
	if !ok {
		return missing("intent", "payment_intent", id)
	}
	switch in.status {
	case "succeeded", "canceled", "processing":
		return unexpected(in, "canceled")
	}
	in.status, in.capturable, in.canceledAt, in.cancelReason = "canceled", 0, f.now(), form.Get("cancellation_reason")
	f.emit("payment_intent.canceled", f.renderIntent(in, nil))
	return http.StatusOK, f.renderIntent(in, list(form, "expand")), true
}

func (f *Fake) createRefund(form url.Values) (int, any, bool) {
	id := form.Get("charge")
	if id == "" {
		in, ok := f.intents[form.Get("payment_intent")]
		if !ok {
			return missing("payment_intent", "payment_intent", form.Get("payment_intent"))
		}
		id = in.charge
	}
	ch, ok := f.charges[id]
	if !ok {
		return missing("charge", "charge", id)
	}
	if !ch.isCaptured {
		return http.StatusBadRequest, apiError("invalid_request_error", "charge_not_refundable", "", "The charge is not captured: cancel its payment intent instead"), true
	}
	left := ch.captured - ch.refunded
	if left == 0 {
		return http.StatusBadRequest, apiError("invalid_request_error", "charge_already_refunded", "", "Charge "+ch.id+" has already been refunded."), true
	}
	amount := left
	if s := form.Get("amount"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return invalid("parameter_invalid_integer", "amount", "Invalid positive integer")
		}
		amount = n
	}
	if amount > left {
		return http.StatusBadRequest, apiError("invalid_request_error", "amount_too_large", "amount", fmt.Sprintf("Refund amount (%d) is greater than unrefunded amount on charge (%d)", amount, left)), true
	}
	re := &refund{id: f.id("re"), charge: ch.id, intent: ch.intent, currency: ch.currency, amount: amount, created: f.now(), metadata: metadata(form)}
	f.refunds[re.id] = re
	ch.refunded += amount
	f.emit("refund.created", renderRefund(re))
	f.emit("charge.refunded", f.renderCharge(ch, false))
	return http.StatusOK, renderRefund(re), true
}

func (f *Fake) createSetup(form url.Values) (int, any, bool) {
	cus := form.Get("customer")
	if cus != "" && !f.customers[cus] {
		return missing("customer", "customer", cus)
	}
	if u := form.Get("usage"); u != "" && u != "off_session" && u != "on_session" {
		return invalid("parameter_invalid_empty", "usage", "Invalid usage")
	}
	s := &setup{id: f.id("seti"), customer: cus, status: "requires_payment_method"}
	s.secret = s.id + "_secret_" + strconv.Itoa(f.n)
	f.setups[s.id] = s
	return http.StatusOK, f.renderSetup(s, false), true
}

func (f *Fake) renderSetup(s *setup, expandMethod bool) map[string]any {
	var pm any = nullable(s.method)
	if expandMethod && s.method != "" {
		pm = f.renderMethod(s.method, s.customer)
	}
	return map[string]any{
		"id": s.id, "object": "setup_intent", "customer": nullable(s.customer), "client_secret": s.secret,
		"status": s.status, "usage": "off_session", "payment_method": pm, "metadata": s.metadata, "livemode": false,
	}
}

// cardDetails are the brand and last four digits of the test cards.
var cardDetails = map[string][2]string{
	CardVisa: {"visa", "4242"}, CardMastercard: {"mastercard", "4444"}, CardDeclined: {"visa", "0002"},
	CardInsufficientFund: {"visa", "9995"}, CardAuthRequired: {"visa", "3184"},
}

// renderMethod renders payment method pm, of customer cus if saved, with
// its test card's brand and last four digits.
func (f *Fake) renderMethod(pm, cus string) map[string]any {
	card := pm
	if s, ok := f.saved[pm]; ok {
		card = s.card
	}
	d := cardDetails[card]
	return map[string]any{"id": pm, "object": "payment_method", "type": "card", "customer": nullable(cus),
		"card": map[string]any{"brand": d[0], "last4": d[1], "exp_month": 12, "exp_year": 2034}, "livemode": false}
}

// method reports whether the fake knows payment method pm, and its
// customer if it is a saved card.
func (f *Fake) method(pm string) (string, bool) {
	if s, ok := f.saved[pm]; ok {
		return s.customer, true
	}
	switch pm {
	case CardVisa, CardMastercard, CardDeclined, CardInsufficientFund, CardAuthRequired:
		return "", true
	}
	return "", false
}

func (f *Fake) renderIntent(in *intent, expand []string) map[string]any {
	var latest any
	if in.charge != "" {
		latest = in.charge
		if contains(expand, "latest_charge") || contains(expand, "latest_charge.balance_transaction") {
			latest = f.renderCharge(f.charges[in.charge], contains(expand, "latest_charge.balance_transaction"))
		}
	}
	var canceledAt any
	if in.canceledAt != 0 {
		canceledAt = in.canceledAt
	}
	return map[string]any{
		"id": in.id, "object": "payment_intent", "amount": in.amount, "amount_capturable": in.capturable,
		"amount_received": in.received, "currency": in.currency, "capture_method": in.capture, "status": in.status,
		"created": in.created, "canceled_at": canceledAt, "cancellation_reason": nullable(in.cancelReason),
		"latest_charge": latest, "customer": nullable(in.customer), "payment_method": nullable(in.method),
		"description": nullable(in.description), "metadata": in.metadata, "payment_method_types": []string{"card"},
		"client_secret": in.id + "_secret", "livemode": false,
	}
}

func (f *Fake) renderCharge(ch *charge, expandBalance bool) map[string]any {
	var bt any
	if ch.isCaptured {
		bt = "txn_" + strings.TrimPrefix(ch.id, "ch_")
		if expandBalance {
			bt = map[string]any{"id": bt, "object": "balance_transaction", "amount": ch.captured, "currency": ch.currency, "created": ch.balanceTxCreated, "type": "charge"}
		}
	}
	return map[string]any{
		"id": ch.id, "object": "charge", "amount": ch.amount, "amount_captured": ch.captured, "amount_refunded": ch.refunded,
		"captured": ch.isCaptured, "refunded": ch.isCaptured && ch.refunded == ch.captured, "currency": ch.currency,
		"payment_intent": ch.intent, "created": ch.created, "balance_transaction": bt, "status": "succeeded",
	}
}

func renderRefund(re *refund) map[string]any {
	return map[string]any{
		"id": re.id, "object": "refund", "amount": re.amount, "charge": re.charge, "payment_intent": re.intent,
		"currency": re.currency, "created": re.created, "status": "succeeded", "metadata": re.metadata,
	}
}

// emit records the webhook event Stripe would send about obj.
func (f *Fake) emit(typ string, obj map[string]any) {
	body, _ := json.Marshal(map[string]any{
		"id": f.id("evt"), "object": "event", "api_version": stripego.APIVersion, "created": f.now(),
		"type": typ, "livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": obj},
	})
	f.events = append(f.events, body)
}

func (f *Fake) id(prefix string) string {
	f.n++
	return fmt.Sprintf("%s_fake%06d", prefix, f.n)
}

func (f *Fake) now() int64 { return f.clock.Now().Unix() }

func unexpected(in *intent, verb string) (int, any, bool) {
	return http.StatusBadRequest, apiError("invalid_request_error", "payment_intent_unexpected_state", "",
		"This PaymentIntent could not be "+verb+" because it has a status of "+in.status+"."), true
}

func invalid(code, param, msg string) (int, any, bool) {
	return http.StatusBadRequest, apiError("invalid_request_error", code, param, msg), false
}

func missing(param, what, id string) (int, any, bool) {
	return http.StatusNotFound, apiError("invalid_request_error", "resource_missing", param, "No such "+what+": '"+id+"'"), false
}

func apiError(typ, code, param, msg string) map[string]any {
	e := map[string]any{"type": typ, "message": msg}
	if code != "" {
		e["code"] = code
	}
	if param != "" {
		e["param"] = param
	}
	return map[string]any{"error": e}
}

// list collects a form's array parameter, sent as name[0], name[1]… or
// name[].
func list(form url.Values, name string) []string {
	var keys []string
	for k := range form {
		if k == name+"[]" || (strings.HasPrefix(k, name+"[") && strings.HasSuffix(k, "]")) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, form[k]...)
	}
	return out
}

func metadata(form url.Values) map[string]string { return metadataAt(form, "metadata") }

// metadataAt collects the map parameter prefix[key].
func metadataAt(form url.Values, prefix string) map[string]string {
	m := map[string]string{}
	for k, v := range form {
		if name, ok := strings.CutPrefix(k, prefix+"["); ok && strings.HasSuffix(name, "]") && !strings.Contains(name, "[") && len(v) > 0 {
			m[strings.TrimSuffix(name, "]")] = v[0]
		}
	}
	return m
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
