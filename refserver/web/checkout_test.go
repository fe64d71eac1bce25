package web

import (
	"bytes"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/internal/demo"
	"github.com/stripe/stripe-go/v85/webhook"
)

// providerLink is where the page that goes on to a provider's page
// (toProvider) goes: its meta refresh's URL, which its link repeats, or "".
func providerLink(res page) string {
	m := regexp.MustCompile(`<meta http-equiv="refresh" content="0; url=([^"]+)">`).FindStringSubmatch(res.body)
	if m == nil || !strings.Contains(res.body, `id="to-provider" href="`+m[1]+`"`) {
		return ""
	}
	return html.UnescapeString(m[1])
}

// TestPayOnlineThroughThePortal: the patient's owed fee offers "Pay
// online"; the form's answer sends the browser on to the provider's page
// (a page that goes there: no redirect, which form-action 'self' would
// stop); back on carebook the payment is pending until the
// provider's signed webhook lands on the server, then paid, with its
// receipt.
func TestPayOnlineThroughThePortal(t *testing.T) {
	clk := clock.NewFixed(testNow)
	fake := stripetest.NewFake(clk)
	t.Cleanup(fake.Close)
	sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_portal", WebhookSecret: "whsec_portal", BackendURL: fake.URL(), Clock: clk, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	a := newSQLiteApp(t, carebook.WithPaymentAdapter("stripe", sa))
	me := a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
	owed := a.owedFee(a.entryOf("Olivia"))
	pay := a.base() + "/receipts/" + owed.ID.String() + "/pay"

	list := me.get(a.base() + "/receipts")
	if !strings.Contains(list.body, `action="`+pay+`"`) || !strings.Contains(list.body, "Pay online") {
		t.Fatalf("the payments page offers no Pay online form\n%.3000s", list.body)
	}
	res := me.post(pay, url.Values{})
	loc := providerLink(res)
	if res.status != http.StatusOK || !strings.HasPrefix(loc, fake.URL()+"/checkout/pay/cs_") {
		t.Fatalf("Pay online: %d to %q\n%.800s", res.status, loc, res.body)
	}
	back, err := fake.PayCheckout(strings.TrimPrefix(loc, fake.URL()+"/checkout/pay/"), stripetest.CardVisa)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(back)
	if err != nil || u.Query().Get("result") != "done" {
		t.Fatalf("the success URL is %q", back)
	}
	if pending := me.get(u.RequestURI()); pending.status != http.StatusOK || !strings.Contains(pending.body, "being confirmed") {
		t.Fatalf("before the webhook: %d\n%.1500s", pending.status, pending.body)
	}
	for _, body := range fake.Events() {
		sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_portal", Timestamp: clk.Now()})
		req, _ := http.NewRequest("POST", a.http.URL+"/webhooks/payments/stripe", bytes.NewReader(body))
		req.Header.Set("Stripe-Signature", sp.Header)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("the webhook answered %d", resp.StatusCode)
		}
	}
	paid := me.get(u.RequestURI())
	receipt := a.base() + "/receipts/" + owed.ID.String()
	if !strings.Contains(paid.body, "Paid.") || !strings.Contains(paid.body, `href="`+receipt+`"`) {
		t.Fatalf("after the webhook\n%.2000s", paid.body)
	}
	if got := receiptText(t, me.get(receipt).body); !strings.Contains(got, "25.00 USD") {
		t.Fatalf("the receipt\n%s", got)
	}
	if again := me.post(pay, url.Values{}); again.status != http.StatusConflict {
		t.Fatalf("paying again: %d", again.status)
	}
}
