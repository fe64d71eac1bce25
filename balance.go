package carebook

import (
	"context"
	"strings"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// A visit paid online is not paid again at the desk: before the front
// desk takes a visit's money (TakeDeskPayment), the Engine sums what the
// visit costs (its visit type's payment policy's price), what was taken
// or is held for it, online or at the desk, and what its owed payments
// ask (billing.BalanceOf), under the appointment's lock, and refuses an
// amount above what is left. Money an online provider takes for a payment
// the desk took meanwhile is recorded on a payment of its own
// (billing.PurposeOverpaid), for the desk to refund.

// VisitBalance returns where the money of appointment id stands
// (billing.Balance: its price, what was paid and how, what is owed or
// overpaid), for a caller who may read the appointment's patient's
// payments (payment.read), logged as "payment.balance".
func (e *Engine) VisitBalance(ctx context.Context, practice tenant.PracticeID, id uuid.UUID) (billing.Balance, error) {
	a, err := e.store.Scheduling.GetAppointment(ctx, practice, id)
	if errs.Is(err, errs.KindNotFound) {
		if _, aerr := e.Authorize(ctx, Access{Permission: rbac.PaymentRead, PracticeID: practice}); aerr != nil {
			return billing.Balance{}, aerr
		}
		return billing.Balance{}, errs.WithField(err, "appointment_id")
	}
	if err != nil {
		return billing.Balance{}, err
	}
	pid := a.PatientID
	var b billing.Balance
	err = e.Guard(ctx, Access{Permission: rbac.PaymentRead, PracticeID: practice, PatientID: &pid, Action: "payment.balance",
		ResourceType: "appointment", ResourceID: id.String()}, func(ctx context.Context) (string, error) {
		var err error
		b, err = e.visitBalance(ctx, a)
		return id.String(), err
	})
	return b, err
}

// visitBalance sums the payments of a against the price its visit type's
// policy names.
func (e *Engine) visitBalance(ctx context.Context, a *scheduling.Appointment) (billing.Balance, error) {
	vt := a.VisitTypeID
	pol, err := e.Billing.Policy(ctx, a.PracticeID, &vt)
	if err != nil {
		return billing.Balance{}, err
	}
	ps, err := e.store.Billing.Payments(ctx, a.PracticeID, billing.PaymentFilter{Appointments: []uuid.UUID{a.ID}})
	if err != nil {
		return billing.Balance{}, err
	}
	// Payments come newest first; the balance's parts go oldest first.
	for i, j := 0, len(ps)-1; i < j; i, j = i+1, j-1 {
		ps[i], ps[j] = ps[j], ps[i]
	}
	return billing.BalanceOf(pol.Price, ps)
}

// checkOwed refuses a desk payment of amount for a's visit (a new one, or
// owed, an owed payment of the visit being paid) above what is left to pay
// on it: KindConflict naming "amount", saying what was paid
// already, how and when (in the visit's time zone), and what is owed,
// with the figures in its Details. It runs under a's lock, in the
// transaction that takes the payment. A visit whose policy names no price
// (a deposit whose rest the desk says) takes what the desk says.
func (e *Engine) checkOwed(ctx context.Context, op string, a *scheduling.Appointment, amount billing.Money, owed *billing.Payment) error {
	if err := e.store.Scheduling.Lock(ctx, a.ID); err != nil {
		return err
	}
	b, err := e.visitBalance(ctx, a)
	if err != nil {
		return err
	}
	if b.Known() && amount.Currency != b.Due.Currency {
		return errs.Invalid(op, "amount.currency", "the visit is priced in "+string(b.Due.Currency))
	}
	if owed != nil && b.Known() {
		// Paying an owed payment of the visit: what it asks is counted
		// as pending already.
		b.Pending.Amount -= owed.Amount.Amount
		b.Owed.Amount = max(0, b.Due.Amount-b.Taken.Amount-b.Pending.Amount)
	}
	if !b.Known() || amount.Amount <= b.Owed.Amount {
		return nil
	}
	zone := time.UTC
	if l, err := e.store.Tenants.GetLocation(ctx, a.PracticeID, a.LocationID); err == nil {
		if z, err := time.LoadLocation(l.TimeZone); err == nil {
			zone = z
		}
	}
	return &errs.Error{Kind: errs.KindConflict, Op: op, Field: "amount", Msg: owedMessage(amount, b, zone), Details: balanceDetails(b)}
}

// owedMessage says why amount is more than b leaves to pay.
func owedMessage(amount billing.Money, b billing.Balance, zone *time.Location) string {
	var m strings.Builder
	m.WriteString(amount.String() + " is more than the " + b.Owed.String() + " owed on this visit of " + b.Due.String())
	var parts []string
	for _, p := range b.Parts {
		how := "at the desk"
		if p.Online() {
			how = "online"
		}
		switch {
		case p.Purpose == billing.PurposeOverpaid:
			how = "paid twice " + how + ", to refund,"
		case p.Held:
			how = "held " + how
		default:
			how = "paid " + how
		}
		parts = append(parts, p.Amount.String()+" "+how+" ("+string(p.Method)+") on "+p.At.In(zone).Format(time.DateOnly))
	}
	if len(parts) > 0 {
		m.WriteString(": " + strings.Join(parts, ", "))
	}
	if !b.Pending.IsZero() {
		m.WriteString("; " + b.Pending.String() + " is asked by a payment still owed: take that one with its own Pay at the desk")
	}
	return m.String()
}

// balanceDetails are b's figures for a problem document.
func balanceDetails(b billing.Balance) map[string]any {
	paid := make([]map[string]any, len(b.Parts))
	for i, p := range b.Parts {
		paid[i] = map[string]any{"payment_id": p.Payment.String(), "provider": p.Provider, "method": string(p.Method), "amount": p.Amount.String(),
			"held": p.Held, "at": p.At.UTC().Format(time.RFC3339)}
	}
	d := map[string]any{"taken": b.Taken.String(), "pending": b.Pending.String(), "overpaid": b.Overpaid.String(), "paid": paid}
	if b.Known() {
		d["due"], d["owed"] = b.Due.String(), b.Owed.String()
	}
	return d
}
