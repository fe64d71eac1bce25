package stripe

import (
	"context"
	"strings"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
	stripego "github.com/stripe/stripe-go/v85"
)

// MetadataPractice is the metadata key of a Checkout Session, and of its
// PaymentIntent, that holds the carebook payment's practice.
const MetadataPractice = "carebook_practice"

var _ billing.HostedCheckout = (*Adapter)(nil)

// StartCheckout makes a Checkout Session in payment mode for r.Amount, card
// only, under r.Key: one line of r.Description (else "Payment"), the
// return URLs, and the payment and its practice in the metadata of the
// session and of its PaymentIntent (so the webhook finds the payment), the
// payment also as client_reference_id. The patient pays on the session's
// URL; checkout.session.completed then reports the charge (ParseWebhook).
func (a *Adapter) StartCheckout(ctx context.Context, r billing.CheckoutRequest) (billing.CheckoutSession, error) {
	const op = "stripe.StartCheckout"
	if err := r.Validate(op); err != nil {
		return billing.CheckoutSession{}, err
	}
	if err := stripeAmount(op, "amount", r.Amount); err != nil {
		return billing.CheckoutSession{}, err
	}
	name := r.Description
	if name == "" {
		name = "Payment"
	}
	meta := map[string]string{MetadataPayment: r.Payment.String(), MetadataPractice: r.Practice.String()}
	p := &stripego.CheckoutSessionCreateParams{
		Mode:               stripego.String(string(stripego.CheckoutSessionModePayment)),
		PaymentMethodTypes: []*string{stripego.String("card")},
		SuccessURL:         stripego.String(r.SuccessURL),
		CancelURL:          stripego.String(r.CancelURL),
		ClientReferenceID:  stripego.String(r.Payment.String()),
		LineItems: []*stripego.CheckoutSessionCreateLineItemParams{{
			Quantity: stripego.Int64(1),
			PriceData: &stripego.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripego.String(strings.ToLower(string(r.Amount.Currency))),
				UnitAmount:  stripego.Int64(r.Amount.Amount),
				ProductData: &stripego.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripego.String(name)},
			},
		}},
		Metadata:          meta,
		PaymentIntentData: &stripego.CheckoutSessionCreatePaymentIntentDataParams{Metadata: meta},
	}
	if r.Description != "" {
		p.PaymentIntentData.Description = stripego.String(r.Description)
	}
	p.SetIdempotencyKey(string(r.Key))
	s, err := a.sc.V1CheckoutSessions.Create(ctx, p)
	if err != nil {
		return billing.CheckoutSession{}, stripeError(op, err, false)
	}
	return session(op, s)
}

// checkoutEvent reads a Checkout Session's event: completed and paid is
// the charge of its PaymentIntent (charged, the session's total); expired
// names the payment alone (its attempt is over, unpaid); completed but not
// paid yet names only the PaymentIntent.
func (a *Adapter) checkoutEvent(op string, out billing.Event, typ string, raw []byte, at time.Time) (billing.Event, error) {
	var cs stripego.CheckoutSession
	if err := object(op, raw, &cs); err != nil {
		return billing.Event{}, err
	}
	if cs.ID == "" {
		return billing.Event{}, errs.Invalid(op, "data.object.id", "the checkout session has no ID")
	}
	if cs.Mode == stripego.CheckoutSessionModeSetup {
		if typ != "checkout.session.completed" {
			return out, nil
		}
		return setupEvent(op, out, &cs)
	}
	pay, prac := cs.Metadata[MetadataPayment], cs.Metadata[MetadataPractice]
	if pay == "" || prac == "" {
		return out, nil // a session made outside carebook
	}
	var err error
	if out.Payment, err = parseID(op, "data.object.metadata."+MetadataPayment, pay); err != nil {
		return billing.Event{}, err
	}
	if out.Practice, err = parseID(op, "data.object.metadata."+MetadataPractice, prac); err != nil {
		return billing.Event{}, err
	}
	if cs.PaymentIntent != nil {
		out.Ref = billing.Ref(cs.PaymentIntent.ID)
	}
	if typ == "checkout.session.expired" {
		out.Ref = ""
		return out, nil
	}
	if cs.PaymentStatus != stripego.CheckoutSessionPaymentStatusPaid {
		// Completed, paid later (a method that settles days after):
		// neither paid nor over, so the payment is named by Ref only.
		out.Practice, out.Payment = uuid.Nil, uuid.Nil
		return out, nil
	}
	if out.Ref == "" {
		return billing.Event{}, errs.Invalid(op, "data.object.payment_intent", "a paid checkout session has no payment intent")
	}
	amount, err := eventMoney(op, cs.AmountTotal, cs.Currency)
	if err != nil {
		return billing.Event{}, err
	}
	out.Result = billing.Result{Ref: out.Ref, Kind: billing.EntryCharged, Amount: amount, At: at}
	return out, nil
}

// parseID reads a carebook ID from an event's metadata.
func parseID(op, field, s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil || id == uuid.Nil {
		return uuid.Nil, errs.Invalid(op, field, "not a carebook ID")
	}
	return id, nil
}
