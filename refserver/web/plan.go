package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
)

// The practice administrator's plan and usage page: the plan the practice
// is on, its trial and current period, and its usage of each meter in the
// period against the units the plan includes (and its quota, if any), with
// a small chart of the period's days drawn on the server as inline SVG (the
// pages' CSP allows no script, and needs none).

// planRoutes are the plan and usage page's.
func (s *pages) planRoutes() []refserver.Route {
	return []refserver.Route{
		route("GET", "/p/{practice}/billing", s.showPlan, "The practice's plan, trial and period, and its usage of each meter against the plan",
			refserver.Needs(rbac.BillingRead)),
	}
}

// planPage is the plan and usage page.
type planPage struct {
	*view
	// Base is the billing pages' root.
	Base string
	// NoPlan: the practice is on no plan, and nothing else is shown.
	NoPlan bool
	Plan   string
	// Status is the subscription's status in words; TrialEnd, when in a
	// trial, the day it ends.
	Status, TrialEnd string
	BaseFee          string
	From, To         string
	Meters           []meterUsage
}

// meterUsage is one meter's usage in the period, in words and as a chart.
type meterUsage struct {
	ID, Name, Used, Quota, Over string
	Chart                       usageChart
}

// usageChart is a meter's period drawn as an SVG: one bar a day, its
// height the units used from the period's start to the day's end, and a
// dashed line at the units included (and one at the quota).
type usageChart struct {
	Title             string
	Width, Height     int
	Bars              []usageBar
	IncludedY, QuotaY int // -1: no line
}

// usageBar is one day's bar; Over when the count is past the included
// units.
type usageBar struct {
	X, Y, W, H int
	Over       bool
	Label      string
}

// Chart geometry, in SVG user units.
const (
	chartWidth  = 320
	chartHeight = 96
)

// meterKeys are the meters the catalog names (plan.meter.<meter>).
var meterKeys = []billing.Meter{billing.MeterBookings, billing.MeterSMSSent, billing.MeterEmailsSent, billing.MeterActiveProviders}

func (s *pages) showPlan(w http.ResponseWriter, r *http.Request) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	v := s.newView(r, "plan.title")
	page := &planPage{view: v, Base: "/p/" + pid.String() + "/billing"}
	sub, err := s.engine.Subscription(ctx, pid)
	if errs.Is(err, errs.KindNotFound) {
		page.NoPlan = true
		return s.render(w, http.StatusOK, "plan.html", page)
	}
	if err != nil {
		return err
	}
	plans, err := s.engine.Plans(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(plans, func(p *billing.Plan) bool { return p.ID == sub.Plan })
	if i < 0 {
		return errs.NotFound("web.showPlan", "plan")
	}
	plan := plans[i]
	now := s.engine.Clock.Now()
	from, to := sub.Period(now)
	rep, err := s.engine.Usage(ctx, pid, from, to)
	if err != nil {
		return err
	}
	page.Plan, page.Status = plan.Name, v.tf("plan.status.", string(sub.Status))
	if sub.Status == billing.SubscriptionTrialing && !sub.TrialEnd.IsZero() {
		page.TrialEnd = v.date(sub.TrialEnd)
	}
	page.BaseFee = billing.Money{Amount: plan.BaseFee, Currency: plan.Currency}.String()
	page.From, page.To = v.date(from), v.date(to)

	totals := map[billing.Meter]int64{}
	for _, t := range rep.Totals {
		totals[t.Meter] += t.Units
	}
	days := map[billing.Meter]map[time.Time]int64{}
	for _, d := range rep.Days {
		if days[d.Meter] == nil {
			days[d.Meter] = map[time.Time]int64{}
		}
		days[d.Meter][d.Day] += d.Units
	}
	rates := plan.Meters
	for _, t := range rep.Totals { // usage of a meter the plan does not price
		if _, ok := plan.Rate(t.Meter); !ok && !slices.ContainsFunc(rates, func(m billing.MeterRate) bool { return m.Meter == t.Meter }) {
			rates = append(rates, billing.MeterRate{Meter: t.Meter})
		}
	}
	for _, m := range rates {
		used := totals[m.Meter]
		name := string(m.Meter)
		if slices.Contains(meterKeys, m.Meter) {
			name = v.tf("plan.meter.", string(m.Meter))
		}
		u := meterUsage{ID: string(m.Meter), Name: name, Used: v.T("plan.used", used, m.Included)}
		if m.Quota > 0 {
			u.Quota = v.T("plan.quota", m.Quota)
		}
		if over := used - m.Included; over > 0 && m.UnitPrice > 0 {
			u.Over = v.T("plan.over", over, billing.Money{Amount: over * m.UnitPrice, Currency: plan.Currency}.String())
		}
		u.Chart = drawUsage(v, name, days[m.Meter], from, to, now, m.Included, m.Quota)
		page.Meters = append(page.Meters, u)
	}
	return s.render(w, http.StatusOK, "plan.html", page)
}

// drawUsage draws a meter's period [from, to) up to now: a bar for each UTC
// day, as tall as the units used from the start of the period to the end
// of that day.
func drawUsage(v *view, name string, byDay map[time.Time]int64, from, to, now time.Time, included, quota int64) usageChart {
	first := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	var dates []time.Time
	for d := first; d.Before(to.UTC()); d = d.AddDate(0, 0, 1) {
		dates = append(dates, d)
	}
	cum := make([]int64, len(dates))
	var sum int64
	for i, d := range dates {
		sum += byDay[d]
		cum[i] = sum
	}
	top := max(included, quota, sum, 1)
	top += max(top/10, 1) // head room above the highest line or bar
	y := func(n int64) int { return chartHeight - int(n*chartHeight/top) }
	c := usageChart{Title: v.T("plan.chart", name, included), Width: chartWidth, Height: chartHeight, IncludedY: -1, QuotaY: -1}
	if included > 0 {
		c.IncludedY = y(included)
	}
	if quota > 0 {
		c.QuotaY = y(quota)
	}
	bw := chartWidth / max(len(dates), 1)
	for i, d := range dates {
		if d.After(now) {
			break // days to come have no bar
		}
		top := y(cum[i])
		c.Bars = append(c.Bars, usageBar{X: i*bw + 1, Y: top, W: max(bw-2, 1), H: chartHeight - top, Over: cum[i] > included,
			Label: d.Format(time.DateOnly) + ": " + strconv.FormatInt(cum[i], 10)})
	}
	return c
}
