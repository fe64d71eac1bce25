// Package stripe is the billing.Adapter of online card payments through
// Stripe (github.com/stripe/stripe-go/v85), with its optional capabilities
// billing.CardSaver (a card saved for off-session fees) and
// billing.WebhookVerifier (Stripe's signed webhook events).
//
// Every payment is a PaymentIntent: Authorize creates and confirms one with
// capture_method=manual (a hold), Purchase one captured at once; Capture
// takes all or part of the hold (Stripe releases the rest), Cancel releases
// it, Refund gives back all or part of the intent's charge. The Ref of a
// payment is its PaymentIntent's ID. Amounts go to Stripe in integer minor
// units with the currency in lower case.
//
// Every mutating request carries the caller's billing.Key as its
// Idempotency-Key, so that Stripe answers a retry with the first answer and
// moves no money twice; the SDK would send a random key otherwise. Where
// Stripe would take what the contract refuses (an amount in another
// currency than the payment's, a refund of a hold), the adapter reads the
// PaymentIntent first and refuses it itself, by checks that a replay of a
// step that succeeded also passes.
//
// Stripe keeps a key's answer for at least 24 hours: a retry later than
// that is a new request to Stripe, so a step left unanswered for a day is
// settled by its webhook events (or by looking at the PaymentIntent in
// Stripe's dashboard) rather than by a retry. Calls that race under one key
// are answered once by Stripe; while the first runs Stripe answers the
// others with 409, which the SDK retries (Config.Retries) and which is
// errs.KindConflict, naming no field, if the first is still running then.
//
// The adapter keeps no state: it is safe for concurrent use, and as many
// adapters as replicas may share one Stripe account.
package stripe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
	stripego "github.com/stripe/stripe-go/v85"
)

// APIVersion is the Stripe API version the adapter speaks: the SDK sends it
// on every request, and webhook events must be of its release train (create
// the webhook endpoint with this version).
const APIVersion = stripego.APIVersion

// MetadataPayment is the metadata key of a PaymentIntent that holds the
// carebook payment's ID; MetadataReason that of a refund's reason.
const (
	MetadataPayment = "carebook_payment"
	MetadataReason  = "carebook_reason"
)

// maxMetadataValue is the longest metadata value Stripe keeps.
const maxMetadataValue = 500

// Config is what the adapter needs; only SecretKey and Clock are required.
type Config struct {
	// SecretKey is the account's secret (sk_…) or restricted (rk_…) key.
	SecretKey string
	// WebhookSecret is the webhook endpoint's signing secret (whsec_…);
	// without it ParseWebhook refuses every body.
	WebhookSecret string
	// BackendURL replaces https://api.stripe.com (stripe-mock, a fake).
	BackendURL string
	// Clock tells the time of results Stripe gives none for and judges the
	// age of webhook signatures.
	Clock clock.Clock
	// HTTPClient makes the requests; nil is the SDK's client (80 s timeout).
	HTTPClient *http.Client
	// Retries is how many times the SDK retries a request that failed on
	// the network or that Stripe asked to retry, under the same key: 0 is
	// the SDK's default (2), a negative number none.
	Retries int
	// WebhookTolerance is how far a webhook signature's time may be from
	// the clock's; 0 is five minutes.
	WebhookTolerance time.Duration
}

// DefaultWebhookTolerance is the WebhookTolerance of a zero Config.
const DefaultWebhookTolerance = 5 * time.Minute

// Adapter takes card payments through Stripe. It is safe for concurrent
// use.
type Adapter struct {
	sc            *stripego.Client
	clock         clock.Clock
	webhookSecret string
	tolerance     time.Duration
}

var (
	_ billing.Adapter         = (*Adapter)(nil)
	_ billing.CardSaver       = (*Adapter)(nil)
	_ billing.WebhookVerifier = (*Adapter)(nil)
)

// New returns an adapter for cfg, or an error of errs.KindInvalid naming
// the field ("secret_key", "clock", "backend_url", "webhook_tolerance").
func New(cfg Config) (*Adapter, error) {
	const op = "stripe.New"
	if strings.TrimSpace(cfg.SecretKey) == "" {
		return nil, errs.Invalid(op, "secret_key", "a Stripe secret key is required")
	}
	if cfg.Clock == nil {
		return nil, errs.Invalid(op, "clock", "a clock is required")
	}
	if cfg.WebhookTolerance < 0 {
		return nil, errs.Invalid(op, "webhook_tolerance", "the tolerance must not be negative")
	}
	bc := &stripego.BackendConfig{
		HTTPClient:    cfg.HTTPClient,
		LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
	}
	if cfg.BackendURL != "" {
		u, err := url.Parse(cfg.BackendURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errs.Invalid(op, "backend_url", "the backend URL must be an absolute http or https URL")
		}
		bc.URL = stripego.String(strings.TrimRight(cfg.BackendURL, "/"))
	}
	switch {
	case cfg.Retries < 0:
		bc.MaxNetworkRetries = stripego.Int64(0)
	case cfg.Retries > 0:
		bc.MaxNetworkRetries = stripego.Int64(int64(cfg.Retries))
	}
	tolerance := cfg.WebhookTolerance
	if tolerance == 0 {
		tolerance = DefaultWebhookTolerance
	}
	return &Adapter{
		sc:            stripego.NewClient(cfg.SecretKey, stripego.WithBackends(stripego.NewBackendsWithConfig(bc))),
		clock:         cfg.Clock,
		webhookSecret: cfg.WebhookSecret,
		tolerance:     tolerance,
	}, nil
}

// Authorize holds c.Amount on the card c.Method.Token (a PaymentMethod's
// ID, pm_…): a PaymentIntent with capture_method=manual, confirmed at once.
// A card Stripe declines, or one that needs the patient's authentication,
// is refused with errs.KindPreconditionFailed naming "method".
func (a *Adapter) Authorize(ctx context.Context, c billing.Charge) (billing.Result, error) {
	return a.open(ctx, "stripe.Authorize", c, true)
}

// Purchase takes c.Amount from the card at once: a PaymentIntent captured
// automatically, confirmed at once. With c.Method.OffSession the charge is
// made while the patient is away (a fee on a card saved by SetupCard).
func (a *Adapter) Purchase(ctx context.Context, c billing.Charge) (billing.Result, error) {
	return a.open(ctx, "stripe.Purchase", c, false)
}

func (a *Adapter) open(ctx context.Context, op string, c billing.Charge, hold bool) (billing.Result, error) {
	if err := c.Validate(op); err != nil {
		return billing.Result{}, err
	}
	if c.Payment == uuid.Nil {
		return billing.Result{}, errs.Invalid(op, "payment", "a payment ID is required")
	}
	if c.Method.Kind != billing.MethodCardOnline {
		return billing.Result{}, errs.Invalid(op, "method.kind", "Stripe takes online card payments, not "+string(c.Method.Kind))
	}
	if c.Method.Token == "" {
		return billing.Result{}, errs.Invalid(op, "method.token", "the card's payment method is required")
	}
	if err := stripeAmount(op, "amount", c.Amount); err != nil {
		return billing.Result{}, err
	}
	p := &stripego.PaymentIntentCreateParams{
		Amount:             stripego.Int64(c.Amount.Amount),
		Currency:           stripego.String(strings.ToLower(string(c.Amount.Currency))),
		PaymentMethod:      stripego.String(c.Method.Token),
		PaymentMethodTypes: []*string{stripego.String("card")},
		Confirm:            stripego.Bool(true),
		CaptureMethod:      stripego.String(string(stripego.PaymentIntentCaptureMethodAutomatic)),
		Metadata:           map[string]string{MetadataPayment: c.Payment.String()},
	}
	if hold {
		p.CaptureMethod = stripego.String(string(stripego.PaymentIntentCaptureMethodManual))
	}
	if c.Description != "" {
		p.Description = stripego.String(c.Description)
	}
	if c.Method.OffSession {
		// A saved card belongs to its customer, whom Stripe wants named.
		pm, err := a.sc.V1PaymentMethods.Retrieve(ctx, c.Method.Token, nil)
		if err != nil {
			return billing.Result{}, stripeError(op, err, false)
		}
		if pm.Customer != nil && pm.Customer.ID != "" {
			p.Customer = stripego.String(pm.Customer.ID)
		}
		p.OffSession = stripego.Bool(true)
	}
	p.SetIdempotencyKey(string(c.Key))
	pi, err := a.sc.V1PaymentIntents.Create(ctx, p)
	if err != nil {
		return billing.Result{}, stripeError(op, err, false)
	}
	want, kind, got := stripego.PaymentIntentStatusSucceeded, billing.EntryCharged, pi.AmountReceived
	if hold {
		want, kind, got = stripego.PaymentIntentStatusRequiresCapture, billing.EntryAuthorized, pi.AmountCapturable
	}
	if pi.Status != want {
		return billing.Result{}, &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "method", Msg: notCharged(pi.Status)}
	}
	if err := sameMoney(op, pi, got, c.Amount); err != nil {
		return billing.Result{}, err
	}
	return billing.Result{Ref: billing.Ref(pi.ID), Kind: kind, Amount: c.Amount, ProviderTx: chargeID(pi), At: a.at(pi.Created)}, nil
}

// notCharged says why a confirmed PaymentIntent holds or took nothing.
func notCharged(s stripego.PaymentIntentStatus) string {
	switch s {
	case stripego.PaymentIntentStatusRequiresAction:
		return "the card needs the patient's authentication (3-D Secure) before it can be charged"
	case stripego.PaymentIntentStatusProcessing:
		return "the payment is still processing at Stripe"
	}
	return "the card was not charged: the payment is " + string(s)
}

// Capture takes f.Amount from the hold f.Ref; Stripe releases the rest and
// closes the hold. A capture above the hold, or of a hold canceled or
// already captured, is refused with errs.KindConflict.
func (a *Adapter) Capture(ctx context.Context, f billing.FollowUp) (billing.Result, error) {
	const op = "stripe.Capture"
	pi, err := a.intent(ctx, op, f, false)
	if err != nil {
		return billing.Result{}, err
	}
	switch {
	case pi.Status == stripego.PaymentIntentStatusCanceled:
		return billing.Result{}, errs.Conflict(op, "the hold was canceled")
	case f.Amount.Amount > pi.Amount:
		return billing.Result{}, errs.Conflict(op, "the capture of "+f.Amount.String()+" exceeds the hold of "+money(pi.Amount, f.Amount.Currency).String())
	}
	p := &stripego.PaymentIntentCaptureParams{AmountToCapture: stripego.Int64(f.Amount.Amount)}
	p.AddExpand("latest_charge.balance_transaction")
	p.SetIdempotencyKey(string(f.Key))
	pi, err = a.sc.V1PaymentIntents.Capture(ctx, string(f.Ref), p)
	if err != nil {
		return billing.Result{}, stripeError(op, err, true)
	}
	if pi.Status != stripego.PaymentIntentStatusSucceeded {
		return billing.Result{}, errs.E(errs.KindInternal, op, "Stripe answered the capture with a payment "+string(pi.Status))
	}
	if err := sameMoney(op, pi, pi.AmountReceived, f.Amount); err != nil {
		return billing.Result{}, err
	}
	// The capture's time is its balance transaction's: a replay of the
	// capture answers the same.
	var at int64
	if ch := pi.LatestCharge; ch != nil && ch.BalanceTransaction != nil {
		at = ch.BalanceTransaction.Created
	}
	return billing.Result{Ref: f.Ref, Kind: billing.EntryCaptured, Amount: f.Amount, ProviderTx: chargeID(pi), At: a.at(at)}, nil
}

// Cancel releases the hold f.Ref, whose amount f.Amount names (or zero for
// the whole hold; part of it is refused with errs.KindInvalid naming
// "amount"). A hold captured, or a payment that holds nothing, is refused
// with errs.KindConflict.
func (a *Adapter) Cancel(ctx context.Context, f billing.FollowUp) (billing.Result, error) {
	const op = "stripe.Cancel"
	pi, err := a.intent(ctx, op, f, true)
	if err != nil {
		return billing.Result{}, err
	}
	held := money(pi.Amount, currencyOf(pi.Currency))
	switch {
	case !f.Amount.IsZero() && f.Amount.Amount != pi.Amount:
		return billing.Result{}, errs.Invalid(op, "amount", "a cancellation releases the whole hold of "+held.String())
	case pi.Status == stripego.PaymentIntentStatusSucceeded:
		return billing.Result{}, errs.Conflict(op, "the payment was captured and cannot be canceled; refund it")
	case pi.Status != stripego.PaymentIntentStatusRequiresCapture && pi.Status != stripego.PaymentIntentStatusCanceled:
		return billing.Result{}, errs.Conflict(op, "no open hold to cancel: the payment is "+string(pi.Status))
	}
	p := &stripego.PaymentIntentCancelParams{}
	p.SetIdempotencyKey(string(f.Key))
	pi, err = a.sc.V1PaymentIntents.Cancel(ctx, string(f.Ref), p)
	if err != nil {
		return billing.Result{}, stripeError(op, err, true)
	}
	if pi.Status != stripego.PaymentIntentStatusCanceled {
		return billing.Result{}, errs.E(errs.KindInternal, op, "Stripe answered the cancellation with a payment "+string(pi.Status))
	}
	return billing.Result{Ref: f.Ref, Kind: billing.EntryCanceled, Amount: held, ProviderTx: pi.ID, At: a.at(pi.CanceledAt)}, nil
}

// Refund gives back f.Amount of what the payment f.Ref took: a refund of
// its charge. Refunds beyond what was taken, or of a hold not captured, are
// refused with errs.KindConflict and refund nothing.
func (a *Adapter) Refund(ctx context.Context, f billing.FollowUp) (billing.Result, error) {
	const op = "stripe.Refund"
	pi, err := a.intent(ctx, op, f, false)
	if err != nil {
		return billing.Result{}, err
	}
	switch {
	case pi.Status != stripego.PaymentIntentStatusSucceeded:
		return billing.Result{}, errs.Conflict(op, "nothing was taken to refund: the payment is "+string(pi.Status))
	case f.Amount.Amount > pi.AmountReceived:
		return billing.Result{}, errs.Conflict(op, "the refund of "+f.Amount.String()+" exceeds the "+money(pi.AmountReceived, f.Amount.Currency).String()+" taken")
	}
	if len(f.Reason) > maxMetadataValue {
		return billing.Result{}, errs.Invalid(op, "reason", "the reason is longer than "+strconv.Itoa(maxMetadataValue)+" characters")
	}
	charge := chargeID(pi)
	if charge == pi.ID {
		return billing.Result{}, errs.E(errs.KindInternal, op, "Stripe shows no charge of the payment")
	}
	p := &stripego.RefundCreateParams{Charge: stripego.String(charge), Amount: stripego.Int64(f.Amount.Amount)}
	if f.Reason != "" {
		p.Metadata = map[string]string{MetadataReason: f.Reason}
	}
	p.SetIdempotencyKey(string(f.Key))
	r, err := a.sc.V1Refunds.Create(ctx, p)
	if err != nil {
		return billing.Result{}, stripeError(op, err, true)
	}
	switch r.Status {
	case stripego.RefundStatusFailed, stripego.RefundStatusCanceled:
		return billing.Result{}, errs.E(errs.KindInternal, op, "Stripe answered the refund as "+string(r.Status))
	}
	if r.Amount != f.Amount.Amount || currencyOf(r.Currency) != f.Amount.Currency {
		return billing.Result{}, errs.E(errs.KindInternal, op, "Stripe refunded "+money(r.Amount, currencyOf(r.Currency)).String()+", not "+f.Amount.String())
	}
	return billing.Result{Ref: f.Ref, Kind: billing.EntryRefunded, Amount: f.Amount, ProviderTx: r.ID, At: a.at(r.Created)}, nil
}

// intent checks f and reads its PaymentIntent (with its latest charge): an
// unknown Ref is errs.KindNotFound, an amount in another currency
// errs.KindInvalid naming "amount.currency".
func (a *Adapter) intent(ctx context.Context, op string, f billing.FollowUp, zeroAllowed bool) (*stripego.PaymentIntent, error) {
	if err := f.Validate(op, zeroAllowed); err != nil {
		return nil, err
	}
	if strings.ContainsAny(string(f.Ref), "/?#%") {
		return nil, errs.NotFound(op, "payment")
	}
	p := &stripego.PaymentIntentRetrieveParams{}
	p.AddExpand("latest_charge")
	pi, err := a.sc.V1PaymentIntents.Retrieve(ctx, string(f.Ref), p)
	if err != nil {
		return nil, stripeError(op, err, true)
	}
	if cur := currencyOf(pi.Currency); f.Amount.Currency != "" && f.Amount.Currency != cur {
		return nil, errs.Invalid(op, "amount.currency", "the amount is in "+string(f.Amount.Currency)+", the payment in "+string(cur))
	}
	if !f.Amount.IsZero() {
		if err := stripeAmount(op, "amount", f.Amount); err != nil {
			return nil, err
		}
	}
	return pi, nil
}

// SetupCard starts saving a card for off-session charges: a SetupIntent
// (usage off_session) for s.Customer, or for a new Customer made under a
// key derived from s.Key. The patient completes it in Stripe's hosted
// fields with ClientSecret; then the SetupIntent's payment method (Token,
// once set) charges the card with Method.OffSession.
func (a *Adapter) SetupCard(ctx context.Context, s billing.CardSetup) (billing.SavedCard, error) {
	const op = "stripe.SetupCard"
	if err := s.Key.Validate(op); err != nil {
		return billing.SavedCard{}, err
	}
	customer := s.Customer
	if customer == "" {
		cp := &stripego.CustomerCreateParams{}
		cp.SetIdempotencyKey(customerKey(s.Key))
		cus, err := a.sc.V1Customers.Create(ctx, cp)
		if err != nil {
			return billing.SavedCard{}, stripeError(op, err, false)
		}
		customer = cus.ID
	}
	p := &stripego.SetupIntentCreateParams{
		Customer:           stripego.String(customer),
		Usage:              stripego.String("off_session"),
		PaymentMethodTypes: []*string{stripego.String("card")},
	}
	p.SetIdempotencyKey(string(s.Key))
	si, err := a.sc.V1SetupIntents.Create(ctx, p)
	if err != nil {
		return billing.SavedCard{}, stripeError(op, err, false)
	}
	saved := billing.SavedCard{ID: si.ID, ClientSecret: si.ClientSecret}
	if si.PaymentMethod != nil {
		saved.Token = si.PaymentMethod.ID
	}
	return saved, nil
}

// customerKey is the idempotency key of the Customer SetupCard makes for
// the setup of key: another key than the setup's own, as long whatever
// key's length.
func customerKey(key billing.Key) string {
	sum := sha256.Sum256([]byte(key))
	return "carebook-customer-" + hex.EncodeToString(sum[:])
}

// stripeAmount refuses what Stripe counts otherwise than ISO 4217: it takes
// amounts of three-decimal currencies in whole tens of minor units, and ISK
// and UGX as if they had two decimals (which carebook's Money does not do).
func stripeAmount(op, field string, m billing.Money) error {
	switch m.Currency {
	case "ISK", "UGX":
		return errs.Invalid(op, currencyField(field), "the Stripe adapter does not take "+string(m.Currency)+", which Stripe counts in hundredths")
	}
	if n, _ := m.Currency.MinorUnits(); n == 3 && m.Amount%10 != 0 {
		return errs.Invalid(op, field, "Stripe takes "+string(m.Currency)+" in whole tens of its minor unit")
	}
	return nil
}

func currencyField(field string) string {
	if field == "amount" {
		return "currency"
	}
	return field + ".currency"
}

// sameMoney checks that Stripe moved amount in m's currency, as asked.
func sameMoney(op string, pi *stripego.PaymentIntent, amount int64, m billing.Money) error {
	if amount != m.Amount || currencyOf(pi.Currency) != m.Currency {
		return errs.E(errs.KindInternal, op, "Stripe moved "+money(amount, currencyOf(pi.Currency)).String()+", not "+m.String())
	}
	return nil
}

// chargeID is the ID of the PaymentIntent's latest charge, or the intent's
// own if it has none.
func chargeID(pi *stripego.PaymentIntent) string {
	if pi.LatestCharge != nil && pi.LatestCharge.ID != "" {
		return pi.LatestCharge.ID
	}
	return pi.ID
}

func currencyOf(c stripego.Currency) billing.Currency {
	return billing.Currency(strings.ToUpper(string(c)))
}

func money(amount int64, c billing.Currency) billing.Money {
	return billing.Money{Amount: amount, Currency: c}
}

// at is the time of a Stripe timestamp (seconds), or the clock's when
// Stripe gave none.
func (a *Adapter) at(unix int64) time.Time {
	if unix <= 0 {
		return a.clock.Now().UTC()
	}
	return time.Unix(unix, 0).UTC()
}

// stripeError translates an error of the SDK by Stripe's error type and
// code. A follow-up's (capture, cancel, refund) refusal that is about the
// amount, once the adapter checked it, is about the payment's state.
func stripeError(op string, err error, followUp bool) error {
	var se *stripego.Error
	if !errors.As(err, &se) {
		return errs.Wrap(errs.KindInternal, op, "Stripe could not be reached", err)
	}
	e := &errs.Error{Op: op, Msg: se.Msg, Err: err}
	switch {
	case se.Type == stripego.ErrorTypeCard:
		e.Kind, e.Field = errs.KindPreconditionFailed, "method"
		e.Msg = "the card was declined"
		if se.DeclineCode != "" {
			e.Msg += " (" + string(se.DeclineCode) + ")"
		} else if se.Code != "" {
			e.Msg += " (" + string(se.Code) + ")"
		}
	case se.Type == stripego.ErrorTypeIdempotency:
		e.Kind, e.Field = errs.KindConflict, "key"
		e.Msg = "the idempotency key was used for another request"
	case se.Code == stripego.ErrorCodeIdempotencyKeyInUse:
		e.Kind = errs.KindConflict
		e.Msg = "a request under this idempotency key is still running at Stripe; retry it"
	case se.Code == stripego.ErrorCodeResourceMissing && (se.Param == "payment_method" || strings.HasPrefix(se.Param, "payment_method")):
		e.Kind, e.Field = errs.KindInvalid, "method.token"
		e.Msg = "Stripe knows no such payment method"
	case se.Code == stripego.ErrorCodeResourceMissing:
		e.Kind, e.Msg = errs.KindNotFound, "payment not found"
	case conflictCodes[se.Code]:
		e.Kind = errs.KindConflict
	case followUp && se.Type == stripego.ErrorTypeInvalidRequest && (se.Param == "amount" || se.Param == "amount_to_capture"):
		e.Kind = errs.KindConflict
	case se.HTTPStatusCode == http.StatusTooManyRequests:
		e.Kind, e.Msg = errs.KindRateLimited, "Stripe asks to slow down; retry later"
	case se.HTTPStatusCode == http.StatusUnauthorized || se.HTTPStatusCode == http.StatusForbidden:
		e.Kind, e.Msg = errs.KindInternal, "Stripe refused the adapter's secret key"
	case se.Type == stripego.ErrorTypeInvalidRequest && se.HTTPStatusCode < 500:
		e.Kind, e.Field = errs.KindInvalid, fieldOf(se.Param)
	default:
		e.Kind, e.Msg = errs.KindInternal, "Stripe failed (status "+strconv.Itoa(se.HTTPStatusCode)+")"
	}
	return e
}

// conflictCodes are Stripe's error codes of a request the payment's state
// forbids.
var conflictCodes = map[stripego.ErrorCode]bool{
	stripego.ErrorCodePaymentIntentUnexpectedState:      true,
	stripego.ErrorCodeIntentInvalidState:                true,
	stripego.ErrorCodeChargeAlreadyCaptured:             true,
	stripego.ErrorCodeChargeAlreadyRefunded:             true,
	stripego.ErrorCodeChargeNotRefundable:               true,
	stripego.ErrorCodeChargeExpiredForCapture:           true,
	stripego.ErrorCodeCaptureChargeAuthorizationExpired: true,
	stripego.ErrorCodeCaptureUnauthorizedPayment:        true,
	stripego.ErrorCodeChargeDisputed:                    true,
	stripego.ErrorCodeRefundDisputedPayment:             true,
}

// fieldOf names carebook's field for a Stripe parameter.
func fieldOf(param string) string {
	switch {
	case param == "amount" || param == "amount_to_capture":
		return "amount"
	case param == "currency":
		return "currency"
	case strings.HasPrefix(param, "payment_method"):
		return "method.token"
	case param == "customer":
		return "customer"
	}
	return ""
}
