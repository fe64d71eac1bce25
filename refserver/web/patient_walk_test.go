package web

import (
	"context"
	"strings"
	"testing"

	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/chromedp/chromedp"
)

// TestBrowserPatientBooks: in Chromium, with JavaScript off and on, a new
// patient signs up, verifies the email with the link's token, signs in,
// books a visit (the booking page offers the visit for new patients and
// not the follow-up for established ones), sees it in My visits as a
// request waiting for the practice, and (JavaScript off) cancels it and
// opens the preferences; screenshots of each page, and of the open times
// at a phone's width.
func TestBrowserPatientBooks(t *testing.T) {
	for _, js := range []bool{false, true} {
		name := "js-off"
		if js {
			name = "js-on"
		}
		t.Run(name, func(t *testing.T) {
			a := newSQLiteApp(t)
			ids := a.demoIDs()
			b := a.newBrowser(js)
			const email, password = "nora.fischer@example.org", "a long enough passphrase"
			b.open(a.base() + "/register")
			b.sees("Create your patient account", "Riverside Family Clinic")
			b.fill("given_name", "Nora")
			b.fill("family_name", "Fischer")
			b.do(chromedp.SetValue(chromedp.CSS(`[name="birth_date"]`), "1990-05-17"))
			b.fill("email", email)
			b.fill("password", "short")
			b.button("Create my account")
			b.sees("Password") // the page again, with the message by the field
			if !strings.Contains(b.text(), "at least 12") {
				t.Fatalf("a short password is not explained:\n%s", b.text())
			}
			b.fill("password", password)
			b.screenshot("register")
			b.button("Create my account")
			b.sees("Check your email", "You can sign in now")
			b.screenshot("register-sent")

			tok := a.tokens.last(refserver.TokenEmailVerification, email)
			if tok == "" {
				t.Fatal("no verification token was delivered")
			}
			b.open("/verify?token=" + tok)
			b.button("Verify my email")
			b.sees("Your email is verified")
			if js {
				// Signed in from the sign-in page, the patient starts at My visits.
				b.signIn(email, password)
				b.sees("My visits", "You have no visits coming up.")
				b.click(`main a[href$="/book"]`)
			} else {
				// The verified page's button signs in to the booking page.
				b.click(`a.button[href^="/signin"]`)
				b.fill("email", email)
				b.fill("password", password)
				b.button("Sign in")
			}
			if got := b.path(); got != a.base()+"/book" {
				t.Fatalf("at %s, want the booking page", got)
			}
			got := b.text()
			if !strings.Contains(got, "New patient visit") || strings.Contains(got, "Follow-up") {
				t.Fatalf("a new patient is offered the wrong visit types:\n%s", got)
			}
			b.choose("visit_type_id", ids.newVisit)
			b.choose("location_id", ids.brooklyn)
			b.choose("provider_id", ids.chen)
			b.button("Show open times")
			b.sees("Open times", "Times are in New York time, EST", "Tuesday 5 March 2030")
			b.screenshot("book-slots")
			b.do(chromedp.EmulateViewport(390, 844))
			b.screenshot("book-slots-narrow")
			b.do(chromedp.EmulateViewport(1280, 900))
			b.click(`.day:nth-of-type(3) ul.slots button`)
			b.sees("Confirm your visit", "Maya Chen", "Brooklyn Heights", "This sends a request")
			b.screenshot("confirm")
			b.button("Request this visit")
			b.sees("Your request is sent", "Requested: waiting for the practice")
			b.screenshot("result")
			b.open(a.base() + "/visits")
			b.sees("My visits", "Coming up", "Requested: waiting for the practice", "New patient visit")
			if n := get(b, chromedp.Evaluate[int](`document.querySelectorAll("main .status.status-new").length`)); n != 1 {
				t.Fatalf("%d visits marked .status-new, want 1", n)
			}
			b.screenshot("visits")
			if js {
				return
			}
			b.click(`a[href$="/cancel"]`)
			b.sees("Cancel your visit")
			b.fill("reason", "I feel better")
			b.button("Cancel this visit")
			b.sees("Your visit is canceled", "Canceled")
			b.screenshot("canceled")
			b.open(a.base() + "/visits")
			b.sees("You have no visits coming up.", "Past and canceled", "Canceled")
			b.open(a.base() + "/preferences")
			b.do(chromedp.Click(chromedp.CSS(`#marketing`), chromedp.NodeVisible))
			b.button("Save")
			b.sees("Your preferences are saved.", "Offers and news")
			b.screenshot("preferences")
		})
	}
}

// demoIDs are the IDs of the demo clinic's records the patient tests
// choose.
type demoIDs struct {
	newVisit, followUp, brooklyn, chen, okafor string
}

func (a *app) demoIDs() demoIDs {
	a.t.Helper()
	ctx := context.Background()
	var out demoIDs
	vts, err := a.engine.Scheduling.VisitTypes(ctx, a.demo.PracticeID)
	if err != nil {
		a.t.Fatal(err)
	}
	for _, v := range vts {
		switch v.Name {
		case "New patient visit":
			out.newVisit = v.ID.String()
		case "Follow-up":
			out.followUp = v.ID.String()
		}
	}
	locs, err := a.engine.Tenants.Locations(ctx, a.demo.PracticeID)
	if err != nil {
		a.t.Fatal(err)
	}
	for _, l := range locs {
		if l.Name == "Brooklyn Heights" {
			out.brooklyn = l.ID.String()
		}
	}
	provs, err := a.engine.Scheduling.Providers(ctx, a.demo.PracticeID, scheduling.ProviderFilter{})
	if err != nil {
		a.t.Fatal(err)
	}
	for _, p := range provs {
		switch p.FamilyName {
		case "Chen":
			out.chen = p.ID.String()
		case "Okafor":
			out.okafor = p.ID.String()
		}
	}
	if out.newVisit == "" || out.followUp == "" || out.brooklyn == "" || out.chen == "" || out.okafor == "" {
		a.t.Fatalf("the demo clinic lacks a record the tests use: %+v", out)
	}
	return out
}
