package billing_test

import (
	"math"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/billingtest"
	"github.com/carebook/carebook/errs"
)

func TestPlanValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(p *billing.Plan)
		field string
	}{
		{"sample", func(*billing.Plan) {}, ""},
		{"no meters", func(p *billing.Plan) { p.Meters = nil }, ""},
		{"id", func(p *billing.Plan) { p.ID = "Basic" }, "id"},
		{"empty id", func(p *billing.Plan) { p.ID = "" }, "id"},
		{"name", func(p *billing.Plan) { p.Name = " " }, "name"},
		{"currency", func(p *billing.Plan) { p.Currency = "XXX" }, "currency"},
		{"base fee", func(p *billing.Plan) { p.BaseFee = -1 }, "base_fee"},
		{"trial", func(p *billing.Plan) { p.TrialDays = 367 }, "trial_days"},
		{"meter name", func(p *billing.Plan) { p.Meters[1].Meter = "sms sent" }, "meters[1].meter"},
		{"meter twice", func(p *billing.Plan) { p.Meters[2].Meter = billing.MeterBookings }, "meters[2].meter"},
		{"open meter", func(p *billing.Plan) { p.Meters[2].Meter = "fax_pages" }, ""},
		{"included", func(p *billing.Plan) { p.Meters[0].Included = -1 }, "meters[0].included"},
		{"unit price", func(p *billing.Plan) { p.Meters[0].UnitPrice = -5 }, "meters[0].unit_price"},
		{"quota", func(p *billing.Plan) { p.Meters[1].Quota = -1 }, "meters[1].quota"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := billingtest.SamplePlan("basic")
			tc.edit(p)
			err := p.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tc.field {
				t.Fatalf("Validate = %v, want invalid naming %s", err, tc.field)
			}
		})
	}
}

func TestPlanCharge(t *testing.T) {
	usd := func(n int64) billing.Money { return billing.Money{Amount: n, Currency: "USD"} }
	for _, tc := range []struct {
		name    string
		used    map[billing.Meter]int64
		amounts []int64 // base fee, bookings, sms, emails
		total   int64
	}{
		{"nothing used", nil, []int64{4900, 0, 0, 0}, 4900},
		{"within included", map[billing.Meter]int64{billing.MeterBookings: 200, billing.MeterSMSSent: 100, billing.MeterEmailsSent: 999}, []int64{4900, 0, 0, 0}, 4900},
		{"one beyond", map[billing.Meter]int64{billing.MeterBookings: 201}, []int64{4900, 10, 0, 0}, 4910},
		{"overage everywhere", map[billing.Meter]int64{billing.MeterBookings: 450, billing.MeterSMSSent: 130, billing.MeterEmailsSent: 1500}, []int64{4900, 2500, 150, 500}, 8050},
		{"unpriced meter is free", map[billing.Meter]int64{billing.MeterActiveProviders: 40}, []int64{4900, 0, 0, 0}, 4900},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, total, err := billingtest.SamplePlan("basic").Charge(tc.used)
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != len(tc.amounts) || total != usd(tc.total) {
				t.Fatalf("lines %+v total %v, want %d lines and %d", lines, total, len(tc.amounts), tc.total)
			}
			for i, l := range lines {
				if l.Amount != usd(tc.amounts[i]) || l.Billable != l.Used-l.Included || l.Amount.Amount != l.Billable*l.Unit && i > 0 {
					t.Errorf("line %d %+v, want %d", i, l, tc.amounts[i])
				}
			}
			if lines[0].Meter != "" || lines[1].Meter != billing.MeterBookings {
				t.Errorf("lines in the wrong order: %+v", lines)
			}
		})
	}
	for _, used := range []map[billing.Meter]int64{
		{billing.MeterBookings: math.MaxInt64},
		{billing.MeterBookings: -1},
	} {
		if _, _, err := billingtest.SamplePlan("basic").Charge(used); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "usage" {
			t.Errorf("Charge(%v) = %v, want invalid naming usage", used, err)
		}
	}
}

func TestSubscriptionPeriod(t *testing.T) {
	start := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	s := billing.Subscription{PeriodStart: start}
	for _, tc := range []struct{ at, from, to time.Time }{
		{start, start, start.AddDate(0, 1, 0)},
		{start.Add(-time.Hour), start, start.AddDate(0, 1, 0)},
		{time.Date(2026, 2, 14, 23, 0, 0, 0, time.UTC), start, start.AddDate(0, 1, 0)},
		{time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC), start.AddDate(0, 1, 0), start.AddDate(0, 2, 0)},
		{time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC), start.AddDate(1, 0, 0), start.AddDate(1, 1, 0)},
	} {
		from, to := s.Period(tc.at)
		if !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("Period(%v) = %v..%v, want %v..%v", tc.at, from, to, tc.from, tc.to)
		}
	}
}

// TestSubscriptionPeriodsTile walks three years hour by hour from
// subscriptions started late in a month: every instant falls in the period
// Period gives, each period starts where the one before it ended, and a
// period starts on the start's day or on its month's last day.
func TestSubscriptionPeriodsTile(t *testing.T) {
	for _, start := range []time.Time{
		time.Date(2026, 1, 31, 9, 30, 0, 0, time.UTC),
		time.Date(2027, 8, 30, 0, 0, 0, 0, time.UTC),
		time.Date(2028, 2, 29, 23, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		s := billing.Subscription{PeriodStart: start}
		prevFrom, prevTo := s.Period(start)
		if !prevFrom.Equal(start) {
			t.Fatalf("start %v: first period starts %v", start, prevFrom)
		}
		for at := start; at.Before(start.AddDate(3, 0, 0)); at = at.Add(time.Hour) {
			from, to := s.Period(at)
			if at.Before(from) || !at.Before(to) {
				t.Fatalf("start %v: Period(%v) = %v..%v does not hold it", start, at, from, to)
			}
			if !from.Equal(prevFrom) {
				if !from.Equal(prevTo) {
					t.Fatalf("start %v: period %v..%v follows %v..%v with a gap or overlap", start, from, to, prevFrom, prevTo)
				}
				lastDay := time.Date(from.Year(), from.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
				if from.Day() != start.Day() && from.Day() != lastDay {
					t.Fatalf("start %v: a period starts on %v", start, from)
				}
				prevFrom, prevTo = from, to
			}
		}
	}
}
