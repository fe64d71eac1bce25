package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestSignIn: the root is the search of the directory for a visitor (with
// a link to sign in), the sign-in page its own; each demo account signs in to
// its home; a wrong password re-renders the form with the message next to
// the password and the email kept; a form without its CSRF token is
// refused; signing out ends the session.
func TestSignIn(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.client()
		c.get("/").want(t, http.StatusOK, "<h1>Find a doctor</h1>", `<a href="/signin">`)
		c.get("/signin").want(t, http.StatusOK, "<h1>Sign in</h1>", `name="csrf_token"`)

		bad := c.post("/signin", url.Values{"email": {demo.AdminEmail}, "password": {"not-it"}})
		bad.want(t, http.StatusUnprocessableEntity, "The email or the password is not right.", `value="`+demo.AdminEmail+`"`, `id="password-error"`)
		if strings.Contains(bad.body, "not-it") {
			t.Fatal("the page sent the typed password back")
		}
		forged := c.send("POST", "/signin", url.Values{"email": {demo.AdminEmail}, "password": {a.demo.AdminPassword}, "csrf_token": {"forged"}})
		forged.want(t, http.StatusUnprocessableEntity, "the form has expired")

		for _, tc := range []struct{ email, password, home string }{
			{demo.AdminEmail, a.demo.AdminPassword, a.base() + "/calendar"},
			{demo.FrontDeskEmail, a.demo.FrontDeskPassword, a.base() + "/calendar"},
			{demo.PatientEmail, a.demo.PatientPassword, a.base() + "/visits"},
		} {
			c := a.client()
			c.get("/signin")
			res := c.post("/signin", url.Values{"email": {tc.email}, "password": {tc.password}})
			if res.status != http.StatusSeeOther || res.location() != tc.home {
				t.Fatalf("%s: %d to %q, want 303 to %s\n%s", tc.email, res.status, res.location(), tc.home, res.body)
			}
			if c.cookie(refserver.SessionCookie) == "" {
				t.Fatalf("%s: no session cookie", tc.email)
			}
			if got := c.get("/").location(); got != tc.home {
				t.Fatalf("%s: the root sends a signed-in account to %q, want %s", tc.email, got, tc.home)
			}
			out := c.post("/signout", nil)
			if out.status != http.StatusSeeOther || out.location() != refserver.SignInPath {
				t.Fatalf("%s: sign out: %d to %q", tc.email, out.status, out.location())
			}
			c.get("/").want(t, http.StatusOK, "<h1>Find a doctor</h1>")
		}
	})
}

// TestSignedOutAfterInactivity: a page asked for with a session that has
// idled out sends the visitor to the sign-in page, which says why and
// brings them back where they were going.
func TestSignedOutAfterInactivity(t *testing.T) {
	a := newSQLiteApp(t)
	c := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	a.clock.Advance(24 * time.Hour)
	res := c.get("/account")
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location(), "/signin?") || !strings.Contains(res.location(), "ended=1") {
		t.Fatalf("idle session: %d to %q, want 303 to the sign-in page", res.status, res.location())
	}
	in := c.get(res.location()).want(t, http.StatusOK, "signed out after a period of inactivity")
	if !strings.Contains(in.body, `name="next" value="/account"`) {
		t.Fatalf("the sign-in page does not bring the visitor back:\n%s", in.body)
	}
	fresh := a.client()
	if res := fresh.get("/account"); res.status != http.StatusSeeOther || strings.Contains(res.location(), "ended") {
		t.Fatalf("never signed in: %d to %q, want 303 to the sign-in page without the inactivity notice", res.status, res.location())
	}
}

// TestLocalPath: a form's next page is a path of this server, never
// another site.
func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/account": "/account", "/p/x/calendar?day=2030-03-04": "/p/x/calendar?day=2030-03-04",
		"": "", "//evil.example/x": "", "/\\evil.example": "", "https://evil.example/": "", "account": "", "/a\r\nSet-Cookie: x": "",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLanguage: a visitor's Spanish browser gets Spanish pages; the switch
// keeps the other language and comes back to the page.
func TestLanguage(t *testing.T) {
	a := newSQLiteApp(t)
	c := a.client()
	r, _ := http.NewRequest("GET", a.http.URL+"/signin", nil)
	r.Header.Set("Accept-Language", "es-MX,es;q=0.9,en;q=0.5")
	res, err := c.c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if langOf(r) != "es" {
		t.Fatalf("Accept-Language es-MX: %s pages, want es", langOf(r))
	}
	sw := c.get("/lang/es?next=/signin")
	if sw.status != http.StatusSeeOther || sw.location() != "/signin" {
		t.Fatalf("switch: %d to %q", sw.status, sw.location())
	}
	c.get("/signin").want(t, http.StatusOK, `<html lang="es">`, "<h1>Iniciar sesión</h1>", `href="/lang/en?next=%2fsignin"`)
	c.get("/lang/xx").want(t, http.StatusNotFound)
}
