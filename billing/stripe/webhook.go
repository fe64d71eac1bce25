package stripe

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	stripego "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"
)

// SignatureHeader is the header of Stripe's webhook signature.
const SignatureHeader = "Stripe-Signature"

// ParseWebhook verifies a webhook request's body against its
// Stripe-Signature header (webhook.ConstructEvent, with the signature's
// age judged by the adapter's clock) and parses its event.
//
// A body whose signature is missing, wrong, or older or newer than the
// tolerance is refused with errs.KindUnauthenticated; one that verifies but
// is no event of the adapter's API release train, or whose object cannot be
// read, with errs.KindInvalid.
//
// Event.ID is Stripe's evt_… ID. Stripe delivers an event at least once and
// in no set order (a refund's event may come before its payment's), so the
// caller applies each ID once and matches a Result to the ledger by Kind and
// ProviderTx, which are those the adapter's own calls return: the charge's
// ID (ch_…) for an authorization, a charge or a capture, the intent's ID for
// a cancellation, the refund's ID (re_…) for a refund. A Result's At is the
// event's time. The events read are:
//
//   - payment_intent.amount_capturable_updated: a hold (authorized, the
//     capturable amount);
//   - payment_intent.succeeded: money taken (captured for a manual capture,
//     charged otherwise; the amount received);
//   - payment_intent.canceled: a hold released (canceled, the intent's
//     amount), if the intent had a charge; none otherwise;
//   - refund.created: a refund (refunded, its amount), unless it failed;
//   - charge.refunded, refund.failed, refund.updated,
//     payment_intent.payment_failed and payment_intent.requires_action: the
//     payment's Ref without a Result. charge.refunded tells only the
//     charge's total refunded, not which refund: the refund itself comes as
//     refund.created. A refund.failed means an entry of that ProviderTx
//     recorded earlier must be reversed;
//   - checkout.session.completed: a StartCheckout page paid (charged, the
//     session's total, with no ProviderTx: the PaymentIntent's own
//     payment_intent.succeeded is the same charge), naming the payment and
//     its practice from the session's metadata, with the PaymentIntent as
//     Ref; checkout.session.expired: the payment named, no Result (it is
//     still owed). A session without carebook's metadata names nothing.
//     A setup session's (StartSetupCheckout) checkout.session.completed
//     is Event.Setup, the session's ID, with the practice of its
//     metadata: SetupOutcome reads the card it saved.
//
// Other event types come back with their ID and Type alone.
func (a *Adapter) ParseWebhook(body []byte, h billing.Header) (billing.Event, error) {
	const op = "stripe.ParseWebhook"
	if a.webhookSecret == "" {
		return billing.Event{}, errs.E(errs.KindUnauthenticated, op, "no webhook signing secret is configured")
	}
	sig := h.Get(SignatureHeader)
	if err := a.fresh(op, sig); err != nil {
		return billing.Event{}, err
	}
	ev, err := webhook.ConstructEventWithOptions(body, sig, a.webhookSecret, webhook.ConstructEventOptions{IgnoreTolerance: true, IgnoreAPIVersionMismatch: true})
	if err != nil {
		if errors.Is(err, webhook.ErrNotSigned) || errors.Is(err, webhook.ErrInvalidHeader) || errors.Is(err, webhook.ErrNoValidSignature) || errors.Is(err, webhook.ErrTooOld) {
			return billing.Event{}, errs.Wrap(errs.KindUnauthenticated, op, "the webhook's signature does not verify", err)
		}
		return billing.Event{}, &errs.Error{Kind: errs.KindInvalid, Op: op, Field: "body", Msg: "the webhook's body is no Stripe event", Err: err}
	}
	if train(ev.APIVersion) != train(APIVersion) {
		return billing.Event{}, errs.Invalid(op, "api_version", "the event is of API version "+strconv.Quote(ev.APIVersion)+"; create the webhook endpoint with "+APIVersion)
	}
	if ev.ID == "" {
		return billing.Event{}, errs.Invalid(op, "id", "the event has no ID")
	}
	out := billing.Event{ID: ev.ID, Type: string(ev.Type)}
	at := a.at(ev.Created)
	var raw []byte
	if ev.Data != nil {
		raw = ev.Data.Raw
	}
	switch ev.Type {
	case "payment_intent.amount_capturable_updated", "payment_intent.succeeded", "payment_intent.canceled",
		"payment_intent.payment_failed", "payment_intent.requires_action":
		var pi stripego.PaymentIntent
		if err := object(op, raw, &pi); err != nil {
			return billing.Event{}, err
		}
		if pi.ID == "" {
			return billing.Event{}, errs.Invalid(op, "data.object.id", "the payment intent has no ID")
		}
		out.Ref = billing.Ref(pi.ID)
		r := billing.Result{Ref: out.Ref, ProviderTx: chargeID(&pi), At: at}
		var amount int64
		switch ev.Type {
		case "payment_intent.amount_capturable_updated":
			r.Kind, amount = billing.EntryAuthorized, pi.AmountCapturable
		case "payment_intent.succeeded":
			r.Kind, amount = billing.EntryCharged, pi.AmountReceived
			if pi.CaptureMethod == stripego.PaymentIntentCaptureMethodManual {
				r.Kind = billing.EntryCaptured
			}
		case "payment_intent.canceled":
			if pi.LatestCharge != nil {
				r.Kind, amount, r.ProviderTx = billing.EntryCanceled, pi.Amount, pi.ID
			}
		}
		if r.Kind == "" || amount == 0 {
			return out, nil
		}
		if r.Amount, err = eventMoney(op, amount, pi.Currency); err != nil {
			return billing.Event{}, err
		}
		out.Result = r
	case "refund.created", "refund.updated", "refund.failed":
		var re stripego.Refund
		if err := object(op, raw, &re); err != nil {
			return billing.Event{}, err
		}
		if re.ID == "" {
			return billing.Event{}, errs.Invalid(op, "data.object.id", "the refund has no ID")
		}
		if re.PaymentIntent == nil || re.PaymentIntent.ID == "" {
			return out, nil // a refund of a charge made outside carebook
		}
		out.Ref = billing.Ref(re.PaymentIntent.ID)
		if ev.Type != "refund.created" || re.Status == stripego.RefundStatusFailed || re.Status == stripego.RefundStatusCanceled {
			return out, nil
		}
		amount, err := eventMoney(op, re.Amount, re.Currency)
		if err != nil {
			return billing.Event{}, err
		}
		out.Result = billing.Result{Ref: out.Ref, Kind: billing.EntryRefunded, Amount: amount, ProviderTx: re.ID, At: at}
	case "checkout.session.completed", "checkout.session.expired":
		return a.checkoutEvent(op, out, string(ev.Type), raw, at)
	case "charge.refunded":
		var ch stripego.Charge
		if err := object(op, raw, &ch); err != nil {
			return billing.Event{}, err
		}
		if ch.PaymentIntent != nil {
			out.Ref = billing.Ref(ch.PaymentIntent.ID)
		}
	}
	return out, nil
}

// fresh refuses a signature header whose time is not within the tolerance
// of the clock's; a header without a time is left to the SDK to refuse.
// The time judged is the last one, which the SDK signs with.
func (a *Adapter) fresh(op, sig string) error {
	last, found := "", false
	for _, part := range strings.Split(sig, ",") {
		if k, v, ok := strings.Cut(part, "="); ok && k == "t" {
			last, found = v, true
		}
	}
	if !found {
		return nil
	}
	sec, err := strconv.ParseInt(last, 10, 64)
	if err != nil {
		return errs.E(errs.KindUnauthenticated, op, "the webhook's signature has no readable time")
	}
	now := a.clock.Now().Unix()
	tol := int64(a.tolerance / time.Second)
	if sec < now-tol || sec > now+tol {
		return errs.E(errs.KindUnauthenticated, op, "the webhook's signature is stale")
	}
	return nil
}

// train is an API version's release train: "dahlia" of "2026-03-25.dahlia".
func train(version string) string {
	_, t, ok := strings.Cut(version, ".")
	if !ok {
		return ""
	}
	return t
}

// object reads an event's object into v.
func object(op string, raw []byte, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return errs.Invalid(op, "data.object", "the event carries no object")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &errs.Error{Kind: errs.KindInvalid, Op: op, Field: "data.object", Msg: "the event's object cannot be read", Err: err}
	}
	return nil
}

// eventMoney is amount of a Stripe currency, which carebook must know.
func eventMoney(op string, amount int64, c stripego.Currency) (billing.Money, error) {
	m := money(amount, currencyOf(c))
	if err := m.Validate(op, "data.object.amount"); err != nil {
		return billing.Money{}, err
	}
	if amount <= 0 {
		return billing.Money{}, errs.Invalid(op, "data.object.amount", "the amount must be more than zero")
	}
	return m, nil
}
