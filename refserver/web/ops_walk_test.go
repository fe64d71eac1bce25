package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/internal/demo"
	"github.com/chromedp/chromedp"
)

// TestOpsWalk: the demo's support staff member signs in to the panel in a
// browser, finds the demo practice in the table, extends its trial (a date
// in the past is refused next to its field), and once the trial has run
// out without a card, lifts the practice's read-only state.
func TestOpsWalk(t *testing.T) {
	a := newSQLiteApp(t)
	a.subscribeDemo(t)
	ops := catalogs["en"]
	b := a.newBrowser(false)
	signIn := func() {
		b.open("/ops/signin")
		b.fill("email", demo.OperatorEmail)
		b.fill("password", a.demo.OperatorPassword)
		b.button(ops["ops.signin.submit"])
	}
	signIn()
	if b.path() != "/ops/" {
		t.Fatalf("signed in at %s", b.path())
	}
	b.sees(ops["ops.tenants.title"], "Riverside Family Clinic", "clinic", "Trial")
	b.screenshot("ops-tenants")

	b.click(`//a[normalize-space(.)="Riverside Family Clinic"]`)
	base := "/ops/practices/" + a.practice
	if b.path() != base {
		t.Fatalf("the practice's link led to %s", b.path())
	}
	b.do(chromedp.SetValue(chromedp.CSS(`[name="until"]`), "2030-03-01"))
	b.fill("trial_reason", "onboarding took longer")
	b.button(ops["ops.trial.submit"])
	b.sees("must be in the future")
	if msg := get(b, chromedp.Evaluate[string](`document.getElementById("until-error").textContent`)); !strings.Contains(msg, "future") {
		t.Fatalf("the date's error %q is not next to it", msg)
	}
	b.screenshot("ops-trial-refused")
	b.do(chromedp.SetValue(chromedp.CSS(`[name="until"]`), "2030-04-30"))
	b.fill("trial_reason", "onboarding took longer")
	b.button(ops["ops.trial.submit"])
	b.sees(ops["ops.done"], "onboarding took longer", "30 April 2030")
	b.screenshot("ops-trial-extended")

	a.clock.Set(time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC))
	if _, err := a.engine.EndTrials(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.open(base)
	b.sees(ops["ops.signin.ended"]) // idle for weeks: signed out
	b.fill("email", demo.OperatorEmail)
	b.fill("password", a.demo.OperatorPassword)
	b.button(ops["ops.signin.submit"])
	b.open(base)
	b.sees(ops["ops.ro.reason.trial_ended"], ops["ops.ro.title"])
	b.screenshot("ops-read-only")
	b.fill("ro_reason", "card on file by phone")
	b.button(ops["ops.ro.submit"])
	b.sees(ops["ops.done"], "card on file by phone")
	if ro := get(b, chromedp.Evaluate[string](`document.getElementById("ops-read-only").textContent`)); ro != ops["ops.read_only.no"] {
		t.Fatalf("read-only after the lift: %q", ro)
	}
	b.screenshot("ops-read-only-lifted")
}
