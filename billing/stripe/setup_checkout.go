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

// MetadataPurpose is the metadata key of a Checkout Session that says what
// carebook made it for; PurposePaymentMethod is a setup session's, which
// saves a practice's payment method.
const (
	MetadataPurpose      = "carebook_purpose"
	PurposePaymentMethod = "payment_method"
)

var _ billing.SetupCheckout = (*Adapter)(nil)

// StartSetupCheckout makes a Checkout Session in setup mode, card only,
// for a new Customer (made under a key derived from r.Key, as SetupCard
// does, so the saved card belongs to it and charges off-session), under
// r.Key: the return URLs (the success URL with session_id={CHECKOUT_SESSION_ID},
// which Stripe fills in), and the practice and purpose in the metadata of
// the session and of its SetupIntent, the practice also as
// client_reference_id. The administrator saves the card on the session's
// URL; SetupOutcome then reads it, and checkout.session.completed tells of
// it (ParseWebhook).
func (a *Adapter) StartSetupCheckout(ctx context.Context, r billing.SetupCheckoutRequest) (billing.CheckoutSession, error) {
	const op = "stripe.StartSetupCheckout"
	if err := r.Validate(op); err != nil {
		return billing.CheckoutSession{}, err
	}
	meta := map[string]string{MetadataPractice: r.Practice.String(), MetadataPurpose: PurposePaymentMethod}
	cp := &stripego.CustomerCreateParams{Metadata: meta}
	if r.Description != "" {
		cp.Description = stripego.String(r.Description)
	}
	cp.SetIdempotencyKey(customerKey(r.Key))
	cus, err := a.sc.V1Customers.Create(ctx, cp)
	if err != nil {
		return billing.CheckoutSession{}, stripeError(op, err, false)
	}
	p := &stripego.CheckoutSessionCreateParams{
		Mode:               stripego.String(string(stripego.CheckoutSessionModeSetup)),
		PaymentMethodTypes: []*string{stripego.String("card")},
		Customer:           stripego.String(cus.ID),
		SuccessURL:         stripego.String(withSessionID(r.SuccessURL)),
		CancelURL:          stripego.String(r.CancelURL),
		ClientReferenceID:  stripego.String(r.Practice.String()),
		Metadata:           meta,
		SetupIntentData:    &stripego.CheckoutSessionCreateSetupIntentDataParams{Metadata: meta},
	}
	if r.Description != "" {
		p.SetupIntentData.Description = stripego.String(r.Description)
	}
	p.SetIdempotencyKey(string(r.Key))
	s, err := a.sc.V1CheckoutSessions.Create(ctx, p)
	if err != nil {
		return billing.CheckoutSession{}, stripeError(op, err, false)
	}
	return session(op, s)
}

// session is the billing.CheckoutSession of s.
func session(op string, s *stripego.CheckoutSession) (billing.CheckoutSession, error) {
	out := billing.CheckoutSession{ID: s.ID, URL: s.URL}
	if s.ExpiresAt > 0 {
		out.ExpiresAt = time.Unix(s.ExpiresAt, 0).UTC()
	}
	if out.ID == "" || out.URL == "" {
		return billing.CheckoutSession{}, errs.E(errs.KindInternal, op, "Stripe answered a checkout session without its ID or URL")
	}
	return out, nil
}

// withSessionID adds Stripe's template of the session's ID to a success
// URL as billing.SessionParam (Stripe replaces {CHECKOUT_SESSION_ID}).
func withSessionID(u string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + billing.SessionParam + "={CHECKOUT_SESSION_ID}"
}

// SetupOutcome reads the Checkout Session id with its SetupIntent and the
// SetupIntent's payment method (one request, expanded): done once the
// session is complete and its SetupIntent succeeded with a card, labelled
// "Visa ending 4242". An unknown session is errs.KindNotFound naming
// "session_id"; an ID that is no Checkout Session's (cs_…) likewise,
// without asking Stripe.
func (a *Adapter) SetupOutcome(ctx context.Context, id string) (billing.SetupOutcome, error) {
	const op = "stripe.SetupOutcome"
	if !strings.HasPrefix(id, "cs_") || len(id) > 255 || strings.ContainsAny(id, "/?#% \r\n") {
		return billing.SetupOutcome{}, &errs.Error{Kind: errs.KindNotFound, Op: op, Field: billing.SessionParam, Msg: "no such checkout session"}
	}
	p := &stripego.CheckoutSessionRetrieveParams{}
	p.AddExpand("setup_intent.payment_method")
	s, err := a.sc.V1CheckoutSessions.Retrieve(ctx, id, p)
	if err != nil {
		return billing.SetupOutcome{}, errs.WithField(stripeError(op, err, false), billing.SessionParam)
	}
	return setupOutcome(op, "", s)
}

// setupOutcome reads a setup session, as retrieved or as a webhook's
// object (whose SetupIntent is its ID alone: not done); an error names
// the field after prefix.
func setupOutcome(op, prefix string, s *stripego.CheckoutSession) (billing.SetupOutcome, error) {
	out := billing.SetupOutcome{Session: s.ID, Created: time.Unix(s.Created, 0).UTC()}
	if prac := s.Metadata[MetadataPractice]; prac != "" && s.Metadata[MetadataPurpose] == PurposePaymentMethod {
		var err error
		if out.Practice, err = parseID(op, prefix+"metadata."+MetadataPractice, prac); err != nil {
			return billing.SetupOutcome{}, err
		}
	}
	si := s.SetupIntent
	if s.Status != stripego.CheckoutSessionStatusComplete || si == nil || si.Status != stripego.SetupIntentStatusSucceeded ||
		si.PaymentMethod == nil || si.PaymentMethod.ID == "" {
		return out, nil
	}
	out.Done, out.SetupRef, out.Token, out.Label = true, si.ID, si.PaymentMethod.ID, cardLabel(si.PaymentMethod)
	return out, nil
}

// cardLabel words a card as the practice sees it: "Visa ending 4242".
func cardLabel(pm *stripego.PaymentMethod) string {
	if pm.Card == nil || pm.Card.Last4 == "" {
		return "Card"
	}
	brand := string(pm.Card.Brand)
	switch brand {
	case "", "unknown":
		brand = "Card"
	case "amex":
		brand = "American Express"
	case "diners":
		brand = "Diners Club"
	case "unionpay":
		brand = "UnionPay"
	default:
		brand = strings.ToUpper(brand[:1]) + brand[1:]
	}
	return brand + " ending " + pm.Card.Last4
}

// setupEvent reads checkout.session.completed of a setup session: the
// session as Event.Setup with its practice, when carebook made it.
func setupEvent(op string, out billing.Event, cs *stripego.CheckoutSession) (billing.Event, error) {
	o, err := setupOutcome(op, "data.object.", cs)
	if err != nil {
		return billing.Event{}, err
	}
	if o.Practice == uuid.Nil || cs.Status != stripego.CheckoutSessionStatusComplete {
		return out, nil
	}
	out.Setup, out.Practice = cs.ID, o.Practice
	return out, nil
}
