package carebook

import (
	"context"
	"strconv"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
)

// The SaaS business: the operator's plans (a base fee per period, and per
// meter units included, a price beyond them and an optional quota), each
// practice's subscription to one, and the usage it is billed for. A
// booking counts in "bookings" in the booking's transaction; an SMS or an
// email counts in "sms_sent" or "emails_sent" when the outbox marks it
// sent. A plan's quota on "sms_sent" is counted when the SMS is queued, in
// the queuing transaction, by one conditional upsert (see
// billing.UsageStore.TakeQuota): a campaign past it is refused with
// KindPreconditionFailed naming "sms_sent" with billing.QuotaDetails, and
// queues nothing.
//
// Plans and subscriptions are the operator's: PutPlan, Plans and Subscribe
// are not guarded by a practice's grants, and whoever calls them decides
// who may (as with CreateGroupWithAdmin). A practice's staff holding
// billing.read (its administrators) read its subscription and usage.

// PutPlan validates p and writes it, replacing the plan of its ID; bad
// input is KindInvalid naming the field.
func (e *Engine) PutPlan(ctx context.Context, p *billing.Plan) error {
	if p == nil {
		return errs.Invalid("carebook.PutPlan", "plan", "is required")
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return e.store.Billing.PutPlan(ctx, p)
}

// Plans lists the operator's plans by ID.
func (e *Engine) Plans(ctx context.Context) ([]*billing.Plan, error) {
	return e.store.Billing.Plans(ctx)
}

// Subscribe puts practice on plan from now: trialing for the plan's trial
// days (active at once without one), its periods counted from now. A
// practice already subscribed (and not canceled) changes plan instead,
// keeping its periods and trial: after its trial, the change is prorated
// on the period's invoice (a credit of the old base fee for the whole days
// left, a charge of the new one for them; see billing.NewPlanChange), in
// the transaction of the change. Subscribing to the plan it is on changes
// nothing. An unknown practice or plan is KindNotFound naming it; a plan
// in another currency than the current one's mid-period KindInvalid
// naming "plan".
func (e *Engine) Subscribe(ctx context.Context, practice tenant.PracticeID, plan billing.PlanID) (*billing.Subscription, error) {
	const op = "carebook.Subscribe"
	if _, err := e.store.Tenants.GetPractice(ctx, practice); err != nil {
		return nil, errs.WithField(err, "practice_id")
	}
	st := e.store.Billing
	p, err := st.Plan(ctx, plan)
	if err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return nil, &errs.Error{Kind: errs.KindNotFound, Op: op, Field: "plan", Msg: "no such plan", Err: err}
		}
		return nil, err
	}
	now := e.now()
	var out *billing.Subscription
	err = e.InTx(ctx, func(ctx context.Context) error {
		cur, err := st.LockSubscription(ctx, practice)
		switch {
		case errs.Is(err, errs.KindNotFound):
		case err != nil:
			return err
		case cur.Status != billing.SubscriptionCanceled:
			out, err = e.changePlan(ctx, cur, p, now)
			return err
		}
		s := &billing.Subscription{Practice: practice, Plan: p.ID, Status: billing.SubscriptionActive, PeriodStart: now, UpdatedAt: now}
		if p.TrialDays > 0 {
			s.Status, s.TrialEnd = billing.SubscriptionTrialing, now.AddDate(0, 0, p.TrialDays)
		}
		out = s
		return st.PutSubscription(ctx, s)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changePlan moves cur to plan to at now, prorating the change on the
// current period's invoice once the trial is over.
func (e *Engine) changePlan(ctx context.Context, cur *billing.Subscription, to *billing.Plan, now time.Time) (*billing.Subscription, error) {
	st := e.store.Billing
	if cur.Plan == to.ID {
		return cur, nil
	}
	if !now.Before(cur.TrialEnd) {
		from, err := st.Plan(ctx, cur.Plan)
		if err != nil {
			return nil, err
		}
		start, end := cur.Period(now)
		c, err := billing.NewPlanChange(cur.Practice, from, to, start, end, now)
		if err != nil {
			return nil, err
		}
		if err := st.AddPlanChange(ctx, c); err != nil {
			return nil, err
		}
	}
	next := *cur
	next.Plan, next.UpdatedAt = to.ID, now
	if err := st.PutSubscription(ctx, &next); err != nil {
		return nil, err
	}
	return &next, nil
}

// Subscription returns the practice's subscription, for its staff holding
// billing.read; a practice on no plan is KindNotFound naming
// "subscription".
func (e *Engine) Subscription(ctx context.Context, practice tenant.PracticeID) (*billing.Subscription, error) {
	pm, err := e.Authorize(ctx, Access{Permission: rbac.BillingRead, PracticeID: practice})
	if err != nil {
		return nil, err
	}
	var out *billing.Subscription
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		out, err = e.store.Billing.Subscription(ctx, practice)
		return "", err
	})
	return out, err
}

// UsageReport is a practice's usage over a range: per UTC day and meter,
// and the totals per meter.
type UsageReport struct {
	From, To time.Time
	Days     []billing.DayUsage
	Totals   []billing.UsageTotal
}

// Usage reports the practice's usage with from <= time < to (at most 366
// days), for its staff holding billing.read; a bad range is KindInvalid
// naming "to".
func (e *Engine) Usage(ctx context.Context, practice tenant.PracticeID, from, to time.Time) (*UsageReport, error) {
	const op = "carebook.Usage"
	pm, err := e.Authorize(ctx, Access{Permission: rbac.BillingRead, PracticeID: practice})
	if err != nil {
		return nil, err
	}
	if !to.After(from) || to.Sub(from) > 366*24*time.Hour {
		return nil, errs.Invalid(op, "to", "is after from, at most 366 days later")
	}
	out := &UsageReport{From: from, To: to}
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		if out.Days, err = e.store.Billing.UsageByDay(ctx, practice, from, to); err != nil {
			return "", err
		}
		out.Totals, err = e.store.Billing.UsageTotals(ctx, &practice, from, to)
		return "", err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// usageObserver counts each booking in "bookings", in its transaction.
type usageObserver struct{ e *Engine }

func (o usageObserver) AppointmentChanged(ctx context.Context, a *scheduling.Appointment, c *scheduling.Change) error {
	if c.Action != "book" {
		return nil
	}
	_, err := o.e.store.Billing.RecordUsage(ctx, billing.UsageEvent{Practice: a.PracticeID, Meter: billing.MeterBookings,
		Key: "appointment:" + a.ID.String(), Units: 1, At: c.At})
	return err
}

// smsQuota counts a practice's SMS against its plan's quota (notify.Quota).
type smsQuota struct{ e *Engine }

// TakeSMS counts n SMS of the practice in its current period, or refuses
// them past its plan's quota. A practice on no plan, or on one without an
// SMS quota, has no cap.
func (q smsQuota) TakeSMS(ctx context.Context, practice tenant.PracticeID, n int) error {
	const op = "carebook.TakeSMS"
	st := q.e.store.Billing
	sub, err := st.Subscription(ctx, practice)
	if errs.Is(err, errs.KindNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	plan, err := st.Plan(ctx, sub.Plan)
	if err != nil {
		return err
	}
	rate, ok := plan.Rate(billing.MeterSMSSent)
	if !ok || rate.Quota == 0 {
		return nil
	}
	start, end := sub.Period(q.e.Clock.Now())
	used, taken, err := st.TakeQuota(ctx, practice, billing.MeterSMSSent, start, int64(n), rate.Quota)
	if err != nil || taken {
		return err
	}
	e := errs.E(errs.KindPreconditionFailed, op, "the practice's plan allows "+strconv.FormatInt(rate.Quota, 10)+
		" SMS a period and "+strconv.FormatInt(used, 10)+" are used; the count resets at "+end.Format(time.RFC3339))
	e.Field, e.Details = string(billing.MeterSMSSent), billing.QuotaDetails{Meter: billing.MeterSMSSent, Limit: rate.Quota, Used: used, ResetsAt: end}
	return e
}
