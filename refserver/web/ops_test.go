package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/refserver"
)

// opsMatrix are the rows of the support panel: no practice's session opens
// it (each is sent to the panel's own sign-in).
var opsMatrix = map[string]string{
	"GET /ops/signin":                    "yyyyyy",
	"POST /ops/signin":                   "yyyyyy",
	"POST /ops/signout":                  "oooooo",
	"GET /ops/{$}":                       "oooooo",
	"GET /ops/practices/{id}":            "oooooo",
	"POST /ops/practices/{id}/trial":     "oooooo",
	"POST /ops/practices/{id}/plan":      "oooooo",
	"POST /ops/practices/{id}/read-only": "oooooo",
}

// opsCookie is the client's cookie name on the support panel's path.
func (c *client) opsCookie(name string) string {
	u := *c.url
	u.Path = refserver.OperatorPath + "/"
	for _, k := range c.c.Jar.Cookies(&u) {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

// opsPost posts form to path with the panel's CSRF token.
func (c *client) opsPost(path string, form url.Values) page {
	c.t.Helper()
	form.Set(refserver.CSRFField, c.opsCookie(refserver.OperatorCSRFCookie))
	return c.send("POST", path, form)
}

// opsSignedIn is a client signed in to the support panel as the demo's
// support staff member.
func (a *app) opsSignedIn(t *testing.T) *client {
	t.Helper()
	c := a.client()
	c.get(refserver.OperatorSignInPath).want(t, http.StatusOK, en("ops.signin.title"))
	res := c.opsPost(refserver.OperatorSignInPath, url.Values{"email": {demo.OperatorEmail}, "password": {a.demo.OperatorPassword}})
	if res.status != http.StatusSeeOther || res.location() != "/ops/" {
		t.Fatalf("support sign-in: %d %s\n%s", res.status, res.location(), res.body)
	}
	return c
}

// TestOpsPanel: the support staff member signs in to the panel on its own
// page, sees every practice with its plan, status, usage and invoices,
// extends a trial and changes a plan with a reason (a missing one is
// shown next to its field, nothing done), each action in the practice's
// activity log as the staff member in the role "support". The pages are
// private and out of search engines, and show nothing of patients.
func TestOpsPanel(t *testing.T) {
	a := newSQLiteApp(t)
	a.subscribeDemo(t)
	if err := a.engine.PutPlan(context.Background(), &billing.Plan{ID: "group", Name: "Group monthly", Currency: "USD", BaseFee: 9900}); err != nil {
		t.Fatal(err)
	}

	c := a.client()
	c.get(refserver.OperatorSignInPath)
	c.opsPost(refserver.OperatorSignInPath, url.Values{"email": {demo.OperatorEmail}, "password": {"not the password"}}).
		want(t, http.StatusUnprocessableEntity, `id="password-error"`, en("ops.signin.refused"))
	c.send("POST", refserver.OperatorSignInPath, url.Values{"email": {demo.OperatorEmail}, "password": {a.demo.OperatorPassword}}).
		want(t, http.StatusUnprocessableEntity) // no CSRF token

	ops := a.opsSignedIn(t)
	list := ops.get("/ops/").want(t, http.StatusOK, "Riverside", "clinic", en("plan.status.trialing"), en("plan.meter.active_providers")+": ")
	if got := list.header.Get("Cache-Control"); got != "private, no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := list.header.Get("X-Robots-Tag"); !strings.Contains(got, "noindex") {
		t.Errorf("X-Robots-Tag = %q", got)
	}
	if strings.Contains(list.body, "Olivia") || strings.Contains(list.body, demo.PatientEmail) {
		t.Error("the panel shows a patient")
	}
	base := "/ops/practices/" + a.practice
	ops.get(base).want(t, http.StatusOK, `action="`+base+`/trial"`, `action="`+base+`/plan"`, en("ops.actions.none"))

	ops.opsPost(base+"/trial", url.Values{"until": {"2030-04-30"}, "trial_reason": {" "}}).
		want(t, http.StatusUnprocessableEntity, `id="trial_reason-error"`)
	ops.opsPost(base+"/trial", url.Values{"until": {"30/04/2026"}, "trial_reason": {"asked"}}).
		want(t, http.StatusUnprocessableEntity, `id="until-error"`, en("ops.bad_date"))
	ops.opsPost(base+"/plan", url.Values{"plan": {"gold"}, "plan_reason": {"asked"}}).
		want(t, http.StatusNotFound)
	ops.send("POST", base+"/trial", url.Values{"until": {"2030-04-30"}, "trial_reason": {"asked"}}).
		want(t, http.StatusForbidden) // no CSRF token
	if n := len(a.supportEntries(t, carebook.ActionSupportExtendTrial)); n != 0 {
		t.Fatalf("refused actions logged: %d", n)
	}

	res := ops.opsPost(base+"/trial", url.Values{"until": {"2030-04-30"}, "trial_reason": {"onboarding took longer"}})
	if res.status != http.StatusSeeOther || res.location() != base+"?done=1" {
		t.Fatalf("extend the trial: %d %s\n%s", res.status, res.location(), res.body)
	}
	ops.get(base+"?done=1").want(t, http.StatusOK, en("ops.done"), "onboarding took longer", carebook.ActionSupportExtendTrial, "2030-04-30")
	res = ops.opsPost(base+"/plan", url.Values{"plan": {"group"}, "plan_reason": {"upgrade by phone"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("change the plan: %d\n%s", res.status, res.body)
	}
	ops.get("/ops/").want(t, http.StatusOK, "group")
	for _, action := range []string{carebook.ActionSupportExtendTrial, carebook.ActionSupportChangePlan} {
		got := a.supportEntries(t, action)
		if len(got) != 1 || got[0].Actor != "operator:"+demo.OperatorEmail || got[0].Role != carebook.OperatorRole {
			t.Errorf("%s entries: %+v", action, got)
		}
	}

	// The trial runs out without a card: the practice is read-only, and
	// the support staff lift it.
	a.clock.Set(time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC))
	if _, err := a.engine.EndTrials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if loc := ops.get(base).location(); loc != refserver.OperatorSignInPath+"?ended=1" {
		t.Errorf("a support session idle for weeks goes to %q", loc)
	}
	ops = a.opsSignedIn(t)
	ops.get(base).want(t, http.StatusOK, en("ops.ro.reason.trial_ended"), `action="`+base+`/read-only"`)
	ops.opsPost(base+"/read-only", url.Values{"ro_reason": {""}}).want(t, http.StatusUnprocessableEntity, `id="ro_reason-error"`)
	ops.opsPost(base+"/read-only", url.Values{"ro_reason": {"card on file by phone"}}).want(t, http.StatusSeeOther)
	ops.get(base).want(t, http.StatusOK, `<dd id="ops-read-only">`+en("ops.read_only.no")+`</dd>`, "card on file by phone")
	if got := a.supportEntries(t, carebook.ActionSupportLiftReadOnly); len(got) != 1 || got[0].Role != carebook.OperatorRole {
		t.Errorf("lift entries: %+v", got)
	}
	ops.opsPost(base+"/read-only", url.Values{"ro_reason": {"again"}}).want(t, http.StatusUnprocessableEntity, "not read-only")

	// Spanish too.
	es := a.opsSignedIn(t)
	es.get("/lang/es")
	es.get("/ops/").want(t, http.StatusOK, catalogs["es"]["ops.tenants.title"])

	// Signed out, the session no longer opens the panel.
	ops.get("/ops/").want(t, http.StatusOK)
	ops.opsPost("/ops/signout", url.Values{}).want(t, http.StatusSeeOther)
	if loc := ops.get("/ops/").location(); !strings.HasPrefix(loc, refserver.OperatorSignInPath) {
		t.Errorf("after sign-out /ops/ goes to %q", loc)
	}
}

// supportEntries are the demo practice's activity-log entries of action.
func (a *app) supportEntries(t *testing.T, action string) []*audit.Entry {
	t.Helper()
	got, err := a.engine.Audit.Query(a.adminCtx(), a.demo.PracticeID, audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestOpsSessionsDoNotCross: a practice administrator's session does not
// open the panel (sent to its sign-in, a form refused), and a support
// session opens no practice's or patient's page or API route, even when
// its cookie is sent there by hand.
func TestOpsSessionsDoNotCross(t *testing.T) {
	a := newSQLiteApp(t)
	admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
	if loc := admin.get("/ops/").location(); !strings.HasPrefix(loc, refserver.OperatorSignInPath) {
		t.Errorf("an admin's /ops/ goes to %q", loc)
	}
	admin.post("/ops/practices/"+a.practice+"/trial", url.Values{"until": {"2030-04-30"}, "trial_reason": {"x"}}).want(t, http.StatusUnauthorized)

	ops := a.opsSignedIn(t)
	tok := ops.opsCookie(refserver.OperatorCookie)
	if tok == "" {
		t.Fatal("no support session cookie")
	}
	ss := a.samples()
	for _, path := range []string{a.base() + "/setup", a.base() + "/calendar", a.base() + "/patients/" + ss["patient"].own, "/account"} {
		res := ops.get(path)
		if res.status != http.StatusUnauthorized && (res.status != http.StatusSeeOther || !strings.HasPrefix(res.location(), refserver.SignInPath)) {
			t.Errorf("a support session's GET %s: %d %s", path, res.status, res.location())
		}
	}
	for _, path := range []string{"/api/v1/practices/" + a.practice + "/patients/" + ss["patient"].own, "/api/v1/practices/" + a.practice} {
		for _, h := range []http.Header{{"Cookie": {refserver.OperatorCookie + "=" + tok}}, {"Authorization": {"Bearer " + tok}}} {
			r, _ := http.NewRequest("GET", a.http.URL+path, nil)
			for k, v := range h {
				r.Header[k] = v
			}
			res, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET %s with the support token in %v: %d", path, h, res.StatusCode)
			}
		}
	}
}
