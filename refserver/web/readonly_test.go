package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/billingtest"
	"github.com/carebook/carebook/internal/demo"
)

// readOnlyApp is the demo clinic whose trial ran out an hour ago without
// a payment method, made read-only by the trial job.
func readOnlyApp(t *testing.T) *app {
	t.Helper()
	a := newSQLiteApp(t)
	ctx := context.Background()
	if err := a.engine.PutPlan(ctx, billingtest.SamplePlan("basic")); err != nil {
		t.Fatal(err)
	}
	if err := a.engine.Store().Billing.PutSubscription(ctx, &billing.Subscription{Practice: a.demo.PracticeID, Plan: "basic",
		Status: billing.SubscriptionTrialing, TrialEnd: testNow.Add(-time.Hour), PeriodStart: testNow.AddDate(0, 0, -14), UpdatedAt: testNow}); err != nil {
		t.Fatal(err)
	}
	if n, err := a.engine.EndTrials(ctx); err != nil || n != 1 {
		t.Fatalf("EndTrials = %d, %v", n, err)
	}
	return a
}

// TestReadOnlyPages: a read-only practice's desk still shows its pages,
// and a form that writes answers a page saying why and what restores it
// (402, never a 5xx), on the shared layout.
func TestReadOnlyPages(t *testing.T) {
	a := readOnlyApp(t)
	c := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	c.get(a.base()+"/desk/book").want(t, http.StatusOK, "Find the patient")
	c.post(a.base()+"/desk/patients", url.Values{"given_name": {"Ada"}, "family_name": {"Lovelace"},
		"birth_date": {"1990-02-03"}, "phone": {"+12025550199"}}).
		want(t, http.StatusPaymentRequired, "This practice is read-only", "its trial ended without a payment method", "add a payment method", `<main id="main">`)
}

// TestBrowserReadOnly: in a browser (JavaScript off), the front desk of a
// read-only practice fills the new patient form and gets the page saying
// why it is refused and what restores it.
func TestBrowserReadOnly(t *testing.T) {
	a := readOnlyApp(t)
	b := a.newBrowser(false)
	b.signIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	b.open(a.base() + "/desk/book")
	b.fill("given_name", "Ada")
	b.fill("family_name", "Lovelace")
	b.setValue("birth_date", "1990-02-03")
	b.button(catalogs["en"]["desk.book.create"])
	b.sees("This practice is read-only", "its trial ended without a payment method", "add a payment method")
	b.screenshot("read-only")
}
