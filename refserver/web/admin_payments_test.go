package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/refserver"
	"github.com/google/uuid"
)

// policiesMatrix are the rows of the payment policies page.
var policiesMatrix = map[string]string{
	"GET /p/{practice}/setup/payments":  "yfffns",
	"POST /p/{practice}/setup/payments": "yfffns",
}

// TestPaymentPoliciesPage: the administrator reaches the payment policies
// from setup, writes the practice's default and a visit type's, sees them
// listed in words, and opens one into the form to change it; bad input
// shows the form again with the message by the field at fault, what was
// typed kept, and writes nothing.
func TestPaymentPoliciesPage(t *testing.T) {
	a := newSQLiteApp(t)
	ctx := context.Background()
	admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
	page := a.base() + "/setup/payments"
	admin.get(a.base()+"/setup").want(t, http.StatusOK, `href="`+page+`">`+en("pay.policy.link")+"</a>")
	admin.get(page).want(t, http.StatusOK, "<h1>"+en("pay.policy.title")+"</h1>", en("pay.policy.none"))

	good := url.Values{"for": {defaultPolicy}, "collect": {"deposit"}, "first_visit": {""}, "currency": {"usd"}, "price": {"120"},
		"deposit": {"30.50"}, "no_show.percent": {"50"}, "late_cancel.fixed": {"25"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vals := range good {
			f[key] = vals
		}
		f.Set(k, v)
		f.Del(refserver.CSRFField) // each client posts its own
		return f
	}
	policies := func() []*billing.Policy {
		ps, err := a.engine.Store().Billing.Policies(ctx, a.demo.PracticeID)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	for _, tc := range []struct {
		name, field, value, want string
	}{
		{"deposit above the price", "deposit", "130", "cannot exceed"},
		{"a fee fixed and a percentage", "no_show.fixed", "10", "not both"},
		{"a percentage above 100", "no_show.percent", "150", "0 to 100"},
		{"a negative percentage", "late_cancel.percent", "-5", "0 to 100"},
		{"an unknown currency", "currency", "XYZ", "currency code"},
		{"a price with a comma", "price", "12,50", "such as 45"},
		{"too many decimals", "price", "12.505", "at most 2 decimals"},
		{"a way of paying unknown", "collect", "cash", "must be"},
		{"a visit type of no one", "for", uuid.NewString(), "no such visit type"},
		{"a visit type that is no id", "for", "the usual", ""},
		{"prepaid with no price", "price", "", ""},
	} {
		form := with(tc.field, tc.value)
		if tc.name == "prepaid with no price" {
			form.Set("collect", "prepay")
			form.Del("deposit")
			tc.field = "price"
		}
		res := admin.post(page, form).want(t, http.StatusUnprocessableEntity, en("form.fix"), tc.want)
		if !strings.Contains(res.body, `id="`+tc.field+`-error"`) {
			t.Errorf("%s: no message by the field %s:\n%s", tc.name, tc.field, res.body)
		}
		if tc.value != "" && tc.field != "for" && tc.field != "collect" && !strings.Contains(res.body, `value="`+tc.value+`"`) {
			t.Errorf("%s: what was typed (%q) is not kept", tc.name, tc.value)
		}
		if ps := policies(); len(ps) != 0 {
			t.Fatalf("%s: %d policies written by a refused form", tc.name, len(ps))
		}
	}

	res := admin.post(page, good)
	if res.status != http.StatusSeeOther || res.location() != page+"?saved=1" {
		t.Fatalf("saving: %d %s\n%s", res.status, res.location(), res.body)
	}
	admin.get(res.location()).want(t, http.StatusOK, en("pay.policy.saved"), en("pay.policy.default"), en("pay.collect.deposit"),
		"120.00 USD", "30.50 USD", "50% of the price", "25.00 USD")
	ps := policies()
	if len(ps) != 1 || ps[0].VisitType != nil || ps[0].Collect != billing.CollectDeposit || ps[0].Price.Amount != 12000 ||
		ps[0].Deposit.Amount != 3050 || ps[0].NoShow.Percent != 50 || ps[0].LateCancel.Fixed.Amount != 2500 || ps[0].Price.Currency != "USD" {
		t.Fatalf("written: %+v", ps)
	}

	// A visit type's own policy, prepaid in full.
	vts, err := a.engine.Scheduling.VisitTypes(ctx, a.demo.PracticeID)
	if err != nil || len(vts) == 0 {
		t.Fatal(err, len(vts))
	}
	vt := vts[0]
	res = admin.post(page, url.Values{"for": {vt.ID.String()}, "collect": {"prepay"}, "currency": {"USD"}, "price": {"80"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("saving the visit type's: %d\n%s", res.status, res.body)
	}
	list := admin.get(page).want(t, http.StatusOK, "<th scope=\"row\">"+vt.Name+"</th>", en("pay.collect.prepay"), "80.00 USD")
	if len(policies()) != 2 {
		t.Fatalf("%d policies, want the default and the visit type's", len(policies()))
	}
	// Edit fills the form with the policy chosen.
	if !strings.Contains(list.body, `href="`+page+"?for="+vt.ID.String()+`"`) {
		t.Fatalf("no Edit link of the visit type's policy:\n%s", list.body)
	}
	edit := admin.get(page+"?for="+defaultPolicy).want(t, http.StatusOK, `value="120.00"`, `value="30.50"`, `value="50"`, `value="25.00"`)
	if !strings.Contains(edit.body, `<option value="deposit" selected>`) {
		t.Errorf("the form does not start as the default policy:\n%s", edit.body)
	}

	// The front desk may not change the practice's prices.
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	desk.get(page).want(t, http.StatusForbidden)
	if res := desk.post(page, with("price", "1")); res.status != http.StatusForbidden {
		t.Fatalf("the front desk's form: %d %s", res.status, res.location())
	}
	if ps := policies(); ps[0].Price.Amount != 12000 && ps[1].Price.Amount != 12000 {
		t.Fatal("the front desk's refused form changed a price")
	}
}

// TestBrowserPaymentPolicies: the demo administrator opens the payment
// policies from setup and asks a deposit for every visit, with a no-show
// fee of half the price, then sees it listed.
func TestBrowserPaymentPolicies(t *testing.T) {
	a := newSQLiteApp(t)
	b := a.newBrowser(false)
	b.signIn(demo.AdminEmail, a.demo.AdminPassword)
	b.open(a.base() + "/setup")
	b.click(`//a[normalize-space(.)="` + catalogs["en"]["pay.policy.link"] + `"]`)
	b.sees("Payment policies", "No payment policy yet")
	b.choose("collect", "deposit")
	b.fill("no_show.percent", "50")
	b.fill("price", "120")
	b.fill("deposit", "30")
	b.screenshot("policy-form")
	b.button("Save the policy")
	b.sees("The payment policy is saved.", "A deposit online, the rest at the desk", "120.00 USD", "30.00 USD", "50% of the price")
	b.screenshot("policies")
}
