package billing

import (
	"math/bits"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/tenant"
)

// PlanID is a plan's code, such as "starter": a lower-case letter, then up
// to 39 lower-case letters, digits, underscores or hyphens.
type PlanID string

var planRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// Plan is what the operator bills a practice for each period (a calendar
// month from the subscription's period start): a base fee, and per meter a
// number of units included, a price for each unit beyond them and
// optionally a quota, a hard cap of units per period.
type Plan struct {
	ID        PlanID
	Name      string
	Currency  Currency
	BaseFee   int64 // per period, in minor units of Currency
	TrialDays int   // 0..366: a new subscription is trialing that long
	Meters    []MeterRate
	// APIRate is the rate of API requests each practice on the plan may
	// make; Off (the zero Limit) leaves the server's default rate.
	APIRate ratelimit.Limit
}

// MeterRate is how a plan prices one meter.
type MeterRate struct {
	Meter     Meter
	Included  int64 // units in the base fee
	UnitPrice int64 // minor units of the plan's currency per unit beyond Included
	// Quota is the most units a period may use; 0 means no cap.
	Quota int64
}

// Rate returns the plan's rate of meter, and whether it prices it.
func (p *Plan) Rate(m Meter) (MeterRate, bool) {
	for _, r := range p.Meters {
		if r.Meter == m {
			return r, true
		}
	}
	return MeterRate{}, false
}

// Validate checks the plan, naming the bad field ("id", "name", "currency",
// "base_fee", "trial_days", "meters[i].meter", "meters[i].included",
// "meters[i].unit_price", "meters[i].quota") with errs.KindInvalid.
func (p *Plan) Validate() error {
	const op = "billing.Plan.Validate"
	switch {
	case !planRE.MatchString(string(p.ID)):
		return errs.Invalid(op, "id", `a plan's code is a lower-case letter then up to 39 of a-z, 0-9, "_" or "-"`)
	case strings.TrimSpace(p.Name) == "" || len(p.Name) > 100:
		return errs.Invalid(op, "name", "is required, at most 100 bytes")
	case !p.Currency.Known():
		return errs.Invalid(op, "currency", "is an ISO 4217 code carebook knows, such as USD")
	case p.BaseFee < 0:
		return errs.Invalid(op, "base_fee", "must not be negative")
	case p.TrialDays < 0 || p.TrialDays > 366:
		return errs.Invalid(op, "trial_days", "is 0 to 366")
	case len(p.Meters) > 50:
		return errs.Invalid(op, "meters", "at most 50")
	}
	if err := p.APIRate.Validate(op, "api_rate"); err != nil {
		return err
	}
	if p.APIRate.Period%time.Millisecond != 0 {
		return errs.Invalid(op, "api_rate.period", "is a whole number of milliseconds")
	}
	seen := map[Meter]bool{}
	for i, r := range p.Meters {
		f := "meters[" + strconv.Itoa(i) + "]."
		if err := r.Meter.Validate(op, f+"meter"); err != nil {
			return err
		}
		switch {
		case seen[r.Meter]:
			return errs.Invalid(op, f+"meter", "is priced twice")
		case r.Included < 0:
			return errs.Invalid(op, f+"included", "must not be negative")
		case r.UnitPrice < 0:
			return errs.Invalid(op, f+"unit_price", "must not be negative")
		case r.Quota < 0:
			return errs.Invalid(op, f+"quota", "must not be negative (0: no cap)")
		}
		seen[r.Meter] = true
	}
	return nil
}

// ChargeLine is one line of a period's charge: the base fee (Meter empty)
// or a meter's overage.
type ChargeLine struct {
	Meter    Meter // empty for the base fee
	Used     int64 // units used in the period
	Included int64 // of them, in the base fee
	Billable int64 // Used beyond Included
	Unit     int64 // price per billable unit
	Amount   Money
}

// Charge computes the lines of one period's charge under p from the units
// used per meter: the base fee, then one line per priced meter in the
// plan's order, with its overage beyond the included units, and their
// total. Meters the plan does not price cost nothing. A total beyond int64
// is KindInvalid naming "usage"; negative usage names "usage" too.
func (p *Plan) Charge(used map[Meter]int64) ([]ChargeLine, Money, error) {
	const op = "billing.Plan.Charge"
	lines := []ChargeLine{{Unit: p.BaseFee, Amount: Money{Amount: p.BaseFee, Currency: p.Currency}}}
	total := p.BaseFee
	for _, r := range p.Meters {
		u := used[r.Meter]
		if u < 0 {
			return nil, Money{}, errs.Invalid(op, "usage", "usage of "+string(r.Meter)+" is negative")
		}
		l := ChargeLine{Meter: r.Meter, Used: u, Included: min(u, r.Included), Unit: r.UnitPrice}
		l.Billable = u - l.Included
		hi, lo := bits.Mul64(uint64(l.Billable), uint64(r.UnitPrice))
		sum := total + int64(lo)
		if hi != 0 || lo > 1<<63-1 || sum < total {
			return nil, Money{}, errs.Invalid(op, "usage", "the charge is too large")
		}
		l.Amount = Money{Amount: int64(lo), Currency: p.Currency}
		total = sum
		lines = append(lines, l)
	}
	return lines, Money{Amount: total, Currency: p.Currency}, nil
}

// SubscriptionStatus is where a practice's subscription stands.
type SubscriptionStatus string

// The statuses of a subscription.
const (
	SubscriptionTrialing SubscriptionStatus = "trialing"  // in its trial: nothing is charged
	SubscriptionActive   SubscriptionStatus = "active"    // billed each period
	SubscriptionPastDue  SubscriptionStatus = "past_due"  // a charge failed; still working
	SubscriptionReadOnly SubscriptionStatus = "read_only" // unpaid: the practice reads but does not write
	SubscriptionCanceled SubscriptionStatus = "canceled"  // ended
)

// Valid reports whether s is one of the statuses.
func (s SubscriptionStatus) Valid() bool {
	switch s {
	case SubscriptionTrialing, SubscriptionActive, SubscriptionPastDue, SubscriptionReadOnly, SubscriptionCanceled:
		return true
	}
	return false
}

// Subscription is a practice's plan: one per practice.
type Subscription struct {
	Practice    tenant.PracticeID
	Plan        PlanID
	Status      SubscriptionStatus
	TrialEnd    time.Time // zero without a trial
	PeriodStart time.Time // the start of the first period; periods are calendar months from it
	UpdatedAt   time.Time
}

// Period returns the billing period [start, end) holding t: whole months
// counted from the subscription's PeriodStart (before it, the first). A
// period starts on PeriodStart's day of the month, or on the month's last
// day when it has fewer days (a subscription of January 31 renews on
// February 28, then March 31), so periods tile time with no gap or overlap.
func (s *Subscription) Period(t time.Time) (start, end time.Time) {
	first := s.PeriodStart.UTC()
	t = t.UTC()
	months := (t.Year()-first.Year())*12 + int(t.Month()-first.Month())
	if months < 0 {
		months = 0
	}
	if months > 0 && monthsAfter(first, months).After(t) {
		months--
	}
	return monthsAfter(first, months), monthsAfter(first, months+1)
}

// monthsAfter is first moved n calendar months on, its day of the month
// kept, or clamped to the last day of a shorter month (time.AddDate would
// roll January 31 over into March).
func monthsAfter(first time.Time, n int) time.Time {
	y, m := first.Year(), first.Month()+time.Month(n)
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	d := min(first.Day(), last)
	return time.Date(y, m, d, first.Hour(), first.Minute(), first.Second(), first.Nanosecond(), time.UTC)
}
