package carebook

import (
	"context"
	"strings"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/tenant"
)

// The operator's support panel: every practice with its plan, status,
// usage and invoices, and the support actions (extend a trial, change a
// plan, lift read-only). Each operation needs an Operator in the context
// (WithOperator), else it is KindUnauthenticated; none reads a patient's
// data. Each action needs a reason, and is written with it
// (support_actions) and to the practice's activity log (the actor the
// staff member, the role OperatorRole) in the transaction of its effect.

// The activity log's actions of the support panel; the entry's
// ResourceType is "practice".
const (
	ActionSupportExtendTrial  = "support.trial.extend"
	ActionSupportChangePlan   = "support.plan.change"
	ActionSupportLiftReadOnly = "support.read_only.lift"
)

// SupportPage is how many practices SupportTenants returns at most.
const SupportPage = 100

// SupportTenant is one practice as the support panel shows it: its
// account and billing, nothing of its patients.
type SupportTenant struct {
	Practice tenant.Practice
	Group    tenant.Group
	// Subscription is the practice's plan and status; nil on no plan.
	Subscription *billing.Subscription
	// PeriodStart and PeriodEnd bound the current period (the UTC month
	// on no plan), whose usage per meter Usage holds.
	PeriodStart, PeriodEnd time.Time
	Usage                  []billing.UsageTotal
	// ReadOnly are the reasons the practice is read-only, the oldest
	// first; none when it writes.
	ReadOnly []billing.ReadOnly
	// InvoicesOpen (not paid: open or failed) and InvoicesPaid count the
	// practice's invoices.
	InvoicesOpen, InvoicesPaid int
}

// SupportPracticeView is a practice's page of the support panel: its
// SupportTenant, its latest invoices and the latest support actions on it.
type SupportPracticeView struct {
	SupportTenant
	Invoices []*billing.Invoice
	Actions  []sqlstore.SupportAction
}

// supportInvoices is how many of a practice's latest invoices its support
// page shows.
const supportInvoices = 12

// SupportTenants lists the practices by ID after the practice after (the
// nil ID: from the first), at most a page of them, for the support staff
// in ctx.
func (e *Engine) SupportTenants(ctx context.Context, after tenant.PracticeID) ([]SupportTenant, error) {
	if _, err := requireOperator(ctx, "carebook.SupportTenants"); err != nil {
		return nil, err
	}
	ids, err := e.store.Tenants.PracticeIDs(ctx, after, SupportPage)
	if err != nil {
		return nil, err
	}
	out := make([]SupportTenant, 0, len(ids))
	for _, id := range ids {
		t, err := e.supportTenant(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, nil
}

// SupportPractice returns a practice's support page for the support
// staff in ctx; an unknown practice is KindNotFound naming "practice_id".
func (e *Engine) SupportPractice(ctx context.Context, practice tenant.PracticeID) (*SupportPracticeView, error) {
	if _, err := requireOperator(ctx, "carebook.SupportPractice"); err != nil {
		return nil, err
	}
	t, err := e.supportTenant(ctx, practice)
	if err != nil {
		return nil, err
	}
	acts, err := e.store.Operators.Actions(ctx, practice, 50)
	if err != nil {
		return nil, err
	}
	v := &SupportPracticeView{SupportTenant: *t, Actions: acts}
	if v.Invoices, err = e.store.Billing.Invoices(ctx, practice, supportInvoices); err != nil {
		return nil, err
	}
	return v, nil
}

// supportTenant reads one practice's account and billing.
func (e *Engine) supportTenant(ctx context.Context, id tenant.PracticeID) (*SupportTenant, error) {
	p, err := e.store.Tenants.GetPractice(ctx, id)
	if err != nil {
		return nil, errs.WithField(err, "practice_id")
	}
	g, err := e.store.Tenants.GetGroup(ctx, p.GroupID)
	if err != nil {
		return nil, err
	}
	t := &SupportTenant{Practice: *p, Group: *g}
	now := e.Clock.Now().UTC()
	t.PeriodStart = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	t.PeriodEnd = t.PeriodStart.AddDate(0, 1, 0)
	sub, err := e.store.Billing.Subscription(ctx, id)
	switch {
	case err == nil:
		t.Subscription = sub
		t.PeriodStart, t.PeriodEnd = sub.Period(now)
	case !errs.Is(err, errs.KindNotFound):
		return nil, err
	}
	if t.Usage, err = e.store.Billing.UsageTotals(ctx, &id, t.PeriodStart, t.PeriodEnd); err != nil {
		return nil, err
	}
	if t.ReadOnly, err = e.store.Billing.ReadOnly(ctx, id); err != nil {
		return nil, err
	}
	invs, err := e.store.Billing.Invoices(ctx, id, 0)
	if err != nil {
		return nil, err
	}
	for _, inv := range invs {
		if inv.Status == billing.InvoicePaid {
			t.InvoicesPaid++
		} else {
			t.InvoicesOpen++
		}
	}
	return t, nil
}

// supportAct runs fn, a support action of the operator in ctx on
// practice, with its record and its activity-log entry in one
// transaction: fn returns the detail of what it did.
func (e *Engine) supportAct(ctx context.Context, op, action string, practice tenant.PracticeID, reason string,
	fn func(ctx context.Context) (detail string, err error)) error {
	o, err := requireOperator(ctx, op)
	if err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if err := checkReason(op, reason); err != nil {
		return err
	}
	if _, err := e.store.Tenants.GetPractice(ctx, practice); err != nil {
		return errs.WithField(err, "practice_id")
	}
	return e.InTx(ctx, func(ctx context.Context) error {
		detail, err := fn(ctx)
		if err != nil {
			return err
		}
		if err := e.store.Operators.AddAction(ctx, sqlstore.SupportAction{PracticeID: practice, ID: e.IDs.New(),
			StaffEmail: o.Email, Action: action, Detail: detail, Reason: reason, At: e.Clock.Now().UTC()}); err != nil {
			return err
		}
		en := Entry(ctx, practice, o.Actor(), action, "practice", practice.String(), audit.Allowed)
		en.Role = OperatorRole
		return e.Log(ctx, en)
	})
}

// ExtendTrial moves the trial end of practice's subscription to until,
// for the support staff in ctx, with reason. until must be after now and
// after the current trial end (KindInvalid naming "until"); a practice on
// no plan is KindNotFound naming "subscription". A practice made
// read-only by its trial's end (billing.ReadOnlyTrialEnded) leaves that
// state and is trialing again until then; any other subscription but a
// trialing one is KindInvalid naming "until".
func (e *Engine) ExtendTrial(ctx context.Context, practice tenant.PracticeID, until time.Time, reason string) error {
	const op = "carebook.ExtendTrial"
	return e.supportAct(ctx, op, ActionSupportExtendTrial, practice, reason, func(ctx context.Context) (string, error) {
		now := e.Clock.Now().UTC().Truncate(time.Microsecond)
		until = until.UTC().Truncate(time.Microsecond)
		if !until.After(now) {
			return "", errs.Invalid(op, "until", "must be in the future")
		}
		sub, err := e.store.Billing.LockSubscription(ctx, practice)
		if err != nil {
			return "", errs.WithField(err, "subscription")
		}
		if !until.After(sub.TrialEnd) {
			return "", errs.Invalid(op, "until", "must be after the current trial end")
		}
		switch sub.Status {
		case billing.SubscriptionTrialing:
		case billing.SubscriptionReadOnly:
			ros, err := e.store.Billing.ReadOnly(ctx, practice)
			if err != nil {
				return "", err
			}
			if len(ros) != 1 || ros[0].Reason != billing.ReadOnlyTrialEnded {
				return "", errs.Invalid(op, "until", "the practice is read-only for an unpaid invoice, which a longer trial does not lift")
			}
			if err := e.leaveReadOnly(ctx, practice, string(billing.ReadOnlyTrialEnded)); err != nil {
				return "", err
			}
		default:
			return "", errs.Invalid(op, "until", "only a trial can be extended (this subscription is "+string(sub.Status)+")")
		}
		next := *sub
		next.Status, next.TrialEnd, next.UpdatedAt = billing.SubscriptionTrialing, until, now
		if err := e.store.Billing.PutSubscription(ctx, &next); err != nil {
			return "", err
		}
		return "trial until " + until.Format(time.RFC3339), nil
	})
}

// ChangePlan puts practice on plan, for the support staff in ctx, with
// reason, as Subscribe does. An unknown plan is KindNotFound naming
// "plan".
func (e *Engine) ChangePlan(ctx context.Context, practice tenant.PracticeID, plan billing.PlanID, reason string) error {
	const op = "carebook.ChangePlan"
	if strings.TrimSpace(string(plan)) == "" {
		return errs.Invalid(op, "plan", "is required")
	}
	return e.supportAct(ctx, op, ActionSupportChangePlan, practice, reason, func(ctx context.Context) (string, error) {
		if _, err := e.Subscribe(ctx, practice, plan); err != nil {
			return "", err
		}
		return "plan " + string(plan), nil
	})
}
