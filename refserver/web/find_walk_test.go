package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/carebook/carebook/internal/demo"
	"github.com/google/uuid"
)

// TestFindAndBookInThreePageLoads: without JavaScript, a visitor at the
// root searches "back pain" near 11201 (the results: one page load),
// chooses the next open time shown there (the confirmation, after
// signing in: two), and books it (the visit booked: three).
func TestFindAndBookInThreePageLoads(t *testing.T) {
	a := newSQLiteApp(t)
	c := a.client()
	c.get("/").want(t, http.StatusOK, `action="/find"`)
	loads := 0
	results := c.get("/find?"+url.Values{"q": {"back pain"}, "zip": {"11201"}}.Encode()).want(t, http.StatusOK, "Maya Chen", "Next open time:")
	loads++
	next := regexp.MustCompile(`<a class="button" href="(/p/[^"]+/book\?[^"]+)">Book `).FindStringSubmatch(results.body)
	if next == nil {
		t.Fatalf("no button booking the next open time:\n%s", results.body)
	}
	book := strings.ReplaceAll(next[1], "&amp;", "&")
	// Signing in fits in the path: the booking page sends there, and back.
	toSignIn := c.get(book)
	if toSignIn.status != http.StatusSeeOther || !strings.HasPrefix(toSignIn.location(), "/signin?next=") {
		t.Fatalf("the booking page, signed out: %d %s", toSignIn.status, toSignIn.location())
	}
	c.get(toSignIn.location()).want(t, http.StatusOK)
	in := c.post("/signin", url.Values{"email": {demo.PatientEmail}, "password": {a.demo.PatientPassword}, "next": {book}})
	if in.status != http.StatusSeeOther || in.location() != book {
		t.Fatalf("signed in to %d %s, want back to %s", in.status, in.location(), book)
	}
	confirm := c.get(book).want(t, http.StatusOK, "Maya Chen", `name="start"`)
	loads++
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`).FindAllStringSubmatch(confirm.body, -1) {
		form.Set(m[1], m[2])
	}
	booked := c.post(a.base()+"/book", form)
	if booked.status != http.StatusSeeOther || !strings.Contains(booked.location(), "booked=1") {
		t.Fatalf("booking: %d %s\n%s", booked.status, booked.location(), booked.body)
	}
	c.get(booked.location()).want(t, http.StatusOK, "Maya Chen")
	loads++
	if loads > 3 {
		t.Fatalf("%d page loads from the search to the visit booked", loads)
	}
}

// TestBrowserFindAndBook walks the directory in Chromium, with
// JavaScript off and on: the root, a search by a concern and a ZIP code,
// a provider's page, one of their open times, signing in, and booking.
func TestBrowserFindAndBook(t *testing.T) {
	eachJS(t, func(t *testing.T, js bool) {
		a := newSQLiteApp(t)
		b := a.newBrowser(js)
		b.open("/")
		b.sees("Find a doctor", "Common searches")
		b.screenshot("home")
		b.fill("q", "back pain")
		b.fill("zip", "11201")
		b.button("Search")
		b.sees("Doctors for back pain near 11201", "Maya Chen", "Next open time:", "Brooklyn Heights")
		b.screenshot("results")
		b.click(`article.doctor h2 a`)
		b.sees("Maya Chen", "Open times this week", "135 Remsen Street")
		b.screenshot("provider")
		b.click(`ul.slots a.button`)
		b.sees("Sign in")
		b.fill("email", demo.PatientEmail)
		b.fill("password", a.demo.PatientPassword)
		b.button("Sign in")
		b.sees("Maya Chen")
		b.screenshot("confirm")
		b.click(`form[action$="/book"] button[type="submit"]`)
		b.sees("Maya Chen")
		if p := b.path(); !strings.Contains(p, "/visits/") || !strings.Contains(p, "booked=1") {
			t.Fatalf("after booking at %s", p)
		}
		b.screenshot("booked")
	})
}

// TestNewPatientSignsUpOnTheWayToBooking: a visitor with no account
// follows a directory result's Book button to the sign-in page, which
// offers the practice's sign-up carrying the booking along; signing up
// there signs them in and lands on the booking's confirmation. A next
// page of another practice, or of no practice, is dropped.
func TestNewPatientSignsUpOnTheWayToBooking(t *testing.T) {
	a := newSQLiteApp(t)
	c := a.client()
	results := c.get("/find?"+url.Values{"q": {"back pain"}, "zip": {"11201"}}.Encode()).want(t, http.StatusOK, "Maya Chen")
	next := regexp.MustCompile(`<a class="button" href="(/p/[^"]+/book\?[^"]+)">Book `).FindStringSubmatch(results.body)
	if next == nil {
		t.Fatalf("no Book button:\n%s", results.body)
	}
	book := strings.ReplaceAll(next[1], "&amp;", "&")
	signIn := c.get(c.get(book).location()).want(t, http.StatusOK, "New patient here?")
	link := regexp.MustCompile(`<a href="(/p/[^"]+/register\?next=[^"]+)">Create your account</a>`).FindStringSubmatch(signIn.body)
	if link == nil {
		t.Fatalf("the sign-in page offers no sign-up on the way:\n%s", signIn.body)
	}
	register := strings.ReplaceAll(link[1], "&amp;", "&")
	if !strings.HasPrefix(register, a.base()+"/register?") {
		t.Fatalf("sign-up at %s, want the practice's (%s)", register, a.base())
	}
	form := c.get(register).want(t, http.StatusOK, `name="next"`)
	if !strings.Contains(form.body, `value="`+strings.ReplaceAll(book, "&", "&amp;")+`"`) {
		t.Fatalf("the sign-up form does not carry the booking along:\n%s", form.body)
	}
	up := c.post(a.base()+"/register", url.Values{"given_name": {"Nora"}, "family_name": {"Fischer"}, "birth_date": {"1990-05-17"},
		"email": {"nora@example.org"}, "password": {"a long enough passphrase"}, "next": {book}})
	if up.status != http.StatusSeeOther || up.location() != book {
		t.Fatalf("signed up to %d %s, want on to %s", up.status, up.location(), book)
	}
	c.get(book).want(t, http.StatusOK, "Maya Chen", `name="start"`)

	// Elsewhere than a page of this practice, next is dropped.
	for _, bad := range []string{"/p/" + uuid.NewString() + "/book", "/account", "//evil.example/p/x", "https://evil.example/"} {
		c2 := a.client()
		c2.get(a.base()+"/register?"+url.Values{"next": {bad}}.Encode()).want(t, http.StatusOK)
		res := c2.post(a.base()+"/register", url.Values{"given_name": {"Ida"}, "family_name": {"Lind"}, "birth_date": {"1990-05-17"},
			"email": {"ida" + strconv.Itoa(len(bad)) + "@example.org"}, "password": {"a long enough passphrase"}, "next": {bad}})
		if res.status != http.StatusSeeOther || res.location() != a.base()+"/register/sent" {
			t.Errorf("next %q: signed up to %d %s, want the sent page", bad, res.status, res.location())
		}
	}
	c.get("/signin?next=/account").want(t, http.StatusOK)
	if p := c.get("/signin?next=/account"); strings.Contains(p.body, "New patient here?") {
		t.Error("the sign-in page offers a practice's sign-up with no practice on the way")
	}
}
