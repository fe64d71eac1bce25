package billing_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

func TestProrate(t *testing.T) {
	for _, tc := range []struct {
		name          string
		fee, days, of int64
		want          int64
	}{
		{"the whole period", 4900, 30, 30, 4900},
		{"nothing left", 4900, 0, 30, 0},
		{"half", 4900, 15, 30, 2450},
		{"a third rounds down", 1000, 10, 30, 333},    // 333.33…
		{"two thirds round up", 1000, 20, 30, 667},    // 666.66…
		{"half a unit rounds up", 1, 15, 30, 1},       // 0.5
		{"just under half rounds down", 1, 14, 30, 0}, // 0.466…
		{"yen, February", 5000, 14, 28, 2500},
		{"fils, 31 days", 12345, 10, 31, 3982}, // 3982.258…
		{"days past the period are clamped", 900, 40, 30, 900},
		{"negative days are none", 900, -3, 30, 0},
		{"no period", 900, 3, 0, 0},
		{"a fee that overflows when multiplied", math.MaxInt64, 30, 31, 8925843906633654007},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := billing.Prorate(tc.fee, tc.days, tc.of); got != tc.want {
				t.Fatalf("Prorate(%d, %d, %d) = %d, want %d", tc.fee, tc.days, tc.of, got, tc.want)
			}
		})
	}
}

func TestNewPlanChange(t *testing.T) {
	start := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	end := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC) // 31 days
	basic := &billing.Plan{ID: "basic", Currency: "USD", BaseFee: 3100}
	pro := &billing.Plan{ID: "pro", Currency: "USD", BaseFee: 9300}
	for _, tc := range []struct {
		name                 string
		from, to             *billing.Plan
		at                   time.Time
		days, credit, charge int64
	}{
		{"upgrade on the first day", basic, pro, start.Add(time.Hour), 30, 3000, 9000},
		{"upgrade half way through a day", basic, pro, start.Add(10*24*time.Hour + 12*time.Hour), 20, 2000, 6000},
		{"downgrade on the last day", pro, basic, end.Add(-time.Hour), 0, 0, 0},
		{"at the very start", basic, pro, start, 31, 3100, 9300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := billing.NewPlanChange(uuid.Nil, tc.from, tc.to, start, end, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if c.Days != tc.days || c.PeriodDays != 31 || c.Credit != tc.credit || c.Charge != tc.charge {
				t.Fatalf("change %+v, want %d days, credit %d, charge %d", c, tc.days, tc.credit, tc.charge)
			}
		})
	}
	yen := &billing.Plan{ID: "yen", Currency: "JPY", BaseFee: 5000}
	if _, err := billing.NewPlanChange(uuid.Nil, basic, yen, start, end, start); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "plan" {
		t.Fatalf("a change of currency: %v, want invalid naming plan", err)
	}
}

func TestPeriodDays(t *testing.T) {
	sub := billing.Subscription{PeriodStart: time.Date(2026, 1, 31, 15, 4, 0, 0, time.UTC)}
	want := []int64{28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31}
	at := sub.PeriodStart
	for i, w := range want {
		s, e := sub.Period(at)
		if got := billing.PeriodDays(s, e); got != w {
			t.Fatalf("period %d [%s, %s): %d days, want %d", i, s, e, got, w)
		}
		at = e
	}
}

// TestInvoiceTotalIsSumOfLines is the property: whatever the plan, the
// currency (0, 2 or 3 decimals), the usage and the plan changes, an
// invoice's total is exactly the sum of its lines in integer minor units,
// never negative, and what does not fit int64 is refused rather than
// wrapped.
func TestInvoiceTotalIsSumOfLines(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 2026))
	currencies := []billing.Currency{"JPY", "USD", "KWD", "BHD"}
	meters := []billing.Meter{billing.MeterBookings, billing.MeterSMSSent, billing.MeterEmailsSent, billing.MeterActiveProviders}
	amount := func() int64 {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return r.Int64N(100)
		case 2:
			return r.Int64N(10_000_000)
		}
		return r.Int64N(math.MaxInt64/4) + 1 // large enough to overflow some sums
	}
	start := time.Date(2026, 1, 31, 8, 0, 0, 0, time.UTC)
	refused := 0
	for i := range 5000 {
		cur := currencies[r.IntN(len(currencies))]
		plan := func(id billing.PlanID) *billing.Plan {
			p := &billing.Plan{ID: id, Name: string(id), Currency: cur, BaseFee: amount()}
			for _, m := range meters[:r.IntN(len(meters)+1)] {
				p.Meters = append(p.Meters, billing.MeterRate{Meter: m, Included: r.Int64N(1000), UnitPrice: amount()})
			}
			return p
		}
		sub := billing.Subscription{PeriodStart: start}
		ps, pe := sub.Period(start.AddDate(0, r.IntN(12), 0))
		d := billing.InvoiceDraft{ID: uuid.New(), PeriodStart: ps, PeriodEnd: pe, BilledFrom: ps, Used: map[billing.Meter]int64{}, CreatedAt: pe}
		if r.IntN(4) == 0 {
			d.BilledFrom = ps.Add(time.Duration(r.Int64N(int64(pe.Sub(ps)))))
		}
		cur0 := plan("p0")
		at := d.BilledFrom
		for n := range r.IntN(4) {
			next := plan(billing.PlanID("p" + string(rune('1'+n))))
			at = at.Add(time.Duration(r.Int64N(int64(pe.Sub(at)) + 1)))
			c, err := billing.NewPlanChange(uuid.Nil, cur0, next, ps, pe, at)
			if err != nil {
				t.Fatal(err)
			}
			d.Changes = append(d.Changes, c)
			cur0 = next
		}
		d.Plan = cur0
		for _, m := range meters {
			if r.IntN(2) == 0 {
				d.Used[m] = r.Int64N(1_000_000)
			}
		}
		inv, err := billing.NewInvoice(d)
		// The exact sum, in big integers, of what the lines must be.
		exact := new(big.Int)
		if err != nil {
			if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "usage" {
				t.Fatalf("case %d: %v, want invalid naming usage", i, err)
			}
			refused++
			continue
		}
		for _, l := range inv.Lines {
			exact.Add(exact, big.NewInt(l.Amount))
			if l.Kind == billing.LineUsage {
				want := new(big.Int).Mul(big.NewInt(l.Quantity), big.NewInt(l.Unit))
				if want.Cmp(big.NewInt(l.Amount)) != 0 {
					t.Fatalf("case %d: usage line %+v is not quantity × unit", i, l)
				}
			}
		}
		if !exact.IsInt64() || exact.Int64() != inv.Total.Amount || inv.Total.Amount < 0 || inv.Total.Currency != cur {
			t.Fatalf("case %d: total %v, the lines add up to %s", i, inv.Total, exact)
		}
		if err := inv.Total.Validate("test", "total"); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if want := 1 + 2*len(d.Changes) + len(d.Plan.Meters); len(inv.Lines) != want {
			t.Fatalf("case %d: %d lines, want %d", i, len(inv.Lines), want)
		}
	}
	if refused == 0 || refused > 4000 {
		t.Fatalf("%d of 5000 refused as too large: the generator misses a side", refused)
	}
}

func TestNewInvoiceLines(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 1, 0) // 31 days
	basic := &billing.Plan{ID: "basic", Currency: "USD", BaseFee: 3100, Meters: []billing.MeterRate{
		{Meter: billing.MeterSMSSent, Included: 100, UnitPrice: 5}, {Meter: billing.MeterBookings, Included: 10, UnitPrice: 20}}}
	pro := &billing.Plan{ID: "pro", Currency: "USD", BaseFee: 6200, Meters: []billing.MeterRate{{Meter: billing.MeterSMSSent, Included: 1000, UnitPrice: 2}}}
	change, err := billing.NewPlanChange(uuid.Nil, basic, pro, start, end, start.AddDate(0, 0, 21))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		d       billing.InvoiceDraft
		amounts []int64
		total   int64
	}{
		{"base and overage", billing.InvoiceDraft{Plan: basic, BilledFrom: start, Used: map[billing.Meter]int64{billing.MeterSMSSent: 130, billing.MeterBookings: 4}},
			[]int64{3100, 150, 0}, 3250},
		{"a trial ending on day 11", billing.InvoiceDraft{Plan: basic, BilledFrom: start.AddDate(0, 0, 10)},
			[]int64{2100, 0, 0}, 2100},
		{"an upgrade with 10 days left", billing.InvoiceDraft{Plan: pro, BilledFrom: start, Used: map[billing.Meter]int64{billing.MeterSMSSent: 1200}, Changes: []billing.PlanChange{change}},
			[]int64{3100, -1000, 2000, 400}, 4500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.d.PeriodStart, tc.d.PeriodEnd = start, end
			inv, err := billing.NewInvoice(tc.d)
			if err != nil {
				t.Fatal(err)
			}
			got := []int64{}
			for _, l := range inv.Lines {
				got = append(got, l.Amount)
			}
			if len(got) != len(tc.amounts) || inv.Total.Amount != tc.total {
				t.Fatalf("lines %v total %d, want %v total %d", got, inv.Total.Amount, tc.amounts, tc.total)
			}
			for i := range got {
				if got[i] != tc.amounts[i] {
					t.Fatalf("lines %v, want %v", got, tc.amounts)
				}
			}
			if inv.Lines[0].Plan != "basic" || inv.Status != billing.InvoiceOpen {
				t.Fatalf("the base line bills %s (status %s), want the plan the period began with", inv.Lines[0].Plan, inv.Status)
			}
		})
	}
}

func TestDunning(t *testing.T) {
	d := billing.Dunning{RetryDays: []int{1, 3, 7}}
	t0 := time.Date(2026, 4, 1, 6, 0, 0, 0, time.UTC)
	fail := func(at time.Time) billing.Attempt { return billing.Attempt{At: at, Error: "declined"} }
	for _, tc := range []struct {
		name     string
		attempts []billing.Attempt
		step     billing.DunningStep
		next     time.Time
	}{
		{"paid at once", []billing.Attempt{{At: t0, Paid: true}}, billing.StepPaid, time.Time{}},
		{"first failure", []billing.Attempt{fail(t0)}, billing.StepRetry, t0.AddDate(0, 0, 1)},
		{"second failure", []billing.Attempt{fail(t0), fail(t0.AddDate(0, 0, 1))}, billing.StepRetry, t0.AddDate(0, 0, 3)},
		{"third failure", []billing.Attempt{fail(t0), fail(t0.AddDate(0, 0, 1)), fail(t0.AddDate(0, 0, 3))}, billing.StepRetry, t0.AddDate(0, 0, 7)},
		{"the last retry fails", []billing.Attempt{fail(t0), fail(t0.AddDate(0, 0, 1)), fail(t0.AddDate(0, 0, 3)), fail(t0.AddDate(0, 0, 7))}, billing.StepExhausted, time.Time{}},
		{"a late retry skips the days passed", []billing.Attempt{fail(t0), fail(t0.AddDate(0, 0, 4))}, billing.StepRetry, t0.AddDate(0, 0, 7)},
		{"a retry too late for any day left", []billing.Attempt{fail(t0), fail(t0.AddDate(0, 0, 8))}, billing.StepExhausted, time.Time{}},
		{"paid on a retry", []billing.Attempt{fail(t0), {At: t0.AddDate(0, 0, 1), Paid: true}}, billing.StepPaid, time.Time{}},
		{"failing again after the card changed", []billing.Attempt{fail(t0), fail(t0.AddDate(0, 0, 1)), fail(t0.AddDate(0, 0, 3)), fail(t0.AddDate(0, 0, 7)), fail(t0.AddDate(0, 0, 9))}, billing.StepExhausted, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step, next := d.After(tc.attempts)
			if step != tc.step || !next.Equal(tc.next) {
				t.Fatalf("After = %s, %v; want %s, %v", step, next, tc.step, tc.next)
			}
			inv := &billing.Invoice{Status: billing.InvoiceOpen}
			last := tc.attempts[len(tc.attempts)-1]
			inv.Attempts = tc.attempts[:len(tc.attempts)-1]
			if got := d.Record(inv, last); got != tc.step || !inv.NextAttempt.Equal(tc.next) {
				t.Fatalf("Record = %s next %v", got, inv.NextAttempt)
			}
			if paid := inv.Status == billing.InvoicePaid; paid != (tc.step == billing.StepPaid) || (paid && !inv.PaidAt.Equal(last.At)) {
				t.Fatalf("status %s paid at %v after %s", inv.Status, inv.PaidAt, tc.step)
			}
		})
	}
	for _, bad := range [][]int{nil, {0}, {3, 3}, {5, 2}, {91}} {
		if err := (billing.Dunning{RetryDays: bad}).Validate(); errs.FieldOf(err) != "retry_days" {
			t.Errorf("retry days %v: %v, want invalid naming retry_days", bad, err)
		}
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
}
