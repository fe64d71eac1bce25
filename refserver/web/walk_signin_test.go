package web

import (
	"testing"

	"github.com/carebook/carebook/internal/demo"
)

// TestBrowserSignIn: in Chromium, with JavaScript off and on, a wrong
// password shows the message next to the field, and the right one signs
// the front desk in; signing out comes back to the sign-in page.
func TestBrowserSignIn(t *testing.T) {
	eachJS(t, func(t *testing.T, js bool) {
		a := newSQLiteApp(t)
		b := a.newBrowser(js)
		b.open("/signin")
		b.sees("Sign in")
		b.screenshot("signin")
		b.fill("email", demo.FrontDeskEmail)
		b.fill("password", "wrong password")
		b.button("Sign in")
		b.sees("The email or the password is not right.")
		b.screenshot("signin-refused")
		b.fill("password", a.demo.FrontDeskPassword)
		b.button("Sign in")
		if got := b.path(); got != a.base()+"/calendar" {
			t.Fatalf("signed in at %s, want the calendar", got)
		}
		b.open("/account")
		b.sees(demo.FrontDeskEmail)
		b.screenshot("account")
		b.button("Sign out")
		b.sees("Sign in")
	})
}
