package carebook

import (
	"context"
	"sort"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// A practice's payment method saved on the provider's hosted page
// (billing.SetupCheckout): StartPaymentMethodCheckout makes the page's
// session and the administrator's browser goes there (no card number, and
// no script, on carebook's side); the provider sends it back to the
// success URL with the session's ID, where CompletePaymentMethodCheckout
// reads the card saved and attaches it as AttachPaymentMethod does. The
// provider's webhook of the completed session (PaymentWebhook) attaches it
// too, should the browser never come back: each event once, and a card
// attached by either path is not attached again by the other.

// SetupCheckoutProvider returns the name of the online adapter whose
// hosted page saves a practice's payment method (the first by name that
// implements billing.SetupCheckout), or "" when none does. It reads no
// practice's data; pages use it to offer the page.
func (e *Engine) SetupCheckoutProvider() string {
	names := make([]string, 0, len(e.payAdapters))
	for n, a := range e.payAdapters {
		if _, ok := a.(billing.SetupCheckout); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// setupCheckout returns the adapter registered as provider if it hosts a
// setup page, else KindInvalid naming "provider".
func (e *Engine) setupCheckout(op, provider string) (billing.SetupCheckout, error) {
	sc, ok := e.payAdapters[provider].(billing.SetupCheckout)
	if !ok {
		return nil, errs.Invalid(op, "provider", "no payment provider "+quoteName(provider)+" of this server hosts a page that saves a card")
	}
	return sc, nil
}

// StartPaymentMethodCheckout starts saving the practice's payment method
// on provider's hosted page, for its administrator (practice.manage; it
// goes on while the practice is read-only), and returns the session whose
// URL the browser goes to. urls.Success gets the session's ID
// (billing.SessionParam) from the provider. Each call is a new session. A
// provider that hosts no such page is KindInvalid naming "provider"; bad
// URLs KindInvalid naming "success_url" or "cancel_url".
func (e *Engine) StartPaymentMethodCheckout(ctx context.Context, practice tenant.PracticeID, provider string, urls CheckoutURLs) (billing.CheckoutSession, error) {
	const op = "carebook.StartPaymentMethodCheckout"
	a := paymentMethodAccess(practice, ActionPaymentMethodSetup)
	sc, err := e.setupCheckout(op, provider)
	req := billing.SetupCheckoutRequest{Practice: practice, Key: billing.DeriveKey(e.IDs.New(), billing.OpSetupCheckout, 1),
		SuccessURL: urls.Success, CancelURL: urls.Cancel, Description: "carebook subscription"}
	if err == nil {
		err = req.Validate(op)
	}
	if err != nil {
		return billing.CheckoutSession{}, e.Refuse(ctx, a, err)
	}
	pm, err := e.Authorize(ctx, a)
	if err != nil {
		return billing.CheckoutSession{}, err
	}
	// The provider is asked outside a transaction; the same key gets the
	// same session, so nothing is lost if the entry then fails.
	s, err := sc.StartSetupCheckout(ctx, req)
	if err != nil {
		pm.Fail(ctx)
		return billing.CheckoutSession{}, err
	}
	return s, pm.Do(ctx, func(context.Context) (string, error) { return "", nil })
}

// CompletePaymentMethodCheckout reads provider's setup session (the ID
// the provider put on the success URL) and attaches the card it saved as
// the practice's payment method, as AttachPaymentMethod does, for its
// administrator (practice.manage). A session whose card is attached
// already (by the webhook, or a reload of the page) returns the method on
// file and changes nothing. A session unknown, or of another practice, is
// KindNotFound naming "session_id"; one whose card is not saved yet is
// KindPreconditionFailed naming "session_id".
func (e *Engine) CompletePaymentMethodCheckout(ctx context.Context, practice tenant.PracticeID, provider, session string) (*billing.PaymentMethod, error) {
	const op = "carebook.CompletePaymentMethodCheckout"
	a := paymentMethodAccess(practice, ActionPaymentMethodAttach)
	sc, err := e.setupCheckout(op, provider)
	if err != nil {
		return nil, e.Refuse(ctx, a, err)
	}
	pm, err := e.Authorize(ctx, a)
	if err != nil {
		return nil, err
	}
	o, err := sc.SetupOutcome(ctx, session)
	if err == nil && o.Practice != practice {
		err = &errs.Error{Kind: errs.KindNotFound, Op: op, Field: billing.SessionParam, Msg: "no such setup session of this practice"}
	}
	if err == nil && !o.Done {
		err = &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: billing.SessionParam, Msg: "the card is not saved yet: finish on the provider's page"}
	}
	if err != nil {
		pm.Fail(ctx)
		return nil, err
	}
	c, _ := CallerFrom(ctx)
	m := e.paymentMethodOf(practice, PaymentMethodInput{Provider: provider, SetupRef: o.SetupRef, Token: o.Token, Label: o.Label}, c.Actor.String())
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		cur, attached, err := e.attachedAlready(ctx, provider, o)
		if err != nil || attached {
			m = cur
			return "", err
		}
		return "", e.putPaymentMethod(ctx, m)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// attachedAlready returns the practice's payment method on file and
// whether it is the card of setup o already, in the transaction in ctx.
func (e *Engine) attachedAlready(ctx context.Context, provider string, o billing.SetupOutcome) (*billing.PaymentMethod, bool, error) {
	cur, err := e.store.Billing.PaymentMethod(ctx, o.Practice)
	switch {
	case errs.Is(err, errs.KindNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return cur, cur.Provider == provider && cur.SetupRef == o.SetupRef, nil
}

// setupWebhook applies ev, provider's event of a completed setup session
// (billing.Event.Setup): the card it saved becomes the practice's payment
// method, once per event, and in any order: a card attached since the
// session began (a later session's, or this one's from the success page)
// is left on file. It returns false for an event seen before or that
// changed nothing.
func (e *Engine) setupWebhook(ctx context.Context, provider string, sc billing.SetupCheckout, ev billing.Event) (bool, error) {
	// The provider is read before the transaction: its answer does not
	// change once the session is complete.
	o, err := sc.SetupOutcome(ctx, ev.Setup)
	if err != nil {
		return false, err
	}
	if o.Practice != ev.Practice || !o.Done {
		return false, errs.Invalid("carebook.PaymentWebhook", "data.object", "the setup session "+quoteName(ev.Setup)+" saved no card of its practice")
	}
	applied := false
	err = e.InTx(ctx, func(ctx context.Context) error {
		seen := ev
		seen.Setup, seen.Practice = "", uuid.Nil // remembered alone: no payment's effect
		first, err := e.Billing.ApplyEvent(ctx, provider, seen)
		if err != nil || !first {
			return err
		}
		if _, err := e.store.Tenants.GetPractice(ctx, o.Practice); errs.Is(err, errs.KindNotFound) {
			return nil // a practice this server does not have: remembered, nothing else
		} else if err != nil {
			return err
		}
		cur, attached, err := e.attachedAlready(ctx, provider, o)
		if err != nil || attached || cur != nil && cur.SavedAt.After(o.Created) {
			return err
		}
		who := "webhook:" + provider
		m := e.paymentMethodOf(o.Practice, PaymentMethodInput{Provider: provider, SetupRef: o.SetupRef, Token: o.Token, Label: o.Label}, audit.SystemActor(who))
		if err := e.putPaymentMethod(ctx, m); err != nil {
			return err
		}
		applied = true
		return e.Log(ctx, Entry(ctx, o.Practice, audit.SystemActor(who), ActionPaymentMethodAttach, "payment_method", o.Practice.String(), audit.Allowed))
	})
	return applied, err
}
