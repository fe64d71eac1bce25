package billing

import (
	"context"
	"time"

	"github.com/carebook/carebook/tenant"
)

// UsageEvent is one count of a meter for a practice. Its Key makes it
// idempotent: a second event with the practice, meter and key of a
// recorded one is not counted again.
type UsageEvent struct {
	Practice tenant.PracticeID
	Meter    Meter
	Key      string // at most 200 bytes, such as "appointment:<id>"
	Units    int64  // > 0
	At       time.Time
}

// DayUsage is the units of a meter a practice used on one UTC day.
type DayUsage struct {
	Day   time.Time // midnight UTC
	Meter Meter
	Units int64
}

// UsageTotal is the units of a meter a practice used in a range.
type UsageTotal struct {
	Practice tenant.PracticeID
	Meter    Meter
	Units    int64
}

// QuotaDetails are the Details of the KindPreconditionFailed error that
// refuses what a plan's quota does not allow: the meter, its quota per
// period, the units already counted in the period and when the period (and
// so the count) resets.
type QuotaDetails struct {
	Meter    Meter     `json:"meter"`
	Limit    int64     `json:"limit"`
	Used     int64     `json:"used"`
	ResetsAt time.Time `json:"resets_at"`
}

// UsageStore keeps the operator's plans, the practices' subscriptions, the
// usage events and the quota counters. Implementations run on the
// transaction InTx puts in the context, and pass billingtest.RunUsage.
type UsageStore interface {
	// InTx runs fn in a transaction carried by the context it is given.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error

	// PutPlan writes p (validated by the caller), replacing the plan of
	// its ID.
	PutPlan(ctx context.Context, p *Plan) error
	// Plan reads plan id, or errs.KindNotFound.
	Plan(ctx context.Context, id PlanID) (*Plan, error)
	// Plans lists every plan by ID.
	Plans(ctx context.Context) ([]*Plan, error)
	// PutSubscription writes the practice's subscription, replacing its
	// earlier one; an unknown plan is errs.KindNotFound naming "plan".
	PutSubscription(ctx context.Context, s *Subscription) error
	// Subscription reads the practice's subscription, or
	// errs.KindNotFound.
	Subscription(ctx context.Context, practice tenant.PracticeID) (*Subscription, error)
	// LockSubscription is Subscription, holding the row until the
	// transaction in ctx ends, so that a trial's end and a payment method
	// attached at that moment are decided one after the other.
	LockSubscription(ctx context.Context, practice tenant.PracticeID) (*Subscription, error)
	// SetSubscriptionStatus changes the practice's subscription's status;
	// a practice on no plan is left so (false).
	SetSubscriptionStatus(ctx context.Context, practice tenant.PracticeID, status SubscriptionStatus, at time.Time) (bool, error)
	// TrialsEnded lists, across practices, the subscriptions still
	// trialing whose trial ended at or before now, the earliest first, at
	// most limit.
	TrialsEnded(ctx context.Context, now time.Time, limit int) ([]*Subscription, error)

	// PutPaymentMethod writes the practice's payment method on file,
	// replacing an earlier one.
	PutPaymentMethod(ctx context.Context, m *PaymentMethod) error
	// PaymentMethod reads the practice's payment method, or
	// errs.KindNotFound.
	PaymentMethod(ctx context.Context, practice tenant.PracticeID) (*PaymentMethod, error)

	// EnterReadOnly records that ro.Practice is read-only for ro.Reason
	// since ro.Since and reports true, or false (writing nothing) when it
	// already is for that reason.
	EnterReadOnly(ctx context.Context, ro ReadOnly) (bool, error)
	// LeaveReadOnly removes the practice's read-only state for reason and
	// reports whether it was in force.
	LeaveReadOnly(ctx context.Context, practice tenant.PracticeID, reason ReadOnlyReason) (bool, error)
	// ReadOnly lists the reasons the practice is read-only, the oldest
	// first; none when it is not.
	ReadOnly(ctx context.Context, practice tenant.PracticeID) ([]ReadOnly, error)

	// RecordUsage writes ev and reports true, or false (writing nothing)
	// when the practice already has an event of that meter and key.
	RecordUsage(ctx context.Context, ev UsageEvent) (bool, error)
	// UsageByDay sums the practice's events with from <= At < to per UTC
	// day and meter, by day then meter.
	UsageByDay(ctx context.Context, practice tenant.PracticeID, from, to time.Time) ([]DayUsage, error)
	// UsageTotals sums the events with from <= At < to per practice and
	// meter, of one practice or (practice nil) of all, by practice then
	// meter.
	UsageTotals(ctx context.Context, practice *tenant.PracticeID, from, to time.Time) ([]UsageTotal, error)

	// TakeQuota counts n units of meter in the practice's period starting
	// at period, if the count stays within quota, and returns the count
	// after (taken) or as it stands (refused): the check and the count are
	// one statement, so that concurrent takers never pass the quota
	// together. A refusal is not an error and leaves the transaction in ctx
	// usable.
	TakeQuota(ctx context.Context, practice tenant.PracticeID, meter Meter, period time.Time, n, quota int64) (used int64, taken bool, err error)
}
