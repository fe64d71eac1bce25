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
	"github.com/google/uuid"
)

// TestDeskSeesWhatWasPaidOnline: the demo visit costs 60.00 and its
// patient paid a 20.00 deposit online; the appointment's page says so,
// with what is owed; the desk taking 60.00 is refused on the page (409,
// saying it was paid online, nothing written), and 40.00 goes through,
// leaving nothing owed.
func TestDeskSeesWhatWasPaidOnline(t *testing.T) {
	a := newSQLiteApp(t)
	ctx := context.Background()
	pt, appt := a.demoVisit()
	by := actor.Actor{Kind: actor.System, ID: "test"}
	if _, err := a.engine.Billing.PutPolicy(ctx, &billing.Policy{Practice: a.demo.PracticeID, Collect: billing.CollectDeposit,
		Price: billing.Money{Amount: 6000, Currency: "USD"}, Deposit: billing.Money{Amount: 2000, Currency: "USD"}}, by); err != nil {
		t.Fatal(err)
	}
	// The deposit as the provider's webhook records it.
	st := a.engine.Billing.Store()
	apptID := uuid.MustParse(appt)
	p, err := billing.NewPayment(uuid.New(), a.demo.PracticeID, billing.Money{Amount: 2000, Currency: "USD"}, billing.Method{Kind: billing.MethodCardOnline})
	if err != nil {
		t.Fatal(err)
	}
	p.Provider, p.Purpose, p.Patient, p.Appointment, p.CreatedAt, p.CreatedBy = "stripe", billing.PurposeDeposit, &pt, &apptID, testNow, by
	if err := st.CreatePayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	e, err := p.Record(billing.Result{Ref: "pi_demo", Kind: billing.EntryCharged, Amount: p.Amount, At: testNow}, "k1", by, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AppendEntry(ctx, p, e); err != nil {
		t.Fatal(err)
	}

	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	href := "/p/" + a.practice + "/appointments/" + appt
	res := desk.get(href)
	if res.status != http.StatusOK || !strings.Contains(res.body, "Paid online: 20.00 USD, Card online, on ") ||
		!strings.Contains(res.body, "Owed: 40.00 USD of the visit&#39;s 60.00 USD") {
		t.Fatalf("the appointment page: %d\n%s", res.status, res.body)
	}
	res = desk.post(href+"/payments", url.Values{"amount": {"60.00"}, "method": {"cash"}})
	if res.status != http.StatusConflict || !strings.Contains(res.body, "60.00 USD is more than the 40.00 USD owed") ||
		!strings.Contains(res.body, "20.00 USD paid online (card_online)") {
		t.Fatalf("taking the whole price: %d\n%s", res.status, res.body)
	}
	if list, err := st.Payments(ctx, a.demo.PracticeID, billing.PaymentFilter{Appointment: &apptID}); err != nil || len(list) != 1 {
		t.Fatalf("payments after the refusal: %d, %v", len(list), err)
	}
	res = desk.post(href+"/payments", url.Values{"amount": {"40.00"}, "method": {"cash"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("taking what is owed: %d\n%.800s", res.status, res.body)
	}
	if res = desk.get(res.location()); !strings.Contains(res.body, "Owed: 0.00 USD") || !strings.Contains(res.body, "Paid at the desk: 40.00 USD, Cash, on ") {
		t.Fatalf("after the payment:\n%s", res.body)
	}
}
