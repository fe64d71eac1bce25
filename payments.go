package carebook

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/offline"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Visit payments through the guard: the front desk takes payments at the
// desk (billing/offline) and gives money back; patients read their own
// payments and receipts; online providers (billing/stripe, or an
// integrator's adapter given with WithPaymentAdapter) take what the
// practice's payment policy asks online, and their webhooks are applied
// once. Fees (a no-show, a late cancellation) are written in the
// transaction of the appointment's change that causes them, at most once
// per appointment, and charged to a card on file when there is one, else
// owed at the desk. Every money movement that concerns a visit sends the
// patient a receipt, in the transaction that records it.

// WithPaymentAdapter registers a, an online payment provider's adapter,
// under name (such as "stripe"): payments whose Provider is name go
// through it. The name "desk" is the front desk's own.
func WithPaymentAdapter(name string, a billing.Adapter) Option {
	return func(e *Engine) {
		if name == "" || name == billing.ProviderDesk || a == nil {
			e.optErr = errs.Invalid("carebook.WithPaymentAdapter", "name", "an online adapter needs a name other than \"desk\"")
			return
		}
		if e.payAdapters == nil {
			e.payAdapters = map[string]billing.Adapter{}
		}
		e.payAdapters[name] = a
	}
}

// paymentAdapter returns the adapter of p: a desk that holds p's ledger,
// or the online adapter registered under p's Provider. A payment that has
// moved no money yet goes online only for a verified practice
// (VerifyPractice): else KindPreconditionFailed.
func (e *Engine) paymentAdapter(ctx context.Context, p *billing.Payment) (billing.Adapter, error) {
	if p.Provider == billing.ProviderDesk {
		d, err := offline.New(p.Practice, e.Clock)
		if err != nil {
			return nil, err
		}
		if len(p.Ledger) > 0 {
			if err := d.Load(p); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	if a, ok := e.payAdapters[p.Provider]; ok {
		// Money is first taken online only by a verified practice; what
		// follows (a capture, a refund) goes on.
		if len(p.Ledger) == 0 {
			if err := e.verified(ctx, "carebook.paymentAdapter", p.Practice); err != nil {
				return nil, err
			}
		}
		return a, nil
	}
	return nil, errs.E(errs.KindPreconditionFailed, "carebook.paymentAdapter", "the payment provider "+strconv.Quote(p.Provider)+" is not configured on this server")
}

// paymentRecorded sends the patient the receipt of money taken or given
// back for a visit, in the transaction that records it.
func (e *Engine) paymentRecorded(ctx context.Context, p *billing.Payment, en billing.Entry) error {
	if p.Appointment == nil {
		return nil
	}
	switch en.Kind {
	case billing.EntryCharged, billing.EntryCaptured, billing.EntryRefunded:
	default:
		return nil
	}
	return e.Notify.OnPayment(ctx, notify.PaymentEvent{PracticeID: p.Practice, AppointmentID: *p.Appointment,
		Key: p.ID.String() + ":" + strconv.Itoa(en.Seq), Amount: en.Amount.String(), Refund: en.Kind == billing.EntryRefunded})
}

// DeskPayment is a payment taken at the front desk.
type DeskPayment struct {
	Patient     uuid.UUID
	Appointment *uuid.UUID // the visit it is for, if any
	Amount      billing.Money
	Method      billing.Method // cash, card_terminal, cheque or insurance_copay, with its reference
	Purpose     billing.Purpose
}

// TakeDeskPayment records a payment the caller in ctx took at the desk
// (payment.offline over the patient), with its "payment.take" entry and
// the patient's receipt, in one transaction. Bad input is KindInvalid
// naming the field; an appointment of another patient is KindInvalid
// naming "appointment_id". A visit's money (billing.Purpose.Visit) above
// what is left to pay on it, online payments and holds counted, is
// KindConflict naming "amount" and saying what was paid and how, and
// nothing is written (see VisitBalance).
func (e *Engine) TakeDeskPayment(ctx context.Context, practice tenant.PracticeID, in DeskPayment) (*billing.Payment, error) {
	const op = "carebook.TakeDeskPayment"
	pid := in.Patient
	pm, err := e.Authorize(ctx, Access{Permission: rbac.PaymentOffline, PracticeID: practice, PatientID: &pid,
		Action: "payment.take", ResourceType: "payment"})
	if err != nil {
		return nil, err
	}
	if !in.Method.Kind.AtDesk() {
		pm.Fail(ctx)
		return nil, errs.Invalid(op, "method.kind", `must be "cash", "card_terminal", "cheque" or "insurance_copay"`)
	}
	if in.Purpose == "" {
		in.Purpose = billing.PurposeVisit
	}
	if in.Purpose.Fee() {
		pm.Fail(ctx)
		return nil, errs.Invalid(op, "purpose", "a fee is charged by the practice's policy; take an owed fee with PayOwed")
	}
	if in.Purpose == billing.PurposeOverpaid {
		pm.Fail(ctx)
		return nil, errs.Invalid(op, "purpose", "money taken twice is recorded by the provider's webhook, not at the desk")
	}
	by, _ := actor.From(ctx)
	var out *billing.Payment
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		a, err := e.checkVisitOf(ctx, op, practice, in.Patient, in.Appointment)
		if err != nil {
			return "", err
		}
		if a != nil && in.Purpose.Visit() {
			if err := e.checkOwed(ctx, op, a, in.Amount, nil); err != nil {
				return "", err
			}
		}
		p, err := e.Billing.Open(ctx, billing.Open{Practice: practice, Provider: billing.ProviderDesk, Amount: in.Amount, Method: in.Method,
			Purpose: in.Purpose, Patient: &pid, Appointment: in.Appointment, By: by})
		if err != nil {
			return "", err
		}
		out, _, err = e.Billing.Do(ctx, billing.Step{Practice: practice, Payment: p.ID, Op: billing.OpPurchase, By: by})
		return p.ID.String(), err
	})
	return out, err
}

// checkVisitOf returns appointment appt (nil for none), refusing one that
// is not patient's.
func (e *Engine) checkVisitOf(ctx context.Context, op string, practice tenant.PracticeID, patient uuid.UUID, appt *uuid.UUID) (*scheduling.Appointment, error) {
	if appt == nil {
		return nil, nil
	}
	a, err := e.store.Scheduling.GetAppointment(ctx, practice, *appt)
	if errs.Is(err, errs.KindNotFound) {
		return nil, errs.Invalid(op, "appointment_id", "no such appointment in this practice")
	}
	if err != nil {
		return nil, err
	}
	if a.PatientID != patient {
		return nil, errs.Invalid(op, "appointment_id", "the appointment is another patient's")
	}
	return a, nil
}

// payment reads payment id for an access over its patient, and
// authorizes it: a payment of no patient asks for perm over the practice.
func (e *Engine) paymentAccess(ctx context.Context, practice tenant.PracticeID, id billing.PaymentID, perm rbac.Permission, action string) (*billing.Payment, *Permit, error) {
	p, err := e.store.Billing.Payment(ctx, practice, id)
	if errs.Is(err, errs.KindNotFound) {
		// Whether the caller may know it is not there is the guard's to
		// say: a stranger to the practice gets its 404 (and its entry).
		if _, aerr := e.Authorize(ctx, Access{Permission: perm, PracticeID: practice}); aerr != nil {
			return nil, nil, aerr
		}
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, err
	}
	pm, err := e.Authorize(ctx, Access{Permission: perm, PracticeID: practice, PatientID: p.Patient,
		Action: action, ResourceType: "payment", ResourceID: p.ID.String()})
	if err != nil {
		return nil, nil, err
	}
	return p, pm, nil
}

// RefusePayment decides an operation needing perm on payment id for the
// caller in ctx, as Refuse does: bad input is told only to a caller who
// may do the operation.
func (e *Engine) RefusePayment(ctx context.Context, practice tenant.PracticeID, id billing.PaymentID, perm rbac.Permission, bad error) error {
	_, pm, err := e.paymentAccess(ctx, practice, id, perm, "payment."+string(perm))
	if err != nil {
		return err
	}
	pm.Fail(ctx)
	return bad
}

// step takes st through the guard's permit: the adapter's call first,
// then the ledger entry and the activity-log entry in one transaction.
func (e *Engine) step(ctx context.Context, pm *Permit, st billing.Step) (*billing.Payment, error) {
	st.By, _ = actor.From(ctx)
	called := false
	st.Commit = func(ctx context.Context, fn func(ctx context.Context) error) error {
		called = true
		return pm.Do(ctx, func(ctx context.Context) (string, error) { return st.Payment.String(), fn(ctx) })
	}
	p, _, err := e.Billing.Do(ctx, st)
	if err != nil && !called {
		pm.Fail(ctx)
	}
	return p, err
}

// RefundPayment gives amount of payment id back (payment.refund), for
// reason, through its provider: refunds never exceed what was taken
// (KindConflict). The refund's ledger entry, its "payment.refund" entry
// and the patient's receipt commit together.
func (e *Engine) RefundPayment(ctx context.Context, practice tenant.PracticeID, id billing.PaymentID, amount billing.Money, reason string) (*billing.Payment, error) {
	const op = "carebook.RefundPayment"
	_, pm, err := e.paymentAccess(ctx, practice, id, rbac.PaymentRefund, "payment.refund")
	if err != nil {
		return nil, err
	}
	if err := checkReason(op, reason); err != nil {
		pm.Fail(ctx)
		return nil, err
	}
	return e.step(ctx, pm, billing.Step{Practice: practice, Payment: id, Op: billing.OpRefund, Amount: amount, Reason: reason})
}

// checkReason requires a reason of 1 to 500 bytes.
func checkReason(op, reason string) error {
	if reason == "" || len(reason) > 500 {
		return errs.Invalid(op, "reason", "a reason of 1 to 500 characters is required")
	}
	return nil
}

// ReversePayment records a reversal of entry seq of payment id
// (payment.refund): a desk entry recorded by mistake, undone without
// moving money, for reason.
func (e *Engine) ReversePayment(ctx context.Context, practice tenant.PracticeID, id billing.PaymentID, seq int, reason string) (*billing.Payment, error) {
	const op = "carebook.ReversePayment"
	p, pm, err := e.paymentAccess(ctx, practice, id, rbac.PaymentRefund, "payment.reverse")
	if err != nil {
		return nil, err
	}
	if err := checkReason(op, reason); err != nil {
		pm.Fail(ctx)
		return nil, err
	}
	if p.Provider != billing.ProviderDesk {
		pm.Fail(ctx)
		return nil, errs.Invalid(op, "payment", "only an entry taken at the desk is reversed; an online payment is refunded")
	}
	by, _ := actor.From(ctx)
	var out *billing.Payment
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		var err error
		out, _, err = e.Billing.Reverse(ctx, practice, id, seq, by, reason, nil)
		return id.String(), err
	})
	return out, err
}

// PayOwed takes payment id, a fee or a visit's payment still owed, at the
// desk by method (payment.offline over its patient). One paid meanwhile
// (online) is KindConflict; a visit's payment beyond what is left to pay
// on the visit, as TakeDeskPayment refuses it.
func (e *Engine) PayOwed(ctx context.Context, practice tenant.PracticeID, id billing.PaymentID, method billing.Method) (*billing.Payment, error) {
	const op = "carebook.PayOwed"
	p, pm, err := e.paymentAccess(ctx, practice, id, rbac.PaymentOffline, "payment.take")
	if err != nil {
		return nil, err
	}
	switch {
	case !method.Kind.AtDesk():
		pm.Fail(ctx)
		return nil, errs.Invalid(op, "method.kind", `must be "cash", "card_terminal", "cheque" or "insurance_copay"`)
	case len(p.Ledger) > 0:
		pm.Fail(ctx)
		return nil, errs.Conflict(op, "this payment is not owed any more")
	}
	by, _ := actor.From(ctx)
	var out *billing.Payment
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		// Locked, it is read again: an online provider's webhook may have
		// recorded it since (the patient paid it online meanwhile).
		cur, err := e.store.Billing.LockPayment(ctx, practice, id)
		if err != nil {
			return "", err
		}
		if len(cur.Ledger) > 0 {
			return "", errs.Conflict(op, "this payment is not owed any more: it was paid meanwhile")
		}
		if cur.Appointment != nil && cur.Purpose.Visit() {
			a, err := e.store.Scheduling.GetAppointment(ctx, practice, *cur.Appointment)
			if err != nil {
				return "", err
			}
			if err := e.checkOwed(ctx, op, a, cur.Amount, cur); err != nil {
				return "", err
			}
		}
		if err := e.store.Billing.SetMethod(ctx, practice, id, billing.ProviderDesk, method); err != nil {
			return "", err
		}
		out, _, err = e.Billing.Do(ctx, billing.Step{Practice: practice, Payment: id, Op: billing.OpPurchase, By: by})
		return id.String(), err
	})
	return out, err
}

// Payments lists the practice's payments matching f (payment.read): a
// patient asks for their own (f.Patient set to them).
func (e *Engine) Payments(ctx context.Context, practice tenant.PracticeID, f billing.PaymentFilter) ([]*billing.Payment, error) {
	var out []*billing.Payment
	err := e.Guard(ctx, Access{Permission: rbac.PaymentRead, PracticeID: practice, PatientID: f.Patient,
		Action: "payment.list", ResourceType: "payment"}, func(ctx context.Context) (string, error) {
		var err error
		out, err = e.store.Billing.Payments(ctx, practice, f)
		return "", err
	})
	return out, err
}

// Payment returns payment id with its ledger (payment.read over its
// patient).
func (e *Engine) Payment(ctx context.Context, practice tenant.PracticeID, id billing.PaymentID) (*billing.Payment, error) {
	p, pm, err := e.paymentAccess(ctx, practice, id, rbac.PaymentRead, "payment.read")
	if err != nil {
		return nil, err
	}
	return p, pm.Do(ctx, func(context.Context) (string, error) { return "", nil })
}

// Receipt returns the receipt of payment id (payment.read over its
// patient), its times in the zone of the appointment's location (else
// UTC): printed again it is the same, byte for byte.
func (e *Engine) Receipt(ctx context.Context, practice tenant.PracticeID, id billing.PaymentID) (offline.Receipt, error) {
	p, pm, err := e.paymentAccess(ctx, practice, id, rbac.PaymentRead, "payment.receipt")
	if err != nil {
		return offline.Receipt{}, err
	}
	var r offline.Receipt
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		prac, err := e.store.Tenants.GetPractice(ctx, practice)
		if err != nil {
			return "", err
		}
		loc := time.UTC
		if p.Appointment != nil {
			if z, err := e.appointmentZone(ctx, practice, *p.Appointment); err == nil {
				loc = z
			}
		}
		r, err = offline.NewReceipt(p, prac.Name, loc)
		return "", err
	})
	return r, err
}

// appointmentZone is the time zone of the location of an appointment.
func (e *Engine) appointmentZone(ctx context.Context, practice tenant.PracticeID, id uuid.UUID) (*time.Location, error) {
	a, err := e.store.Scheduling.GetAppointment(ctx, practice, id)
	if err != nil {
		return nil, err
	}
	l, err := e.store.Tenants.GetLocation(ctx, practice, a.LocationID)
	if err != nil {
		return nil, err
	}
	return time.LoadLocation(l.TimeZone)
}

// PaymentPolicies lists the practice's payment policies (policy.manage),
// its default first.
func (e *Engine) PaymentPolicies(ctx context.Context, practice tenant.PracticeID) ([]*billing.Policy, error) {
	var out []*billing.Policy
	err := e.Guard(ctx, Access{Permission: rbac.PolicyManage, PracticeID: practice, Effect: EffectRead}, func(ctx context.Context) (string, error) {
		var err error
		out, err = e.store.Billing.Policies(ctx, practice)
		return "", err
	})
	return out, err
}

// PutPaymentPolicy writes p, the practice's default (VisitType nil) or a
// visit type's payment policy (policy.manage), with its "payment.policy"
// entry. Bad input is KindInvalid naming the field; an unknown visit type
// KindInvalid naming "visit_type_id".
func (e *Engine) PutPaymentPolicy(ctx context.Context, p *billing.Policy) (*billing.Policy, error) {
	var out *billing.Policy
	by, _ := actor.From(ctx)
	err := e.Guard(ctx, Access{Permission: rbac.PolicyManage, PracticeID: p.Practice, Action: "payment.policy", ResourceType: "practice",
		ResourceID: p.Practice.String()}, func(ctx context.Context) (string, error) {
		if p.VisitType != nil {
			if _, err := e.store.Scheduling.GetVisitType(ctx, p.Practice, *p.VisitType); errs.Is(err, errs.KindNotFound) {
				return "", errs.Invalid("carebook.PutPaymentPolicy", "visit_type_id", "no such visit type in this practice")
			} else if err != nil {
				return "", err
			}
		}
		var err error
		out, err = e.Billing.PutPolicy(ctx, p, by)
		return "", err
	})
	return out, err
}

// PaymentWebhook verifies and applies a webhook request of the online
// provider registered as name, from its body and headers: each event once,
// in any order. A provider unknown, or whose adapter verifies no
// webhooks, is KindNotFound; a bad signature KindUnauthenticated.
// applied is false for an event seen before. A setup session's event
// (billing.Event.Setup) attaches the card it saved as the practice's
// payment method (see CompletePaymentMethodCheckout).
func (e *Engine) PaymentWebhook(ctx context.Context, name string, body []byte, h billing.Header) (applied bool, err error) {
	const op = "carebook.PaymentWebhook"
	a, ok := e.payAdapters[name]
	v, can := a.(billing.WebhookVerifier)
	if !ok || !can {
		return false, errs.NotFound(op, "payment provider")
	}
	ev, err := v.ParseWebhook(body, h)
	if err != nil {
		return false, err
	}
	if sc, ok := a.(billing.SetupCheckout); ok && ev.Setup != "" {
		return e.setupWebhook(ctx, name, sc, ev)
	}
	return e.Billing.ApplyEvent(ctx, name, ev)
}

// feeObserver writes the fee an appointment's change causes (a no-show, a
// patient's late cancellation) in the change's transaction, once per
// appointment, and has it charged once the change commits.
type feeObserver struct{ e *Engine }

func (o feeObserver) AppointmentChanged(ctx context.Context, a *scheduling.Appointment, c *scheduling.Change) error {
	if c.Action != "no-visit" && c.Action != "cancel" {
		return nil
	}
	byPatient := actor.Parse(c.By).Kind == actor.Patient
	if c.Action == "cancel" && !byPatient {
		return nil
	}
	var cutoff time.Duration
	if c.Action == "cancel" {
		prac, err := o.e.store.Tenants.GetPractice(ctx, a.PracticeID)
		if err != nil {
			return err
		}
		cutoff = prac.Policy.CancelCutoff
	}
	purpose, ok := billing.FeeOf(c.Action, byPatient, c.At, a.Start, cutoff)
	if !ok {
		return nil
	}
	vt := a.VisitTypeID
	pol, err := o.e.Billing.Policy(ctx, a.PracticeID, &vt)
	if err != nil {
		return err
	}
	amount, ok := pol.FeeFor(purpose)
	if !ok {
		return nil
	}
	return o.e.writeFee(ctx, a, purpose, amount)
}

// writeFee writes the fee of purpose for a: charged to the patient's card
// on file at an online provider once the change commits, else owed at the
// desk. A fee written before (the same appointment's) is left alone.
func (e *Engine) writeFee(ctx context.Context, a *scheduling.Appointment, purpose billing.Purpose, amount billing.Money) error {
	patient, appt := a.PatientID, a.ID
	open := billing.Open{Practice: a.PracticeID, Provider: billing.ProviderDesk, Amount: amount, Method: billing.Method{Kind: billing.MethodCash},
		Purpose: purpose, Patient: &patient, Appointment: &appt, By: actor.Actor{Kind: actor.System, ID: "fees"}}
	if err := e.feeOnCard(ctx, a, &open); err != nil {
		return err
	}
	p, err := e.Billing.Open(ctx, open)
	if errs.Is(err, errs.KindConflict) && errs.FieldOf(err) == "purpose" {
		return nil
	}
	if err != nil || open.Provider == billing.ProviderDesk {
		return err
	}
	e.store.AfterTx(ctx, func(ctx context.Context) {
		// A failure leaves the fee owed; ChargeFees tries it again.
		if err := e.chargeFee(ctx, p); err != nil {
			e.Logger.WarnContext(ctx, "a fee could not be charged yet", slog.String("payment", p.ID.String()), slog.Any("error", err))
		}
	})
	return nil
}

// feeOnCard points open at the patient's card on file at an online
// provider, if there is one and the practice is verified; an unverified
// practice's fee stays owed at the desk.
func (e *Engine) feeOnCard(ctx context.Context, a *scheduling.Appointment, open *billing.Open) error {
	if len(e.payAdapters) == 0 {
		return nil
	}
	if err := e.verified(ctx, "carebook.writeFee", a.PracticeID); errs.Is(err, errs.KindPreconditionFailed) {
		return nil
	} else if err != nil {
		return err
	}
	for name := range e.payAdapters {
		card, err := e.store.Billing.CardOnFile(ctx, a.PracticeID, a.PatientID, name)
		if errs.Is(err, errs.KindNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		open.Provider, open.Method = name, billing.Method{Kind: billing.MethodCardOnline, Token: card.Token, OffSession: true}
		return nil
	}
	return nil
}

// chargeFee charges fee payment p, owed on a card on file, once: its key
// comes from its ledger, so a second try after a crash is the first one's
// replay.
func (e *Engine) chargeFee(ctx context.Context, p *billing.Payment) error {
	_, _, err := e.Billing.Do(ctx, billing.Step{Practice: p.Practice, Payment: p.ID, Op: billing.OpPurchase,
		By: actor.Actor{Kind: actor.System, ID: "fees"}, Description: "Fee"})
	return err
}

// ChargeFees charges the fees owed on cards on file that were written
// before olderThan ago and are not charged yet (their first try failed,
// or the process stopped before it), at most limit of them; it returns
// how many were charged. Declined cards are left owed at the desk.
func (e *Engine) ChargeFees(ctx context.Context, olderThan time.Duration, limit int) (int, error) {
	due, err := e.store.Billing.OwedOnline(ctx, e.Clock.Now().Add(-olderThan), limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range due {
		if err := e.chargeFee(ctx, p); err != nil {
			e.Logger.WarnContext(ctx, "a fee could not be charged", slog.String("payment", p.ID.String()), slog.Any("error", err))
			continue
		}
		n++
	}
	return n, nil
}

// lateCancel lets a patient cancel inside the cut-off when the visit's
// payment policy charges a late-cancellation fee.
func (e *Engine) lateCancel(ctx context.Context, a *scheduling.Appointment) (bool, error) {
	vt := a.VisitTypeID
	pol, err := e.Billing.Policy(ctx, a.PracticeID, &vt)
	if err != nil {
		return false, err
	}
	_, ok := pol.FeeFor(billing.PurposeLateCancel)
	return ok, nil
}
