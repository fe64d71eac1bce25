package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/internal/demo"
	"github.com/chromedp/chromedp"
)

// walkSecret signs the fake Stripe's webhooks in the browser walks.
const walkSecret = "whsec_walk"

// stripeApp is the app with a fake Stripe as its online provider, whose
// hosted pages deliver their webhook events, signed, to the app before
// they send the browser back (as Stripe does, give or take a moment).
func stripeApp(t *testing.T, opts ...carebook.Option) (*app, *stripetest.Fake) {
	t.Helper()
	clk := clock.NewFixed(testNow)
	fake := stripetest.NewFake(clk)
	t.Cleanup(fake.Close)
	sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_walk", WebhookSecret: walkSecret, BackendURL: fake.URL(), Clock: clk, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	a := newSQLiteApp(t, append([]carebook.Option{carebook.WithPaymentAdapter("stripe", sa)}, opts...)...)
	fake.DeliverWebhooks(a.http.URL+"/webhooks/payments/stripe", walkSecret)
	return a, fake
}

// leavesFor clicks sel, which takes the browser to another site's page
// (the provider's) or back, and waits for a page whose URL starts with
// prefix to have loaded: a poll does not survive a navigation, so one cut
// short is polled again.
func (b *browser) leavesFor(sel, prefix string) {
	b.t.Helper()
	clickIt := chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
	if strings.HasPrefix(sel, "/") {
		clickIt = chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible)
	}
	b.do(clickIt)
	b.waitFor(prefix)
}

// waitFor waits until the tab shows a loaded page whose URL starts with
// prefix.
func (b *browser) waitFor(prefix string) {
	b.t.Helper()
	expr := `location.href.startsWith(` + jsString(prefix) + `) && document.readyState === "complete" && document.getElementById("main") !== null`
	var err error
	for range 8 {
		if err = b.poll(expr); err == nil {
			return
		}
	}
	b.t.Fatalf("the browser did not reach %s (it shows %s): %v", prefix, b.path(), err)
}

// enText is the English string of key as a browser shows it.
func enText(key string) string { return catalogs["en"][key] }

// TestBrowserPayOnline is the walk of paying online: the patient opens
// their visit with a fee owed, clicks Pay online, lands on the provider's
// hosted page (the fake Stripe's), pays, comes back to carebook, sees the
// payment paid and opens its receipt; the visit then owes nothing. With
// JavaScript off and on.
func TestBrowserPayOnline(t *testing.T) {
	eachJS(t, func(t *testing.T, js bool) {
		a, fake := stripeApp(t)
		olivia := a.entryOf("Olivia")
		owed := a.owedFee(olivia)
		visit := a.base() + "/visits/" + olivia.Appointment.ID.String()
		b := a.newBrowser(js)
		b.signIn(demo.PatientEmail, a.demo.PatientPassword)
		b.open(visit)
		b.sees(enText("patient.visits.owed"), "25.00 USD", enText("pay.purpose.no_show_fee"), enText("portal.pay.or_desk"))
		b.screenshot("visit-owed")

		b.leavesFor(`//button[normalize-space(.)="`+enText("portal.pay.online")+`"]`, fake.URL()+"/checkout/pay/cs_")
		b.sees("Fake Stripe Checkout", "2500 USD")
		b.screenshot("provider-page")

		back := a.http.URL + a.base() + "/receipts/" + owed.ID.String() + "/checkout?result=done"
		b.leavesFor("#pay", back)
		b.sees(enText("portal.checkout.paid"), "25.00 USD")
		b.screenshot("paid")
		b.click(`//a[normalize-space(.)="` + enText("portal.pay.open_receipt") + `"]`)
		b.sees("25.00 USD")
		if b.path() != a.base()+"/receipts/"+owed.ID.String() {
			t.Fatalf("the receipt link led to %s", b.path())
		}
		b.screenshot("receipt")

		b.open(visit)
		if strings.Contains(b.text(), enText("portal.pay.online")) {
			t.Fatal("the visit still offers Pay online once paid")
		}
		p, err := a.engine.Billing.Store().Payment(context.Background(), a.demo.PracticeID, owed.ID)
		if err != nil || p.Owed() || p.Provider != "stripe" {
			t.Fatalf("the payment after the walk: %+v, %v", p, err)
		}
	})
}

// TestBrowserAdminCardAndInvoice is the administrator's walk: the
// practice is read-only, its invoice's charges failed (no card on file);
// the administrator adds a card on the provider's hosted page, comes back
// to see it on file, opens the invoice and pays it now; the practice is
// writable again on the next request.
func TestBrowserAdminCardAndInvoice(t *testing.T) {
	a, fake := stripeApp(t, carebook.WithDunning(1))
	ctx := context.Background()
	inv := a.billDemo()
	if _, err := a.engine.RunBilling(ctx); err != nil {
		t.Fatal(err)
	}
	a.clock.Advance(25 * time.Hour)
	if _, err := a.engine.RunBilling(ctx); err != nil {
		t.Fatal(err)
	}
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	newPatient := func(given string) page {
		return desk.post(a.base()+"/desk/patients", url.Values{"given_name": {given}, "family_name": {"Lovelace"},
			"birth_date": {"1990-02-03"}, "phone": {"+12025550199"}})
	}
	newPatient("Ada").want(t, http.StatusPaymentRequired, "This practice is read-only")

	b := a.newBrowser(false)
	b.signIn(demo.AdminEmail, a.demo.AdminPassword)
	b.open(a.base() + "/billing")
	b.click(`//main//a[normalize-space(.)="` + enText("inv.title") + `"]`)
	b.sees(enText("billing.ro.title"), enText("billing.ro.payment_failed"), enText("inv.status.spent"), inv.Total.String())
	b.screenshot("invoices-read-only")

	b.click(`//main//a[normalize-space(.)="` + enText("pm.title") + `"]`)
	b.sees(enText("pm.none"))
	b.screenshot("no-card")
	b.leavesFor(`//button[normalize-space(.)="`+enText("pm.add")+`"]`, fake.URL()+"/checkout/pay/cs_")
	b.sees("Fake Stripe Checkout", "saved for later payments")
	b.screenshot("provider-setup-page")
	b.leavesFor("#pay", a.http.URL+a.base()+"/billing/payment-method?")
	b.sees(enText("pm.saved_ok"), "Visa ending 4242", "stripe", enText("billing.ro.payment_failed"))
	b.screenshot("card-saved")

	b.click(`//a[normalize-space(.)="` + enText("billing.ro.pay") + `"]`)
	b.click(`//main//table//a`)
	b.sees(enText("inv.pay.submit"), enText("inv.status.failed")) // due again: a card is on file
	b.button(enText("inv.pay.submit"))
	b.sees(enText("inv.pay.paid"), enText("inv.attempt.paid"))
	if strings.Contains(b.text(), enText("billing.ro.title")) {
		t.Fatal("the invoice is paid and the page still says read-only")
	}
	b.screenshot("invoice-paid")

	got, err := a.engine.Store().Billing.Invoice(ctx, a.demo.PracticeID, inv.ID)
	if err != nil || got.Status != billing.InvoicePaid || len(got.Attempts) != 3 {
		t.Fatalf("the invoice after the walk: %+v, %v (want paid on the third charge)", got, err)
	}
	if res := newPatient("Grace"); res.status != http.StatusSeeOther {
		t.Fatalf("a write after paying: %d\n%.600s", res.status, res.body)
	}
}
