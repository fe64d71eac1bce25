package billing

import (
	"context"
	"strings"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Ref is an adapter's reference of one payment at its provider (a Stripe
// PaymentIntent's ID, a desk payment's number). It is opaque to carebook.
type Ref string

// MethodKind is how a patient pays.
type MethodKind string

// The kinds of payment method.
const (
	MethodCardOnline     MethodKind = "card_online"     // a card through the provider's hosted fields or a card on file
	MethodCash           MethodKind = "cash"            // cash at the desk
	MethodCardTerminal   MethodKind = "card_terminal"   // a card on the practice's own terminal
	MethodCheque         MethodKind = "cheque"          // a cheque at the desk
	MethodInsuranceCopay MethodKind = "insurance_copay" // the copay of an insurance plan, taken at the desk
)

// Valid reports whether k is one of the method kinds above.
func (k MethodKind) Valid() bool {
	switch k {
	case MethodCardOnline, MethodCash, MethodCardTerminal, MethodCheque, MethodInsuranceCopay:
		return true
	}
	return false
}

// AtDesk reports whether k is taken at the front desk (billing/offline)
// rather than through an online provider.
func (k MethodKind) AtDesk() bool { return k.Valid() && k != MethodCardOnline }

// Method is the means of one payment.
type Method struct {
	Kind MethodKind
	// Token is the provider's handle of the card for an online payment (a
	// payment method or a saved card's ID); never a card number.
	Token string
	// Reference is what identifies a desk payment outside carebook: the
	// terminal's slip number, the cheque's number, the insurance claim.
	Reference string
	// OffSession is true when the patient is not present (a fee charged to
	// a card on file).
	OffSession bool
}

// Validate checks m's kind for operation op; errors name "method.kind".
func (m Method) Validate(op string) error {
	if !m.Kind.Valid() {
		return errs.Invalid(op, "method.kind", "unknown payment method "+quote(string(m.Kind)))
	}
	return nil
}

// Charge asks an adapter to hold (Authorize) or take (Purchase) money.
type Charge struct {
	Payment PaymentID // the payment this charge belongs to
	Amount  Money     // more than zero
	Method  Method
	Key     Key         // derived from the payment: Payment.KeyFor
	By      actor.Actor // who takes the payment (the desk operator, or the patient online)
	// Description is shown by the provider (on a statement, in its
	// dashboard); it holds no clinical detail.
	Description string
}

// Validate checks the parts of c every adapter needs, for operation op:
// the amount (more than zero, known currency), the method's kind and the
// key. Errors are of errs.KindInvalid and name the field.
func (c Charge) Validate(op string) error {
	if err := positive(op, "amount", c.Amount); err != nil {
		return err
	}
	if err := c.Method.Validate(op); err != nil {
		return err
	}
	return c.Key.Validate(op)
}

// FollowUp asks an adapter to capture, cancel or refund the payment Ref
// opened by an earlier Authorize or Purchase.
type FollowUp struct {
	Ref    Ref
	Amount Money // for Capture and Refund: more than zero; for Cancel: zero (with or without a currency) for the whole hold, or exactly the hold
	Key    Key
	By     actor.Actor
	Reason string // why (a refund's or a cancellation's reason), kept in the ledger
}

// Validate checks f for operation op: a Ref, the key, and an amount of a
// known currency that is more than zero unless zero is allowed. Errors are
// of errs.KindInvalid and name the field.
func (f FollowUp) Validate(op string, zeroAllowed bool) error {
	if f.Ref == "" {
		return errs.Invalid(op, "ref", "the payment's reference is required")
	}
	if zeroAllowed && f.Amount.IsZero() && (f.Amount.Currency == "" || f.Amount.Currency.Known()) {
		return f.Key.Validate(op)
	}
	if err := f.Amount.Validate(op, "amount"); err != nil {
		return err
	}
	if !zeroAllowed {
		if err := positive(op, "amount", f.Amount); err != nil {
			return err
		}
	}
	return f.Key.Validate(op)
}

// Result is what an adapter did: the ledger entry the caller records
// (Payment.Record).
type Result struct {
	Ref    Ref       // the payment at the provider
	Kind   EntryKind // authorized, charged, captured, canceled or refunded
	Amount Money     // what moved: the hold, the capture, the refund, the released hold
	// ProviderTx is the provider's ID of this operation (a charge, a
	// refund), for reconciliation; it may equal Ref.
	ProviderTx string
	At         time.Time // when the provider did it, from the adapter's clock
}

// Adapter takes payments through one provider. Integrators implement it for
// their provider; billing/offline implements it for the desk.
//
// The contract every implementation keeps (billing/billingtest checks it):
//   - Every method is safe for concurrent use and honours ctx's deadline.
//   - Idempotency: a call whose key already succeeded returns the Result of
//     that first call and moves no money again, also when the calls race.
//     A key reused for a different request (another operation, payment,
//     amount) is refused with errs.KindConflict naming "key". A call that
//     failed moved no money and may be retried with the same key.
//   - Amounts are in the payment's currency: another currency is refused
//     with errs.KindInvalid naming "amount.currency"; an amount that is not
//     more than zero, or a currency carebook does not know, with
//     errs.KindInvalid naming "amount" or "currency".
//   - Authorize holds Amount without taking it. Capture takes all or part of
//     the hold and releases the rest (the hold is then closed); a capture
//     above the hold, or of a hold already captured or canceled, is refused
//     with errs.KindConflict. Cancel releases a hold nothing was captured
//     from; after a capture it is refused with errs.KindConflict.
//   - Purchase takes Amount at once.
//   - Refund returns all or part of what was taken; refunds never exceed what
//     was captured or purchased, the excess is refused with
//     errs.KindConflict and nothing is refunded.
//   - An unknown Ref is errs.KindNotFound. A card the provider declines is
//     errs.KindPreconditionFailed naming "method".
//   - Results are in the request's currency; At comes from the adapter's
//     injected clock or the provider's answer.
type Adapter interface {
	Authorize(ctx context.Context, c Charge) (Result, error)
	Capture(ctx context.Context, f FollowUp) (Result, error)
	Purchase(ctx context.Context, c Charge) (Result, error)
	Cancel(ctx context.Context, f FollowUp) (Result, error)
	Refund(ctx context.Context, f FollowUp) (Result, error)
}

// CardSetup asks a CardSaver to save a patient's card for later charges.
type CardSetup struct {
	// Customer is the patient's handle at the provider ("" lets the
	// provider make one).
	Customer string
	Key      Key // the same retry sends the same key
}

// SavedCard is a card saved, or being saved, for later off-session charges.
type SavedCard struct {
	// ID is the provider's handle of the setup; once the patient completed
	// it, Token charges the card (Method.Token with OffSession set).
	ID    string
	Token string
	// ClientSecret lets the patient's browser complete the setup in the
	// provider's hosted fields; it is never stored by carebook.
	ClientSecret string
}

// CardSaver is an optional capability of an Adapter: saving a card for
// later charges made when the patient is not present (no-show fees). Find
// it with a type assertion. SetupCard keeps the Adapter's idempotency
// contract: the same key returns the same SavedCard.
type CardSaver interface {
	SetupCard(ctx context.Context, s CardSetup) (SavedCard, error)
}

// OpCheckout is the operation of a HostedCheckout's session; its keys are
// DeriveKey(payment, OpCheckout, attempt).
const OpCheckout Operation = "checkout"

// CheckoutRequest asks a HostedCheckout for a page at the provider where
// the patient pays Amount of a carebook payment.
type CheckoutRequest struct {
	Practice tenant.PracticeID // the payment's practice, named in the provider's metadata
	Payment  PaymentID         // the payment, named in the provider's metadata
	Amount   Money             // more than zero
	// Key is DeriveKey(Payment, OpCheckout, attempt): the same attempt
	// retried gets the same session.
	Key Key
	// SuccessURL and CancelURL are the absolute http or https pages of
	// carebook the provider sends the patient back to.
	SuccessURL, CancelURL string
	// Description is what the patient reads on the provider's page; it
	// holds no clinical detail.
	Description string
}

// Validate checks r for operation op: the practice, the payment, the
// amount, the key and both return URLs. Errors are of errs.KindInvalid and
// name the field ("practice", "payment", "amount", "key", "success_url",
// "cancel_url").
func (r CheckoutRequest) Validate(op string) error {
	if r.Practice == uuid.Nil {
		return errs.Invalid(op, "practice", "the payment's practice is required")
	}
	if r.Payment == uuid.Nil {
		return errs.Invalid(op, "payment", "a payment ID is required")
	}
	if err := positive(op, "amount", r.Amount); err != nil {
		return err
	}
	if err := r.Key.Validate(op); err != nil {
		return err
	}
	return returnURLs(op, r.SuccessURL, r.CancelURL)
}

// CheckoutSession is a page at the provider where the patient pays.
type CheckoutSession struct {
	ID  string // the provider's ID of the session
	URL string // where to send the patient's browser
	// ExpiresAt is when the page stops taking the payment; zero if the
	// provider does not say.
	ExpiresAt time.Time
}

// HostedCheckout is an optional capability of an Adapter: a page hosted by
// the provider where the patient types their card (no card number ever
// reaches carebook). Find it with a type assertion.
//
// The contract: StartCheckout moves no money; the payment is taken when
// the patient pays on the page, and the provider's webhook (through the
// adapter's WebhookVerifier, which a HostedCheckout also implements) tells
// of it as an Event naming Practice and Payment, with an EntryCharged
// Result whose Ref is the payment at the provider; a page that expires
// unpaid is an Event naming the payment with no Result. The same key
// returns the same session, also when calls race; a key reused with
// another request is errs.KindConflict naming "key". Bad requests are
// refused as CheckoutRequest.Validate does, before asking the provider.
type HostedCheckout interface {
	WebhookVerifier
	StartCheckout(ctx context.Context, r CheckoutRequest) (CheckoutSession, error)
}

// Header reads one header of a provider's webhook request; http.Header
// satisfies it, and so does MapHeader.
type Header interface {
	Get(name string) string
}

// MapHeader is a Header over a plain map, matched without regard to case.
type MapHeader map[string]string

// Get returns the value of the header called name, matched without regard
// to case, or "".
func (h MapHeader) Get(name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Event is a provider's webhook event, verified and parsed.
type Event struct {
	ID     string // the provider's ID of the event: applied once, however often delivered
	Type   string // the provider's event type, such as "payment_intent.succeeded"
	Ref    Ref    // the payment it is about, "" if none
	Result Result // the ledger effect it reports, zero Kind if none
	// Practice and Payment are the carebook payment the event names in
	// the provider's metadata (a hosted checkout's, whose Ref is known
	// only once it is paid); zero if none.
	Practice tenant.PracticeID
	Payment  PaymentID
	// Setup is the ID of a SetupCheckout's session that saved a card for
	// Practice (Ref and Payment are then empty); "" if none.
	Setup string
}

// WebhookVerifier is an optional capability of an Adapter: verifying and
// parsing the provider's webhook requests from the body's bytes and the
// request's headers (so the domain needs no net/http). A body that fails
// verification (a bad or stale signature, a wrong secret) is refused with
// errs.KindUnauthenticated; one that verifies but cannot be parsed with
// errs.KindInvalid. It is safe for concurrent use and never changes state:
// applying the event is the caller's work.
type WebhookVerifier interface {
	ParseWebhook(body []byte, h Header) (Event, error)
}

func positive(op, field string, m Money) error {
	if err := m.Validate(op, field); err != nil {
		return err
	}
	if m.Amount == 0 {
		return errs.Invalid(op, field, "the amount must be more than zero")
	}
	return nil
}

func quote(s string) string { return "\"" + s + "\"" }
