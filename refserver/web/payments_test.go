package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/scheduling"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

// paymentMatrix are the rows of the desk's payment pages: the desk and
// administrators take, refund and print; a patient prints their own
// receipt and nothing else.
var paymentMatrix = map[string]string{
	"POST /p/{practice}/appointments/{appointment}/payments": "yyffns",
	"GET /p/{practice}/payments/{payment}/receipt":           "yyyfns",
	"POST /p/{practice}/payments/{payment}/refund":           "yyffns",
	"POST /p/{practice}/payments/{payment}/desk":             "yyffns",
}

// paymentSamples are a cash payment of the demo patient and one of
// another patient, for the matrix.
func (a *app) paymentSamples(patients sample) map[string]sample {
	a.t.Helper()
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Staff, ID: "desk-sample"})
	pay := func(patient string) string {
		pt := uuid.MustParse(patient)
		p, err := a.engine.Billing.Open(ctx, billing.Open{Practice: a.demo.PracticeID, Provider: billing.ProviderDesk,
			Amount: billing.Money{Amount: 2500, Currency: "USD"}, Method: billing.Method{Kind: billing.MethodCash},
			Purpose: billing.PurposeOther, Patient: &pt, By: actor.Actor{Kind: actor.Staff, ID: "desk-sample"}})
		if err != nil {
			a.t.Fatal(err)
		}
		if _, _, err := a.engine.Billing.Do(ctx, billing.Step{Practice: a.demo.PracticeID, Payment: p.ID, Op: billing.OpPurchase,
			By: actor.Actor{Kind: actor.Staff, ID: "desk-sample"}}); err != nil {
			a.t.Fatal(err)
		}
		return p.ID.String()
	}
	if patients.own == "" {
		return nil
	}
	return map[string]sample{"payment": {pay(patients.own), pay(patients.other)}}
}

// demoVisit is the demo patient and one of their visits within 15 days
// of testNow.
func (a *app) demoVisit() (scheduling.PatientID, string) {
	a.t.Helper()
	pt := a.patientByEmail(demo.PatientEmail)
	entries, err := a.engine.Scheduling.Calendar(context.Background(), a.demo.PracticeID, scheduling.CalendarQuery{From: testNow.AddDate(0, 0, -15), To: testNow.AddDate(0, 0, 15)})
	if err != nil {
		a.t.Fatal(err)
	}
	for _, en := range entries {
		if en.Appointment.PatientID == pt {
			return pt, en.Appointment.ID.String()
		}
	}
	a.t.Fatal("the demo patient has no visit")
	return pt, ""
}

// TestDeskTakesPaymentAndRefunds: on an appointment's page the desk takes
// cash (a bad amount is shown next to its field and writes nothing), the
// payment shows paid with its receipt, the receipt prints the same twice,
// a refund beyond what is left is refused on the page, a partial refund
// shows partly refunded; the patient gets receipts by message.
func TestDeskTakesPaymentAndRefunds(t *testing.T) {
	a := newSQLiteApp(t)
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	pt, appt := a.demoVisit()
	href := "/p/" + a.practice + "/appointments/" + appt
	res := desk.get(href)
	if res.status != http.StatusOK || !strings.Contains(res.body, "Take a payment at the desk") {
		t.Fatalf("the appointment page: %d, no payment form\n%.600s", res.status, res.body)
	}
	res = desk.post(href+"/payments", url.Values{"amount": {"45.505"}, "method": {"cash"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="amount-error"`) || !strings.Contains(res.body, `value="45.505"`) {
		t.Fatalf("a bad amount: %d\n%.800s", res.status, res.body)
	}
	res = desk.post(href+"/payments", url.Values{"amount": {"45.00"}, "method": {"card_terminal"}, "reference": {"slip 31"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("taking the payment: %d\n%.600s", res.status, res.body)
	}
	res = desk.get(res.location())
	if !strings.Contains(res.body, "The payment is recorded") || !strings.Contains(res.body, "45.00 USD") || !strings.Contains(res.body, "slip 31") {
		t.Fatalf("after the payment:\n%.2000s", res.body)
	}
	list, err := a.engine.Billing.Store().Payments(context.Background(), a.demo.PracticeID, billing.PaymentFilter{Patient: &pt})
	if err != nil || len(list) != 1 {
		t.Fatalf("payments %v, %v", list, err)
	}
	pay := "/p/" + a.practice + "/payments/" + list[0].ID.String()
	r1, r2 := desk.get(pay+"/receipt"), desk.get(pay+"/receipt")
	if r1.status != http.StatusOK || !strings.Contains(r1.body, "<pre") || r1.body != r2.body {
		t.Fatalf("the receipt: %d\n%.800s", r1.status, r1.body)
	}
	res = desk.post(pay+"/refund", url.Values{"amount": {"50"}, "reason": {"too much"}})
	if res.status != http.StatusConflict || !strings.Contains(res.body, "exceeds") {
		t.Fatalf("a refund beyond what was paid: %d\n%.800s", res.status, res.body)
	}
	res = desk.post(pay+"/refund", url.Values{"amount": {"5"}, "reason": {"overcharged"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("the refund: %d\n%.600s", res.status, res.body)
	}
	if res = desk.get(res.location()); !strings.Contains(res.body, "Partly refunded") || !strings.Contains(res.body, "40.00 USD") {
		t.Fatalf("after the refund:\n%.2000s", res.body)
	}
}

// TestBrowserDeskPayment: the front desk, with JavaScript off, takes a
// card-terminal payment on a visit's page, prints its receipt, and
// refunds part of it; the payment's status is told in words.
func TestBrowserDeskPayment(t *testing.T) {
	a := newSQLiteApp(t)
	grace := a.entryOf("Grace")
	b := a.newBrowser(false)
	b.signIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	b.open(a.base() + "/appointments/" + grace.Appointment.ID.String())
	b.sees("Payments", "No payment for this visit yet.", "Take a payment at the desk")
	b.fill("amount", "forty")
	b.button("Record the payment")
	b.sees("write an amount such as 45 or 45.50")
	b.fill("amount", "45.00")
	b.choose("method", "card_terminal")
	b.fill("reference", "slip 31")
	b.button("Record the payment")
	b.sees("The payment is recorded", "45.00 USD", "Card terminal · slip 31", "Paid")
	b.screenshot("appointment-paid")
	b.click(`//table[contains(@class,"payments")]//a[normalize-space(.)="Receipt"]`)
	b.sees("Receipt R-", "45.00 USD")
	b.screenshot("receipt")
	b.click(`//p[@class="crumbs"]/a`)
	b.do(chromedp.SendKeys(chromedp.CSS("#refund-amount-1"), "5"), chromedp.SendKeys(chromedp.CSS("#refund-reason-1"), "Overcharged"))
	b.button("Refund")
	b.sees("The refund is recorded", "Partly refunded", "40.00 USD")
	b.screenshot("appointment-refunded")
}
