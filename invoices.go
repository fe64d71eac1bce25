package carebook

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/tenant"
)

// Periods and invoices: the billing job (RunBilling, BillingJobName)
// closes each subscription's ended periods, one invoice per practice and
// period however many replicas run it (billing.InvoiceStore.CreateInvoice
// writes once per period), and charges the invoices due to the practice's
// payment method on file, off-session, through the online adapter it was
// saved at (WithPaymentAdapter). The idempotency key of a charge comes
// from the invoice and its count of attempts (billing.InvoiceKey): a
// crash after the provider answered and before the answer was recorded
// leaves the invoice due, and the retry sends the same key, so the card
// is charged once.
//
// A declined charge is a failed attempt: the invoice is tried again on the
// days of the engine's Dunning after the first failure (WithDunning;
// billing.DefaultRetryDays), and once the last retry fails the practice
// becomes read-only for "payment_failed"; a paid invoice restores it. A
// payment method attached makes the invoices whose retries are spent due
// again.
// Every step (an invoice closed, each charge, dunning spent) is in the
// practice's activity log, by the system actor "system:billing".

// BillingJobName names RegisterJobs's billing job.
const BillingJobName = "billing"

// DefaultBillingEvery is how often the billing job runs when JobsConfig
// leaves BillingEvery 0.
const DefaultBillingEvery = 15 * time.Minute

// The activity log's actions of invoices; the entry's ResourceType is
// "invoice" and its ResourceID the invoice's ID.
const (
	ActionInvoiceClose     = "invoice.close"     // a period closed with its invoice
	ActionInvoiceCharge    = "invoice.charge"    // a charge: allowed when paid, failed when declined
	ActionInvoiceExhausted = "invoice.exhausted" // the last retry failed: the practice becomes read-only
)

// billingActor is who closes periods and charges invoices.
var billingActor = actor.Actor{Kind: actor.System, ID: "billing"}

// maxPeriodsPerRun bounds the periods one run closes for a subscription
// (a replica that was down a long time catches up over a few runs).
const maxPeriodsPerRun = 24

// WithDunning sets the days after an invoice's first failed charge on
// which it is tried again (billing.DefaultRetryDays without this option);
// bad days are KindInvalid naming "retry_days", returned by New.
func WithDunning(retryDays ...int) Option {
	return func(e *Engine) {
		d := billing.Dunning{RetryDays: append([]int(nil), retryDays...)}
		if err := d.Validate(); err != nil {
			e.optErr = err
			return
		}
		e.dunning = d
	}
}

func (e *Engine) dunningOf() billing.Dunning {
	if len(e.dunning.RetryDays) == 0 {
		return billing.Dunning{RetryDays: billing.DefaultRetryDays}
	}
	return e.dunning
}

func (e *Engine) now() time.Time { return e.Clock.Now().UTC().Truncate(time.Microsecond) }

// RunBilling closes the periods that ended (CloseInvoices), then charges
// the invoices due (ChargeInvoices, at most 500): the billing job's run.
// It returns how many invoices it wrote and charged.
func (e *Engine) RunBilling(ctx context.Context) (int, error) {
	closed, cerr := e.CloseInvoices(ctx)
	charged, perr := e.ChargeInvoices(ctx, 500)
	return closed + charged, errors.Join(cerr, perr)
}

// CloseInvoices writes the invoice of every period of every subscription
// that ended by now and has none yet, and returns how many it wrote. A
// period inside a trial bills nothing; one in which the trial ends bills
// from the trial's end. A practice whose invoice cannot be made is logged
// and left for the next run; the others go on.
func (e *Engine) CloseInvoices(ctx context.Context) (int, error) {
	st := e.store.Billing
	n := 0
	var first error
	after := tenant.PracticeID{}
	for {
		subs, err := st.Subscriptions(ctx, after, 200)
		if err != nil {
			return n, err
		}
		if len(subs) == 0 {
			return n, first
		}
		for _, sub := range subs {
			k, err := e.closePeriods(ctx, sub)
			n += k
			if err != nil {
				e.Logger.WarnContext(ctx, "a practice's period could not be closed", slog.String("practice", sub.Practice.String()), slog.Any("error", err))
				first = cmpOr(first, err)
			}
		}
		after = subs[len(subs)-1].Practice
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// closePeriods writes the invoices of sub's ended periods after its last
// invoice.
func (e *Engine) closePeriods(ctx context.Context, sub *billing.Subscription) (int, error) {
	if sub.Status == billing.SubscriptionCanceled {
		return 0, nil
	}
	last, err := e.store.Billing.Invoices(ctx, sub.Practice, 1)
	if err != nil {
		return 0, err
	}
	from := sub.PeriodStart
	if len(last) == 1 && last[0].PeriodEnd.After(from) {
		from = last[0].PeriodEnd
	}
	now := e.now()
	n := 0
	for range maxPeriodsPerRun {
		start, end := sub.Period(from)
		if end.After(now) {
			break
		}
		from = end
		billedFrom := start
		if sub.TrialEnd.After(start) {
			if !sub.TrialEnd.Before(end) {
				continue // all trial: nothing to bill
			}
			billedFrom = sub.TrialEnd
		}
		created, err := e.closePeriod(ctx, sub, start, end, billedFrom)
		if err != nil {
			return n, err
		}
		if created {
			n++
		}
	}
	return n, nil
}

// closePeriod writes the invoice of sub's period [start, end), billed
// from billedFrom, with its "invoice.close" entry, unless another replica
// wrote it first.
func (e *Engine) closePeriod(ctx context.Context, sub *billing.Subscription, start, end, billedFrom time.Time) (bool, error) {
	st := e.store.Billing
	created := false
	err := e.InTx(ctx, func(ctx context.Context) error {
		changes, err := st.PlanChanges(ctx, sub.Practice, start)
		if err != nil {
			return err
		}
		plan, err := e.planOfPeriod(ctx, sub, end, changes)
		if err != nil {
			return err
		}
		totals, err := st.UsageTotals(ctx, &sub.Practice, billedFrom, end)
		if err != nil {
			return err
		}
		used := map[billing.Meter]int64{}
		for _, u := range totals {
			used[u.Meter] = u.Units
		}
		inv, err := billing.NewInvoice(billing.InvoiceDraft{ID: e.IDs.New(), Practice: sub.Practice, Plan: plan, PeriodStart: start,
			PeriodEnd: end, BilledFrom: billedFrom, Used: used, Changes: changes, CreatedAt: e.now()})
		if err != nil {
			return err
		}
		if created, err = st.CreateInvoice(ctx, inv); err != nil || !created {
			return err
		}
		return e.Log(ctx, Entry(ctx, sub.Practice, audit.SystemActor(BillingJobName), ActionInvoiceClose, "invoice", inv.ID.String(), audit.Allowed))
	})
	return created, err
}

// planOfPeriod is the plan in force at the end of the period ending at
// end: the last plan changed to within it, else the plan changed from
// first in the period after it (closed late, after a change), else the
// subscription's.
func (e *Engine) planOfPeriod(ctx context.Context, sub *billing.Subscription, end time.Time, changes []billing.PlanChange) (*billing.Plan, error) {
	id := sub.Plan
	if len(changes) > 0 {
		id = changes[len(changes)-1].To
	} else {
		next, err := e.store.Billing.PlanChanges(ctx, sub.Practice, end)
		if err != nil {
			return nil, err
		}
		if len(next) > 0 {
			id = next[0].From
		}
	}
	return e.store.Billing.Plan(ctx, id)
}

// ChargeInvoices charges the invoices due now (not paid, their next
// attempt come), at most limit, and returns how many it charged, paid or
// declined. An invoice whose charge did not get an answer (the provider
// unreachable, a crash) is left due and tried again with the same key.
func (e *Engine) ChargeInvoices(ctx context.Context, limit int) (int, error) {
	due, err := e.store.Billing.DueInvoices(ctx, e.now(), limit)
	if err != nil {
		return 0, err
	}
	n := 0
	var first error
	for _, inv := range due {
		if err := e.chargeInvoice(ctx, inv); err != nil {
			e.Logger.WarnContext(ctx, "an invoice could not be charged", slog.String("invoice", inv.ID.String()), slog.Any("error", err))
			first = cmpOr(first, err)
			continue
		}
		n++
	}
	return n, first
}

// chargeInvoice makes the next attempt of inv and records its outcome.
func (e *Engine) chargeInvoice(ctx context.Context, inv *billing.Invoice) error {
	const op = "carebook.chargeInvoice"
	attempt := len(inv.Attempts) + 1
	key := billing.InvoiceKey(inv.ID, attempt)
	a := billing.Attempt{Key: key}
	if inv.Total.IsZero() {
		a.Paid, a.At = true, e.now()
		return e.recordAttempt(ctx, inv, attempt, a)
	}
	m, err := e.store.Billing.PaymentMethod(ctx, inv.Practice)
	switch {
	case errs.Is(err, errs.KindNotFound):
		a.At, a.Error = e.now(), "the practice has no payment method on file"
		return e.recordAttempt(ctx, inv, attempt, a)
	case err != nil:
		return err
	}
	adapter, ok := e.payAdapters[m.Provider]
	if !ok {
		return errs.E(errs.KindPreconditionFailed, op, "the payment provider "+m.Provider+" of the practice's payment method is not configured on this server")
	}
	r, err := adapter.Purchase(ctx, billing.Charge{Payment: inv.ID, Amount: inv.Total, Key: key, By: billingActor,
		Method:      billing.Method{Kind: billing.MethodCardOnline, Token: m.Token, OffSession: true},
		Description: "carebook " + inv.PeriodStart.Format(time.DateOnly) + " to " + inv.PeriodEnd.Format(time.DateOnly)})
	a.At = e.now()
	switch {
	case err == nil:
		a.Paid, a.ProviderTx = true, r.ProviderTx
	case errs.Is(err, errs.KindPreconditionFailed) && errs.FieldOf(err) == "method":
		a.Error = "the card was declined"
		if de, ok := errs.As(err); ok && de.Msg != "" {
			a.Error = de.Msg
		}
	default:
		return err // no answer: nothing recorded, the retry sends the same key
	}
	return e.recordAttempt(ctx, inv, attempt, a)
}

// recordAttempt records a, the attempt-th charge of inv, with its dunning
// decision and activity-log entries, unless a racing twin recorded it
// first; a paid invoice lifts the practice's "payment_failed" read-only
// state, a failed last retry enters it.
func (e *Engine) recordAttempt(ctx context.Context, inv *billing.Invoice, attempt int, a billing.Attempt) error {
	st := e.store.Billing
	return e.InTx(ctx, func(ctx context.Context) error {
		cur, err := st.LockInvoice(ctx, inv.Practice, inv.ID)
		if err != nil {
			return err
		}
		if len(cur.Attempts) != attempt-1 || cur.Status == billing.InvoicePaid {
			return nil // recorded by a twin
		}
		spent := cur.Status == billing.InvoiceFailed && cur.NextAttempt.IsZero() // exhausted before
		step := e.dunningOf().Record(cur, a)
		if err := st.UpdateInvoice(ctx, cur); err != nil {
			return err
		}
		out := audit.Allowed
		if !a.Paid {
			out = audit.Failed
		}
		who := audit.SystemActor(BillingJobName)
		if err := e.Log(ctx, Entry(ctx, cur.Practice, who, ActionInvoiceCharge, "invoice", cur.ID.String(), out)); err != nil {
			return err
		}
		switch step {
		case billing.StepPaid:
			return e.leaveReadOnly(ctx, cur.Practice, string(billing.ReadOnlyPaymentFailed))
		case billing.StepExhausted:
			if spent {
				return nil // a payment asked for failed again: read-only already
			}
			if err := e.Log(ctx, Entry(ctx, cur.Practice, who, ActionInvoiceExhausted, "invoice", cur.ID.String(), audit.Failed)); err != nil {
				return err
			}
			return e.enterReadOnly(ctx, cur.Practice, string(billing.ReadOnlyPaymentFailed))
		}
		return nil
	})
}

// invoicesDueAgain makes the practice's failed invoices whose retries are
// spent due at now, in the transaction of a payment method attached: the
// billing job's next run charges them to it.
func (e *Engine) invoicesDueAgain(ctx context.Context, practice tenant.PracticeID, now time.Time) error {
	invs, err := e.store.Billing.Invoices(ctx, practice, 0)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if inv.Status == billing.InvoiceFailed && inv.NextAttempt.IsZero() {
			inv.NextAttempt = now
			if err := e.store.Billing.UpdateInvoice(ctx, inv); err != nil {
				return err
			}
		}
	}
	return nil
}

// Invoices lists the practice's invoices, the latest period first, for
// its staff holding billing.read.
func (e *Engine) Invoices(ctx context.Context, practice tenant.PracticeID) ([]*billing.Invoice, error) {
	pm, err := e.Authorize(ctx, Access{Permission: rbac.BillingRead, PracticeID: practice})
	if err != nil {
		return nil, err
	}
	var out []*billing.Invoice
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		out, err = e.store.Billing.Invoices(ctx, practice, 0)
		return "", err
	})
	return out, err
}

// Invoice returns invoice id of the practice, for its staff holding
// billing.read; an unknown one is KindNotFound.
func (e *Engine) Invoice(ctx context.Context, practice tenant.PracticeID, id billing.InvoiceID) (*billing.Invoice, error) {
	pm, err := e.Authorize(ctx, Access{Permission: rbac.BillingRead, PracticeID: practice})
	if err != nil {
		return nil, err
	}
	var out *billing.Invoice
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		out, err = e.store.Billing.Invoice(ctx, practice, id)
		return "", err
	})
	return out, err
}

// PayInvoice charges the practice's invoice id now, to its payment method
// on file, for its staff holding billing.read (its administrators): an
// invoice whose retries are spent, once the practice attached a card that
// pays, is paid this way, and a paid invoice restores a practice made
// read-only by it. It goes on while the practice is read-only. An invoice
// paid already is KindConflict; a charge the provider did not answer is
// its error, and the next try sends the same key. A declined charge
// counts as one of the invoice's failed attempts.
func (e *Engine) PayInvoice(ctx context.Context, practice tenant.PracticeID, id billing.InvoiceID) (*billing.Invoice, error) {
	pm, err := e.Authorize(ctx, Access{Permission: rbac.BillingRead, PracticeID: practice, Effect: EffectRestore,
		Action: "invoice.pay", ResourceType: "invoice", ResourceID: id.String()})
	if err != nil {
		return nil, err
	}
	inv, err := e.store.Billing.Invoice(ctx, practice, id)
	if err == nil && inv.Status == billing.InvoicePaid {
		err = errs.Conflict("carebook.PayInvoice", "the invoice is paid")
	}
	if err == nil {
		err = e.chargeInvoice(ctx, inv)
	}
	if err != nil {
		pm.Fail(ctx)
		return nil, err
	}
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		inv, err = e.store.Billing.Invoice(ctx, practice, id)
		return id.String(), err
	})
	return inv, err
}
