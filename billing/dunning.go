package billing

import (
	"strconv"
	"time"

	"github.com/carebook/carebook/errs"
)

// DefaultRetryDays are the days after an invoice's first failed charge
// that Dunning tries it again when none are configured.
var DefaultRetryDays = []int{1, 3, 7}

// Dunning is how failed invoices are chased: tried again RetryDays after
// the first failure (days counted from it, each later than the one
// before); once the last retry fails too, the practice becomes read-only.
type Dunning struct {
	RetryDays []int
}

// Validate checks the retry days: 1 to 20 of them, each 1 to 90 and later
// than the one before. Errors name "retry_days".
func (d Dunning) Validate() error {
	const op = "billing.Dunning.Validate"
	if len(d.RetryDays) == 0 || len(d.RetryDays) > 20 {
		return errs.Invalid(op, "retry_days", "1 to 20 days after the first failure")
	}
	prev := 0
	for i, n := range d.RetryDays {
		if n < 1 || n > 90 || n <= prev {
			return errs.Invalid(op, "retry_days", "day "+strconv.Itoa(i+1)+" is 1 to 90 and later than the one before")
		}
		prev = n
	}
	return nil
}

// DunningStep is what a charge's outcome does to an invoice.
type DunningStep string

// The steps of dunning.
const (
	StepPaid      DunningStep = "paid"      // paid: nothing more to chase
	StepRetry     DunningStep = "retry"     // failed: tried again at Next
	StepExhausted DunningStep = "exhausted" // failed the last retry: the practice becomes read-only
)

// After decides what follows attempts, an invoice's charges in the order
// made, the last one just recorded: paid, a retry on the next configured
// day after the first failure that is after the last attempt, or, with
// none left, exhausted.
func (d Dunning) After(attempts []Attempt) (step DunningStep, next time.Time) {
	if len(attempts) == 0 {
		return StepRetry, time.Time{}
	}
	last := attempts[len(attempts)-1]
	if last.Paid {
		return StepPaid, time.Time{}
	}
	var first time.Time
	failures := 0
	for _, a := range attempts {
		if !a.Paid {
			if failures == 0 {
				first = a.At
			}
			failures++
		}
	}
	for _, n := range d.RetryDays[min(failures-1, len(d.RetryDays)):] {
		if at := first.AddDate(0, 0, n); at.After(last.At) {
			return StepRetry, at
		}
	}
	return StepExhausted, time.Time{}
}

// Record appends a, an attempt of inv, and applies the dunning decision:
// the status, the next attempt and the paid time. It returns the step.
func (d Dunning) Record(inv *Invoice, a Attempt) DunningStep {
	inv.Attempts = append(inv.Attempts, a)
	step, next := d.After(inv.Attempts)
	inv.NextAttempt = next
	switch step {
	case StepPaid:
		inv.Status, inv.PaidAt = InvoicePaid, a.At
	default:
		inv.Status = InvoiceFailed
	}
	return step
}
