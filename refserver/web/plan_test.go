package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/internal/demo"
	"github.com/chromedp/chromedp"
)

// planMatrix are the rows of the plan and usage page.
var planMatrix = map[string]string{
	"GET /p/{practice}/billing": "yfffns",
}

// subscribeDemo puts the demo practice on a plan like billingtest's sample
// (bookings, SMS with a quota, emails, and active providers with 1
// included), and rolls up its active providers of the test day.
func (a *app) subscribeDemo(t *testing.T) *billing.Plan {
	t.Helper()
	ctx := context.Background()
	p := &billing.Plan{ID: "clinic", Name: "Clinic monthly", Currency: "USD", BaseFee: 4900, TrialDays: 14,
		Meters: []billing.MeterRate{
			{Meter: billing.MeterBookings, Included: 20, UnitPrice: 10},
			{Meter: billing.MeterSMSSent, Included: 100, UnitPrice: 5, Quota: 500},
			{Meter: billing.MeterEmailsSent, Included: 1000, UnitPrice: 1},
			{Meter: billing.MeterActiveProviders, Included: 1, UnitPrice: 2500},
		}}
	if err := a.engine.PutPlan(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := a.engine.Subscribe(ctx, a.demo.PracticeID, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.engine.RollUpActiveProviders(ctx, a.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPlanPage: the administrator reaches the plan and usage page from the
// navigation; on no plan it says so; on one it shows the plan, the trial,
// the period, and each meter's usage against what the plan includes, with
// its chart as inline SVG (no script, no inline style), in English and in
// Spanish; the front desk is refused.
func TestPlanPage(t *testing.T) {
	a := newSQLiteApp(t)
	admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
	page := a.base() + "/billing"
	admin.get(a.base()+"/setup").want(t, http.StatusOK, `href="`+page+`">`+en("nav.billing")+"</a>")
	admin.get(page).want(t, http.StatusOK, "<h1>"+en("plan.title")+"</h1>", en("plan.none"))

	a.subscribeDemo(t)
	from, to := a.clock.Now(), a.clock.Now().AddDate(0, 1, 0)
	rep, err := a.engine.Usage(a.adminCtx(), a.demo.PracticeID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := map[billing.Meter]int64{}
	for _, u := range rep.Totals {
		want[u.Meter] = u.Units
	}
	if want[billing.MeterActiveProviders] < 2 {
		t.Fatalf("the demo's active providers: %d, want 2 or more for a meter past what is included", want[billing.MeterActiveProviders])
	}
	res := admin.get(page).want(t, http.StatusOK, "Clinic monthly", en("plan.status.trialing"), "49.00 USD",
		`aria-current="page"`, `<svg class="usage-chart"`, `role="img"`, `class="usage-included"`, `class="usage-quota"`)
	for _, m := range []billing.Meter{billing.MeterBookings, billing.MeterSMSSent, billing.MeterEmailsSent, billing.MeterActiveProviders} {
		if !strings.Contains(res.body, `id="meter-`+string(m)+`"`) {
			t.Errorf("no card of meter %s", m)
		}
	}
	active := want[billing.MeterActiveProviders]
	res.want(t, http.StatusOK, fmt.Sprintf(en("plan.used"), active, 1),
		fmt.Sprintf(en("plan.over"), active-1, billing.Money{Amount: 2500 * (active - 1), Currency: "USD"}))
	if regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]|\sstyle="|<style`).MatchString(res.body) {
		t.Error("the page has an inline script or style")
	}
	if n := strings.Count(res.body, `<rect class="usage-bar`); n < 4 {
		t.Errorf("%d bars, want one for today in each of the 4 charts", n)
	}
	if !strings.Contains(res.body, `<rect class="usage-bar over"`) {
		t.Error("no bar past what is included (active providers)")
	}

	admin.get("/lang/es")
	admin.get(page).want(t, http.StatusOK, "<h1>Plan y consumo</h1>", "Profesionales activos", "Prueba", "la prueba termina el")

	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	desk.get(page).want(t, http.StatusForbidden)
	if strings.Contains(desk.get(a.base()+"/calendar").body, `href="`+page+`"`) {
		t.Error("the front desk's navigation links the plan page")
	}
}

// TestBrowserPlanPage: the demo administrator follows the navigation to
// the plan and usage page, a week into the trial, and sees the plan, the
// trial's end and a chart per meter.
func TestBrowserPlanPage(t *testing.T) {
	a := newSQLiteApp(t)
	a.subscribeDemo(t)
	a.clock.Advance(6 * 24 * time.Hour)
	if _, err := a.engine.RollUpActiveProviders(context.Background(), a.clock.Now()); err != nil {
		t.Fatal(err)
	}
	b := a.newBrowser(false)
	b.signIn(demo.AdminEmail, a.demo.AdminPassword)
	b.open(a.base() + "/setup")
	b.click(`//nav//a[normalize-space(.)="` + catalogs["en"]["nav.billing"] + `"]`)
	if b.path() != a.base()+"/billing" {
		t.Fatalf("the navigation led to %s", b.path())
	}
	b.sees("Plan and usage", "Clinic monthly", "Trial", "Bookings", "Text messages sent", "Emails sent", "Active providers", "Limit: 500 a period")
	if n := get(b, chromedp.Evaluate[int](`document.querySelectorAll("svg.usage-chart").length`)); n != 4 {
		t.Fatalf("%d charts, want 4", n)
	}
	b.screenshot("plan")
}
