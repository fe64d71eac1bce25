package carebook

import (
	"context"
	"log/slog"
	"sort"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/tenant"
)

// CheckoutURLs are carebook's pages a provider's hosted checkout sends
// the patient back to: absolute http or https URLs.
type CheckoutURLs struct {
	Success, Cancel string
}

// PayOnline starts paying payment id, still owed, on a page hosted by an
// online provider (billing.HostedCheckout): the caller in ctx is the
// payment's patient (payment.read over themselves, through their own
// patient grant: OwnPatient), and gets
// the session whose URL their browser goes to. The payment is recorded
// paid when the provider's webhook tells of it (PaymentWebhook).
//
// Refused: a caller other than the payment's patient as KindForbidden
// (or the guard's answer); a payment with money moved already as
// KindConflict; a practice that is not verified, or no online adapter
// able to host a checkout, as KindPreconditionFailed. The same attempt
// retried, also at once from many requests, sends the same key
// (Payment.KeyFor(billing.OpCheckout)) and so gets the same session; an
// attempt that expired unpaid counts as a decline, so the next one is new.
func (e *Engine) PayOnline(ctx context.Context, practice tenant.PracticeID, id billing.PaymentID, urls CheckoutURLs) (billing.CheckoutSession, error) {
	const op = "carebook.PayOnline"
	p, pm, err := e.paymentAccess(ctx, practice, id, rbac.PaymentRead, "payment.checkout")
	if err != nil {
		return billing.CheckoutSession{}, err
	}
	if me, err := e.OwnPatient(ctx, practice); err != nil || p.Patient == nil || *p.Patient != me {
		pm.Fail(ctx)
		return billing.CheckoutSession{}, errs.E(errs.KindForbidden, op, "only the payment's patient pays it online")
	}
	if len(p.Ledger) > 0 {
		pm.Fail(ctx)
		return billing.CheckoutSession{}, errs.Conflict(op, "nothing is owed on this payment any more")
	}
	name, hc := e.checkoutAdapter(p)
	if hc == nil {
		pm.Fail(ctx)
		return billing.CheckoutSession{}, errs.E(errs.KindPreconditionFailed, op, "no payment provider of this server hosts a checkout; pay at the desk")
	}
	if err := e.verified(ctx, op, practice); err != nil {
		pm.Fail(ctx)
		return billing.CheckoutSession{}, err
	}
	req := billing.CheckoutRequest{Practice: practice, Payment: p.ID, Amount: p.Amount, Key: p.KeyFor(billing.OpCheckout),
		SuccessURL: urls.Success, CancelURL: urls.Cancel, Description: checkoutDescription(p.Purpose)}
	if err := req.Validate(op); err != nil {
		pm.Fail(ctx)
		return billing.CheckoutSession{}, err
	}
	// The provider is asked outside a transaction; its answer to this key
	// stays the same, so a failure after it is retried as it was.
	s, err := hc.StartCheckout(ctx, req)
	if err != nil {
		pm.Fail(ctx)
		return billing.CheckoutSession{}, err
	}
	e.Logger.InfoContext(ctx, "checkout started", slog.String("payment", p.ID.String()), slog.String("provider", name), slog.String("session", s.ID))
	return s, pm.Do(ctx, func(context.Context) (string, error) { return "", nil })
}

// checkoutDescription is what the provider's page shows a payment of
// purpose as: no clinical detail.
func checkoutDescription(purpose billing.Purpose) string {
	switch purpose {
	case billing.PurposeVisit:
		return "Visit"
	case billing.PurposeDeposit:
		return "Visit deposit"
	case billing.PurposeNoShowFee:
		return "Missed visit fee"
	case billing.PurposeLateCancel:
		return "Late cancellation fee"
	}
	return "Payment"
}

// checkoutAdapter is the adapter that hosts p's checkout: p's own online
// provider's, or else the first by name of those that host one.
func (e *Engine) checkoutAdapter(p *billing.Payment) (string, billing.HostedCheckout) {
	if hc, ok := e.payAdapters[p.Provider].(billing.HostedCheckout); ok {
		return p.Provider, hc
	}
	if p.Provider != billing.ProviderDesk {
		return "", nil
	}
	names := make([]string, 0, len(e.payAdapters))
	for n := range e.payAdapters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if hc, ok := e.payAdapters[n].(billing.HostedCheckout); ok {
			return n, hc
		}
	}
	return "", nil
}

// TakesOnlinePayments reports whether practice can be paid online on a
// hosted checkout: it is verified and an adapter of this server hosts
// one. It reads no patient data; pages use it to offer "Pay online".
func (e *Engine) TakesOnlinePayments(ctx context.Context, practice tenant.PracticeID) bool {
	if _, hc := e.checkoutAdapter(&billing.Payment{Provider: billing.ProviderDesk}); hc == nil {
		return false
	}
	return e.verified(ctx, "carebook.TakesOnlinePayments", practice) == nil
}
