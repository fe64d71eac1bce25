package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/internal/demo"
	"github.com/google/uuid"
)

// billingPagesMatrix are the rows of the invoices and payment method
// pages: the administrator's (billing.read; adding a card needs
// practice.manage), never the front desk's.
var billingPagesMatrix = map[string]string{
	"GET /p/{practice}/billing/invoices":                "yfffns",
	"GET /p/{practice}/billing/invoices/{invoice}":      "yfffns",
	"POST /p/{practice}/billing/invoices/{invoice}/pay": "yfffns",
	"GET /p/{practice}/billing/payment-method":          "yfffns",
	"POST /p/{practice}/billing/payment-method":         "yfffns",
}

// invoicePlan is the plan of the billed demo: a base fee and bookings
// beyond 2 included.
var invoicePlan = &billing.Plan{ID: "pages", Name: "Clinic pages", Currency: "USD", BaseFee: 4900,
	Meters: []billing.MeterRate{{Meter: billing.MeterBookings, Included: 2, UnitPrice: 150}}}

// billDemo puts the demo practice on invoicePlan, with no trial, from a
// month and a day ago, and closes its ended period: its invoice.
func (a *app) billDemo() *billing.Invoice {
	a.t.Helper()
	ctx := context.Background()
	if err := a.engine.PutPlan(ctx, invoicePlan); err != nil {
		a.t.Fatal(err)
	}
	now := a.clock.Now()
	if err := a.engine.Store().Billing.PutSubscription(ctx, &billing.Subscription{Practice: a.demo.PracticeID, Plan: invoicePlan.ID,
		Status: billing.SubscriptionActive, PeriodStart: now.AddDate(0, -1, -1), UpdatedAt: now}); err != nil {
		a.t.Fatal(err)
	}
	if n, err := a.engine.CloseInvoices(ctx); err != nil || n != 1 {
		a.t.Fatalf("CloseInvoices = %d, %v", n, err)
	}
	invs, err := a.engine.Store().Billing.Invoices(ctx, a.demo.PracticeID, 0)
	if err != nil || len(invs) != 1 {
		a.t.Fatalf("the demo's invoices: %v, %v", invs, err)
	}
	return invs[0]
}

// invoiceSamples bills the demo practice once: its invoice, for both
// samples (no patient owns it).
func (a *app) invoiceSamples() map[string]sample {
	a.t.Helper()
	id := a.billDemo().ID.String()
	return map[string]sample{"invoice": {id, id}}
}

// TestInvoicePages: the administrator reaches the invoices from the plan
// page, the list says each invoice's period, status, total, due day and
// charges; the invoice's page has its lines with quantities and unit
// prices, whose amounts add up to its total; Pay now with no card on
// file is a declined charge, shown and counted; an ID that is no invoice's
// is a 404 page; the front desk gets 403; in Spanish too.
func TestInvoicePages(t *testing.T) {
	a := newSQLiteApp(t)
	inv := a.billDemo()
	admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
	list := a.base() + "/billing/invoices"
	one := list + "/" + inv.ID.String()
	admin.get(a.base()+"/billing").want(t, http.StatusOK, `href="`+list+`"`, `href="`+a.base()+`/billing/payment-method"`)
	admin.get(list).want(t, http.StatusOK, "<h1>Invoices</h1>", `href="`+one+`"`, inv.Total.String(), ">Open<")

	res := admin.get(one).want(t, http.StatusOK, "Clinic pages", "Base fee: Clinic pages", "a period", "Pay now", "Not charged yet.")
	if len(inv.Lines) < 2 {
		t.Fatalf("the invoice has %d lines, want the base fee and the bookings beyond what is included", len(inv.Lines))
	}
	var sum int64
	for _, l := range inv.Lines {
		sum += l.Amount
		if !strings.Contains(res.body, billing.Money{Amount: l.Amount, Currency: "USD"}.String()) {
			t.Errorf("no amount of line %+v", l)
		}
		if l.Kind == billing.LineUsage && !strings.Contains(res.body, billing.Money{Amount: l.Unit, Currency: "USD"}.String()+" each") {
			t.Errorf("no unit price of line %+v", l)
		}
	}
	if total := regexp.MustCompile(`id="invoice-total">([^<]+)<`).FindStringSubmatch(res.body); total == nil ||
		total[1] != (billing.Money{Amount: sum, Currency: "USD"}).String() || sum != inv.Total.Amount {
		t.Fatalf("the total shown %v, the lines' sum %d, the invoice's %v", total, sum, inv.Total)
	}

	pay := admin.post(one+"/pay", url.Values{})
	if pay.status != http.StatusSeeOther || pay.location() != one+"?pay=declined" {
		t.Fatalf("Pay now without a card: %d to %q", pay.status, pay.location())
	}
	admin.get(pay.location()).want(t, http.StatusOK, "The card was declined", "the practice has no payment method on file", ">Charge failed<")
	admin.get(list).want(t, http.StatusOK, "<td>1</td>")

	for _, bad := range []string{"nope", uuid.NewString(), "00000000-0000-0000-0000-00000000000g"} {
		admin.get(list+"/"+bad).want(t, http.StatusNotFound)
		admin.post(list+"/"+bad+"/pay", url.Values{}).want(t, http.StatusNotFound)
	}
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	desk.get(list).want(t, http.StatusForbidden)
	desk.get(one).want(t, http.StatusForbidden)
	desk.post(one+"/pay", url.Values{}).want(t, http.StatusForbidden)
	desk.get(a.base()+"/billing/payment-method").want(t, http.StatusForbidden)

	admin.get("/lang/es")
	admin.get(one).want(t, http.StatusOK, "Cuota base: Clinic pages", "Pagar ahora", "Cobro fallido")
}

// TestPaymentMethodPageWithoutProvider: with no online provider that
// saves cards, the page says there is no card and offers no button.
func TestPaymentMethodPageWithoutProvider(t *testing.T) {
	a := newSQLiteApp(t)
	admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
	page := a.base() + "/billing/payment-method"
	res := admin.get(page).want(t, http.StatusOK, "<h1>Payment method</h1>", "No payment method on file.", "No online payment provider")
	if strings.Contains(res.body, `action="`+page+`"`) {
		t.Error("a form to add a card, with no provider to save it")
	}
	admin.post(page, url.Values{}).want(t, http.StatusBadRequest)
}

// TestPaymentMethodPage: in a trial without a card the page says when the
// trial ends and offers to add one; the form's answer goes on to the
// provider's page; back from it (the session's ID on the URL) the card is
// on file, once however often the page is reloaded; a session not
// finished, or unknown, is refused on the page; canceling says nothing
// changed; the front desk cannot start one.
func TestPaymentMethodPage(t *testing.T) {
	a, fake := stripeApp(t)
	a.subscribeDemo(t)
	admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
	page := a.base() + "/billing/payment-method"
	admin.get(page).want(t, http.StatusOK, "The trial ends on", en("billing.trial_add_card"), en("pm.none"), `action="`+page+`"`, en("pm.add"))

	start := func() string {
		t.Helper()
		res := admin.post(page, url.Values{})
		to := providerLink(res)
		if res.status != http.StatusOK || !strings.HasPrefix(to, fake.URL()+"/checkout/pay/cs_") {
			t.Fatalf("starting: %d to %q\n%.600s", res.status, to, res.body)
		}
		return strings.TrimPrefix(to, fake.URL()+"/checkout/pay/")
	}
	unfinished := start()
	back := page + "?" + url.Values{"setup": {"done"}, "provider": {"stripe"}, "session_id": {unfinished}}.Encode()
	admin.get(back).want(t, http.StatusUnprocessableEntity, en("pm.not_saved"), en("pm.none"))

	id := start()
	to, err := fake.CompleteSetupCheckout(id, "pm_card_mastercard")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(to)
	if err != nil || u.Query().Get("session_id") != id || u.Query().Get("provider") != "stripe" {
		t.Fatalf("the success URL is %q", to)
	}
	for range 2 {
		admin.get(u.RequestURI()).want(t, http.StatusOK, en("pm.saved_ok"), "Mastercard ending 4444", "stripe", en("pm.replace"))
	}
	if got := a.entries("billing.payment_method.attach"); len(got) != 3 {
		t.Errorf("%d attach entries, want the unfinished try's and the two loads'", len(got))
	}
	m, err := a.engine.PracticePaymentMethod(a.adminCtx(), a.demo.PracticeID)
	if err != nil || m.Label != "Mastercard ending 4444" {
		t.Fatalf("the card on file: %+v, %v", m, err)
	}
	admin.get(page+"?setup=done&provider=stripe&session_id=cs_unknown").want(t, http.StatusNotFound)
	admin.get(page+"?setup=canceled").want(t, http.StatusOK, en("pm.canceled"), "Mastercard ending 4444")
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	desk.post(page, url.Values{}).want(t, http.StatusForbidden)
	admin.get("/lang/es")
	admin.get(page).want(t, http.StatusOK, "Método de pago", "Cambiar el método de pago")
}
