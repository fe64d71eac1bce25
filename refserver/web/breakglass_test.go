package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/chromedp/chromedp"
)

// glassMatrix are the rows of the break-glass pages (see pageMatrix): the
// demo administrator reaches them (and is told break-glass is not needed:
// a form's 409), the front desk and patients never.
var glassMatrix = map[string]string{
	"GET /p/{practice}/patients/{patient}/chart/break-glass":  "yfffns",
	"POST /p/{practice}/patients/{patient}/chart/break-glass": "yfffns",
	"GET /p/{practice}/break-glass":                           "yfffns",
}

// patientByEmail is the ID of the demo patient with email.
func (a *app) patientByEmail(email string) scheduling.PatientID {
	a.t.Helper()
	pts, err := a.engine.Scheduling.Patients(context.Background(), a.demo.PracticeID, scheduling.PatientFilter{Email: email, Limit: 1})
	if err != nil || len(pts) != 1 {
		a.t.Fatalf("demo patient %s: %v", email, err)
	}
	return pts[0].ID
}

// TestBreakGlassPages: the demo clinician opens Grace O'Neil's chart
// without its restricted problem and is offered break-glass; a forged
// CSRF token is refused and a short reason named, both writing nothing;
// with a reason the chart opens with the restricted problem and a notice;
// the administrator's review lists the opening with its reason, and the
// front desk is refused the form.
func TestBreakGlassPages(t *testing.T) {
	a := newSQLiteApp(t)
	grace := a.patientByEmail("grace.oneil@example.net")
	chart := a.base() + "/patients/" + grace.String() + "/chart"
	doc := a.signedIn(demo.ClinicianEmail, a.demo.ClinicianPassword)
	pg := doc.get(chart).want(t, http.StatusOK, "Osteoarthritis of knee", "Open them by break-glass")
	if strings.Contains(pg.body, "Depressive disorder") {
		t.Fatal("the clinician sees the restricted problem")
	}
	doc.get(chart+"/break-glass?hidden=1").want(t, http.StatusOK, "Entries of this chart are restricted", `name="reason"`, `name="csrf_token"`)
	forger := a.signedIn(demo.ClinicianEmail, a.demo.ClinicianPassword)
	forged := forger.send("POST", chart+"/break-glass", url.Values{"reason": {"Reviewing her medications before surgery."}, refserver.CSRFField: {"forged"}})
	if forged.status != http.StatusSeeOther || !strings.HasPrefix(forged.header.Get("Location"), refserver.SignInPath) {
		t.Fatalf("a forged CSRF token: %d %s, want 303 to the sign-in", forged.status, forged.header.Get("Location"))
	}
	doc.post(chart+"/break-glass", url.Values{"reason": {"now"}}).want(t, http.StatusUnprocessableEntity, `id="reason-error"`)
	if review, _ := a.engine.BreakGlassReview(a.adminCtx(), a.demo.PracticeID, testNow.AddDate(0, 0, -1), testNow.AddDate(0, 0, 1)); len(review) != 0 {
		t.Fatalf("a refused form opened %d accesses", len(review))
	}
	res := doc.post(chart+"/break-glass", url.Values{"reason": {"Reviewing her medications before surgery."}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != chart+"?done=glass" {
		t.Fatalf("break-glass: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	pg = doc.get(chart+"?done=glass").want(t, http.StatusOK, "Depressive disorder", "open to you by break-glass")
	if strings.Contains(pg.body, "Open them by break-glass") {
		t.Fatal("the chart still offers break-glass while it is open")
	}
	doc.post(chart+"/break-glass", url.Values{"reason": {"Once more, to be sure."}}).want(t, http.StatusConflict, "still in force")

	admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
	admin.get(a.base()+"/break-glass").want(t, http.StatusOK, "Reviewing her medications before surgery.", demo.ClinicianEmail)
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	desk.get(chart+"/break-glass").want(t, http.StatusForbidden)
	desk.get(a.base()+"/break-glass").want(t, http.StatusForbidden)
}

// TestBrowserBreakGlass: in Chromium (JavaScript off, then on), the demo
// clinician opens Grace O'Neil's chart, follows the offer of break-glass,
// states a reason, and reads the restricted problem; the administrator
// sees the opening in the review.
func TestBrowserBreakGlass(t *testing.T) {
	for _, js := range []bool{false, true} {
		name := "js-off"
		if js {
			name = "js-on"
		}
		t.Run(name, func(t *testing.T) {
			a := newSQLiteApp(t)
			grace := a.patientByEmail("grace.oneil@example.net")
			en := catalogs["en"]
			b := a.newBrowser(js)
			b.signIn(demo.ClinicianEmail, a.demo.ClinicianPassword)
			b.open(a.base() + "/patients/" + grace.String() + "/chart")
			b.sees("Osteoarthritis of knee", en["glass.link"])
			b.screenshot("chart-hidden")
			b.click(`a[href$="/break-glass?hidden=1"]`)
			b.sees(en["glass.hidden"], en["glass.submit"])
			// The reason is empty: typed, not cleared first.
			b.do(chromedp.SendKeys(chromedp.CSS(`textarea[name="reason"]`), "Reviewing her medications before knee surgery."))
			b.screenshot("glass-form")
			b.button(en["glass.submit"])
			b.sees(en["glass.done"], "Depressive disorder")
			b.screenshot("chart-open")

			admin := a.newBrowser(js)
			admin.signIn(demo.AdminEmail, a.demo.AdminPassword)
			admin.open(a.base() + "/break-glass")
			admin.sees(en["glass.review.title"], "Reviewing her medications before knee surgery.", demo.ClinicianEmail)
			admin.screenshot("review")
		})
	}
}
