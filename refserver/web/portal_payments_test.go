package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/scheduling"
)

// portalPaymentMatrix are the rows of the patient's payment pages:
// patients only (staff hold no self grant: 403), each their own payments
// (another patient's receipt reads as not found).
var portalPaymentMatrix = map[string]string{
	"GET /p/{practice}/receipts":                    "ffyyns",
	"GET /p/{practice}/receipts/{payment}":          "ffynns",
	"POST /p/{practice}/receipts/{payment}/pay":     "ffynns",
	"GET /p/{practice}/receipts/{payment}/checkout": "ffynns",
}

// owedFee writes a no-show fee of 25.00 USD owed on appointment e, as the
// fee observer would.
func (a *app) owedFee(e scheduling.CalendarEntry) *billing.Payment {
	a.t.Helper()
	by := actor.Actor{Kind: actor.System, ID: "fees"}
	pt, appt := e.Appointment.PatientID, e.Appointment.ID
	p, err := a.engine.Billing.Open(actor.With(context.Background(), by), billing.Open{Practice: a.demo.PracticeID, Provider: billing.ProviderDesk,
		Amount: billing.Money{Amount: 2500, Currency: "USD"}, Method: billing.Method{Kind: billing.MethodCash},
		Purpose: billing.PurposeNoShowFee, Patient: &pt, Appointment: &appt, By: by})
	if err != nil {
		a.t.Fatal(err)
	}
	return p
}

// takeAtDesk has the desk take amount in cash for e's visit, through the
// desk's page, and returns the payment.
func (a *app) takeAtDesk(desk *client, e scheduling.CalendarEntry, amount string) *billing.Payment {
	a.t.Helper()
	res := desk.post(a.base()+"/appointments/"+e.Appointment.ID.String()+"/payments", url.Values{"amount": {amount}, "method": {"cash"}})
	if res.status != http.StatusSeeOther {
		a.t.Fatalf("taking %s: %d\n%.600s", amount, res.status, res.body)
	}
	list, err := a.engine.Billing.Store().Payments(context.Background(), a.demo.PracticeID, billing.PaymentFilter{Appointment: &e.Appointment.ID})
	if err != nil || len(list) == 0 {
		a.t.Fatalf("the payments of the visit: %v, %v", list, err)
	}
	return list[0]
}

// entries are the demo practice's activity-log entries of action.
func (a *app) entries(action string) []*audit.Entry {
	a.t.Helper()
	got, err := a.engine.Audit.Query(context.Background(), a.demo.PracticeID, audit.Filter{Action: action, Limit: audit.MaxLimit})
	if err != nil {
		a.t.Fatal(err)
	}
	return got
}

// zoneOf is the time zone of e's location.
func (a *app) zoneOf(e scheduling.CalendarEntry) *time.Location {
	a.t.Helper()
	locs, err := a.engine.Tenants.Locations(context.Background(), a.demo.PracticeID)
	if err != nil {
		a.t.Fatal(err)
	}
	for _, l := range locs {
		if l.ID == e.Appointment.LocationID {
			return zoneOf(l)
		}
	}
	a.t.Fatal("no location of the appointment")
	return nil
}

var preText = regexp.MustCompile(`(?s)<pre class="receipt card">(.*?)</pre>`)

// receiptText is the receipt of a receipt page, unescaped.
func receiptText(t *testing.T, body string) string {
	t.Helper()
	m := preText.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no receipt on the page\n%.1200s", body)
	}
	return html.UnescapeString(m[1])
}

// TestPatientPaymentsAndReceipts: the patient lists their own payments,
// opens a receipt that reads as the desk's, and gets not found for
// another patient's, with the guard's entries in the activity log; "my
// visits" tells what is owed on a visit.
func TestPatientPaymentsAndReceipts(t *testing.T) {
	a := newSQLiteApp(t)
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	me := a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
	olivia, grace := a.entryOf("Olivia"), a.entryOf("Grace")
	mine := a.takeAtDesk(desk, olivia, "45.00")
	a.owedFee(olivia)
	theirs := a.takeAtDesk(desk, grace, "30.00")

	res := me.get(a.base() + "/receipts")
	if res.status != http.StatusOK {
		t.Fatalf("the payments page: %d\n%.800s", res.status, res.body)
	}
	for _, want := range []string{"45.00 USD", "25.00 USD", "No-show fee", "Owed: pay at the front desk", "Open the receipt", "/receipts/" + mine.ID.String()} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the payments page lacks %q\n%.3000s", want, res.body)
		}
	}
	if strings.Contains(res.body, "30.00 USD") || strings.Contains(res.body, theirs.ID.String()) {
		t.Errorf("the payments page shows another patient's payment")
	}

	own := me.get(a.base() + "/receipts/" + mine.ID.String())
	if own.status != http.StatusOK {
		t.Fatalf("the own receipt: %d\n%.800s", own.status, own.body)
	}
	printed := desk.get(a.base() + "/payments/" + mine.ID.String() + "/receipt")
	if got, want := receiptText(t, own.body), receiptText(t, printed.body); got != want || !strings.Contains(got, "45.00 USD") {
		t.Errorf("the patient's receipt\n%s\nis not the desk's\n%s", got, want)
	}
	if !strings.Contains(own.body, `href="`+a.base()+`/receipts"`) {
		t.Errorf("the receipt does not link back to the payments")
	}

	before := len(a.entries("payment.receipt"))
	other := me.get(a.base() + "/receipts/" + theirs.ID.String())
	if other.status != http.StatusNotFound || strings.Contains(other.body, "30.00") {
		t.Fatalf("another patient's receipt: %d\n%.800s", other.status, other.body)
	}
	log := a.entries("payment.receipt")
	if len(log) != before+1 {
		t.Fatalf("%d payment.receipt entries after a refusal, want %d", len(log), before+1)
	}
	byID := map[string][]audit.Outcome{}
	for _, e := range log {
		byID[e.ResourceID] = append(byID[e.ResourceID], e.Outcome)
	}
	if o := byID[theirs.ID.String()]; len(o) != 1 || o[0] != audit.Denied {
		t.Errorf("the refused receipt's entries: %v, want one denied", o)
	}
	if o := byID[mine.ID.String()]; len(o) != 2 || o[0] != audit.Allowed || o[1] != audit.Allowed {
		t.Errorf("the own receipt's entries (the patient's and the desk's): %v, want two allowed", o)
	}
	if got := me.get(a.base() + "/receipts/not-an-id"); got.status != http.StatusBadRequest && got.status != http.StatusNotFound {
		t.Errorf("a malformed payment ID: %d", got.status)
	}

	visits := me.get(a.base() + "/visits")
	if visits.status != http.StatusOK || !strings.Contains(visits.body, "Owed for this visit:") || !strings.Contains(visits.body, "25.00 USD · No-show fee") {
		t.Fatalf("my visits does not tell what is owed\n%.3000s", visits.body)
	}
	if strings.Count(visits.body, "Owed for this visit:") != 1 {
		t.Errorf("my visits tells of more than the one owed visit")
	}
}

// TestCalendarPaymentStandings: the desk's calendar, day and week, words
// each appointment's payment standing (owed beats paid), read in one
// guarded read per page.
func TestCalendarPaymentStandings(t *testing.T) {
	a := newSQLiteApp(t)
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	olivia, grace := a.entryOf("Olivia"), a.entryOf("Grace")
	a.takeAtDesk(desk, olivia, "45.00")
	a.owedFee(olivia)
	paid := a.takeAtDesk(desk, grace, "30.00")
	card := func(body string, e scheduling.CalendarEntry) string {
		i := strings.Index(body, "/appointments/"+e.Appointment.ID.String()+`"`)
		if i < 0 {
			t.Fatalf("no card of %s\n%.400s", e.Appointment.ID, body)
		}
		end := strings.Index(body[i:], "</a>")
		return body[i : i+end]
	}
	zone := a.zoneOf(olivia)
	for _, view := range []string{"day", "week"} {
		for _, c := range []struct {
			e    scheduling.CalendarEntry
			want string
		}{{olivia, `<span class="pay pay-owed">Owed</span>`}, {grace, `<span class="pay pay-paid">Paid</span>`}} {
			before := len(a.entries("payment.list"))
			day := c.e.Appointment.Start.In(zone).Format(time.DateOnly)
			res := desk.get(a.base() + "/calendar?" + url.Values{"view": {view}, "day": {day}}.Encode())
			if res.status != http.StatusOK {
				t.Fatalf("the %s calendar: %d", view, res.status)
			}
			if got := card(res.body, c.e); !strings.Contains(got, c.want) {
				t.Errorf("%s view: the card %s lacks %s", view, got, c.want)
			}
			if n := len(a.entries("payment.list")) - before; n != 1 {
				t.Errorf("%s view: %d payment reads for the page, want one", view, n)
			}
		}
	}
	if _, _, err := a.engine.Billing.Do(actor.With(context.Background(), actor.Actor{Kind: actor.Staff, ID: "t"}), billing.Step{Practice: a.demo.PracticeID,
		Payment: paid.ID, Op: billing.OpRefund, Amount: billing.Money{Amount: 3000, Currency: "USD"}, Reason: "t", By: actor.Actor{Kind: actor.Staff, ID: "t"}}); err != nil {
		t.Fatal(err)
	}
	res := desk.get(a.base() + "/calendar?" + url.Values{"view": {"day"}, "day": {grace.Appointment.Start.In(zone).Format(time.DateOnly)}}.Encode())
	if got := card(res.body, grace); !strings.Contains(got, `<span class="pay pay-refunded">Refunded</span>`) {
		t.Errorf("after the refund: %s", got)
	}
	// A clinician, who may not read payments, sees no standing, and the
	// page reads none.
	before := len(a.entries("payment.list"))
	clin := a.signedIn(demo.ClinicianEmail, a.demo.ClinicianPassword)
	res = clin.get(a.base() + "/calendar?" + url.Values{"view": {"day"}, "day": {grace.Appointment.Start.In(zone).Format(time.DateOnly)}}.Encode())
	if res.status != http.StatusOK || strings.Contains(res.body, `class="pay pay-`) || len(a.entries("payment.list")) != before {
		t.Errorf("the clinician's calendar: %d, with payment standings or a payment read\n%.600s", res.status, res.body)
	}
}

// TestBrowserPatientReceipt: the patient, with JavaScript off, sees what
// is owed on "my visits", goes to their payments, opens a receipt and
// prints it; another patient's receipt is not found. The desk's calendar
// words the visit's standing.
func TestBrowserPatientReceipt(t *testing.T) {
	a := newSQLiteApp(t)
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	olivia, grace := a.entryOf("Olivia"), a.entryOf("Grace")
	mine := a.takeAtDesk(desk, olivia, "45.00")
	a.owedFee(olivia)
	theirs := a.takeAtDesk(desk, grace, "30.00")

	b := a.newBrowser(false)
	b.signIn(demo.PatientEmail, a.demo.PatientPassword)
	b.open(a.base() + "/visits")
	b.sees("Owed for this visit:", "25.00 USD · No-show fee")
	b.screenshot("visits-owed")
	b.click(`//nav//a[normalize-space(.)="Payments and receipts"]`)
	b.sees("Payments and receipts", "45.00 USD", "Paid", "25.00 USD", "No-show fee", "Owed: pay at the front desk")
	b.screenshot("payments")
	b.click(`//table[contains(@class,"payments")]//a[normalize-space(.)="Open the receipt"]`)
	b.sees("Receipt R-"+mine.ID.String(), "45.00 USD", "Print this page")
	if got := b.path(); got != a.base()+"/receipts/"+mine.ID.String() {
		t.Fatalf("the receipt's path: %s", got)
	}
	b.screenshot("receipt")
	b.click(`//p[@class="crumbs"]/a`)
	b.sees("Payments and receipts", "Open the receipt")
	b.open(a.base() + "/receipts/" + theirs.ID.String())
	b.sees("Not Found")
	if strings.Contains(b.text(), "30.00") {
		t.Fatal("another patient's receipt shows its amount")
	}

	d := a.newBrowser(false)
	d.signIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	d.open(a.base() + "/calendar?" + url.Values{"view": {"week"}, "day": {olivia.Appointment.Start.In(a.zoneOf(olivia)).Format(time.DateOnly)}}.Encode())
	d.sees("Owed")
	d.screenshot("calendar-week")
}
