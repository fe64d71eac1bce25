package carebook

import (
	"context"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The "active_providers" meter (billing.MeterActiveProviders) counts the
// providers who work in a practice's billing period: a provider is active
// on a day when it has an appointment that is not canceled, or published
// availability (an occurrence of a block), overlapping the day. Each
// active provider counts once a period, with the key
// "provider:<id>:period:<start>", its event dated the first day it was
// active in the period; so the meter's total over a period is the number of
// distinct providers active in it, and a day's units are the providers
// first active that day. A practice on no plan has the UTC calendar month
// as its period.
//
// RollUpActiveProviders records one day; the job
// (ActiveProvidersJobName) rolls up the day before and the day of each run,
// for every practice. Rolling a day up again, or on two replicas at once,
// counts nothing twice: the events' keys are idempotent.

// DefaultActiveProvidersEvery is how often the active providers roll-up
// runs when JobsConfig leaves it 0.
const DefaultActiveProvidersEvery = time.Hour

// ActiveProvidersJobName names the active providers roll-up job.
const ActiveProvidersJobName = "carebook.active-providers"

// rollUpPage is how many practices the roll-up reads at a time.
const rollUpPage = 200

// RollUpActiveProviders records the "active_providers" usage of every
// practice for the UTC day of day, and returns how many events it newly
// recorded. It is the operator's job, not guarded by a practice's grants.
func (e *Engine) RollUpActiveProviders(ctx context.Context, day time.Time) (int, error) {
	var after tenant.PracticeID
	total := 0
	for {
		ids, err := e.store.Tenants.PracticeIDs(ctx, after, rollUpPage)
		if err != nil {
			return total, err
		}
		for _, p := range ids {
			n, err := e.RollUpPracticeActiveProviders(ctx, p, day)
			total += n
			if err != nil {
				return total, err
			}
		}
		if len(ids) < rollUpPage {
			return total, nil
		}
		after = ids[len(ids)-1]
	}
}

// RollUpPracticeActiveProviders records the "active_providers" usage of
// one practice for the UTC day of day, in one transaction, and returns how
// many events it newly recorded.
func (e *Engine) RollUpPracticeActiveProviders(ctx context.Context, practice tenant.PracticeID, day time.Time) (int, error) {
	const op = "carebook.RollUpActiveProviders"
	if practice == uuid.Nil {
		return 0, errs.Invalid(op, "practice_id", "is required")
	}
	d := day.UTC()
	from := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 1)
	n := 0
	err := e.store.InTx(ctx, func(ctx context.Context) error {
		n = 0
		period, err := e.periodOf(ctx, practice)
		if err != nil {
			return err
		}
		// A period that starts within the day splits it: each part counts
		// in its own period.
		windows := [][2]time.Time{{from, to}}
		if _, end := period(from); end.After(from) && end.Before(to) {
			windows = [][2]time.Time{{from, end}, {end, to}}
		}
		for _, w := range windows {
			// Before a subscription's first period nothing is counted.
			ps, _ := period(w[0])
			if ps.After(w[0]) {
				w[0] = ps
			}
			if !w[0].Before(w[1]) {
				continue
			}
			first, err := e.activeSince(ctx, practice, w[0], w[1])
			if err != nil {
				return err
			}
			for provider, at := range first {
				ok, err := e.store.Billing.RecordUsage(ctx, billing.UsageEvent{Practice: practice, Meter: billing.MeterActiveProviders,
					Key: "provider:" + provider.String() + ":period:" + ps.UTC().Format(time.RFC3339), Units: 1, At: at})
				if err != nil {
					return err
				}
				if ok {
					n++
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// periodOf returns the function that gives the billing period of an
// instant for the practice: its subscription's, or the UTC calendar month.
func (e *Engine) periodOf(ctx context.Context, practice tenant.PracticeID) (func(time.Time) (time.Time, time.Time), error) {
	sub, err := e.store.Billing.Subscription(ctx, practice)
	if errs.Is(err, errs.KindNotFound) {
		return func(t time.Time) (time.Time, time.Time) {
			t = t.UTC()
			start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
			return start, start.AddDate(0, 1, 0)
		}, nil
	}
	if err != nil {
		return nil, err
	}
	return sub.Period, nil
}

// activeSince returns the providers of the practice active in [from, to),
// each with the first instant of [from, to) it was: the start (clamped to
// from) of its earliest appointment that is not canceled or of its
// earliest occurrence of availability.
func (e *Engine) activeSince(ctx context.Context, practice tenant.PracticeID, from, to time.Time) (map[scheduling.ProviderID]time.Time, error) {
	first := map[scheduling.ProviderID]time.Time{}
	seen := func(p scheduling.ProviderID, start time.Time) {
		if start.Before(from) {
			start = from
		}
		start = start.UTC().Truncate(time.Microsecond)
		if t, ok := first[p]; !ok || start.Before(t) {
			first[p] = start
		}
	}
	appts, err := e.store.Scheduling.ListAppointments(ctx, practice, scheduling.AppointmentFilter{From: from, To: to,
		Status: []scheduling.Status{scheduling.StatusNew, scheduling.StatusConfirmed, scheduling.StatusArrived, scheduling.StatusOut, scheduling.StatusNoVisit}})
	if err != nil {
		return nil, err
	}
	for _, a := range appts {
		seen(a.ProviderID, a.Start)
	}
	blocks, err := e.store.Scheduling.ListBlocks(ctx, practice, scheduling.BlockFilter{From: from, To: to})
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		occ, err := scheduling.Expand(b, from, to)
		if err != nil {
			return nil, err
		}
		if len(occ) > 0 {
			seen(b.ProviderID, occ[0].Start)
		}
	}
	return first, nil
}
