package web

import (
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/notify"
	"github.com/chromedp/chromedp"
)

// badge is the navigation's count of new requests, "" when it shows none.
func (b *browser) badge() string {
	b.t.Helper()
	nodes := get(b, chromedp.Evaluate[int](`document.querySelectorAll("header .badge-count").length`))
	if nodes == 0 {
		return ""
	}
	return get(b, chromedp.Text(chromedp.CSS("header .badge-count")))
}

// setValue sets the input named name to value as a script would (a
// datetime-local input takes no typed keys in one piece).
func (b *browser) setValue(name, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(`[name="`+name+`"]`), value))
}

// TestBrowserDeskConfirmsRequest: with JavaScript off, the front desk sees
// the patient's new request flagged on the week and the day and counted
// in the badge, confirms it from the queue in one click, and the flag and
// the count go; the patient's confirmation is in the practice's outbox.
func TestBrowserDeskConfirmsRequest(t *testing.T) {
	a := newSQLiteApp(t)
	olivia := a.entryOf("Olivia")
	b := a.newBrowser(false)
	b.signIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	if got := b.path(); got != a.base()+"/calendar" {
		t.Fatalf("signed in at %s, want the calendar", got)
	}
	b.open(a.base() + "/calendar?view=week")
	b.sees("Times in America/New_York", "2 new requests to confirm", "Olivia Bennett", "⚑ New request", "New patient")
	if got := b.badge(); got != "2" {
		t.Fatalf("the badge shows %q, want 2", got)
	}
	b.screenshot("calendar-week")
	b.click(`a.appt[href$="` + olivia.Appointment.ID.String() + `"]`)
	b.sees("Appointment of Olivia Bennett", "New request", "Confirm")
	b.open(a.base() + "/calendar?day=2030-03-05")
	b.sees("Tue 5 Mar 2030", "Olivia Bennett", "Grace O'Neil")
	b.screenshot("calendar-day")

	b.click(`header nav a[href$="/requests"]`)
	b.sees("2 requests wait for confirmation", "Olivia Bennett", "Sofía Ramírez")
	b.screenshot("requests")
	b.click(`//li[.//a[normalize-space(.)="Olivia Bennett"]]//button[normalize-space(.)="Confirm"]`)
	b.sees("The request is confirmed", "1 requests wait")
	if strings.Contains(b.text(), "Olivia Bennett") {
		t.Fatal("the confirmed request is still in the queue")
	}
	if got := b.badge(); got != "1" {
		t.Fatalf("after confirming, the badge shows %q, want 1", got)
	}
	b.screenshot("requests-after-confirm")
	b.open(a.base() + "/calendar?view=week")
	b.sees("1 new requests to confirm")
	card := get(b, chromedp.Text(chromedp.CSS(`a.appt[href$="`+olivia.Appointment.ID.String()+`"]`)))
	if strings.Contains(card, "⚑") || !strings.Contains(card, "Confirmed") {
		t.Fatalf("Olivia's visit is still flagged: %q", card)
	}
	if !a.outboxHas(olivia.Appointment.ID, notify.KindConfirmed) {
		t.Fatal("no confirmation for the patient in the outbox")
	}
}

// TestBrowserDeskMovesArrivesOut: with JavaScript on, the front desk books
// a visit for a patient (search, visit type, open time, confirm), moves
// another appointment, marks it arrived and then out on the day; its
// history shows each change.
func TestBrowserDeskMovesArrivesOut(t *testing.T) {
	a := newSQLiteApp(t)
	grace := a.entryOf("Grace")
	b := a.newBrowser(true)
	b.signIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)

	b.click(`header nav a[href$="/desk/book"]`)
	// Names are sealed at rest: the search goes through blind indexes,
	// by a name's first letters, narrowed by a date of birth.
	b.fill("q", "ben 1990-01-01")
	b.button("Search")
	b.sees("No patient matches “ben 1990-01-01”.")
	b.fill("q", "oli 1984-11-30")
	b.button("Search")
	b.sees("Olivia Bennett", "1984-11-30")
	b.fill("q", "Bennett")
	b.button("Search")
	b.sees("Olivia Bennett", "1984-11-30")
	b.screenshot("book-search")
	b.click(`//table[contains(@class,"found")]//a[normalize-space(.)="Olivia Bennett"]`)
	b.choose("visit_type_id", a.visitTypeNamed("New patient visit").String())
	b.choose("provider_id", a.providerNamed("Chen").String())
	b.setValue("day", "2030-03-06")
	b.button("Find open times")
	b.sees("Open times", "Wed 6 Mar", "09:00 · Dr. Maya Chen")
	b.screenshot("book-times")
	b.click(`//a[normalize-space(.)="09:00 · Dr. Maya Chen"]`)
	b.sees("Confirm the booking", "Wed 6 Mar 2030, 09:00", "confirmed at once")
	b.screenshot("book-confirm")
	b.button("Book")
	b.sees("Booked and confirmed.", "Appointment of Olivia Bennett", "Wed 6 Mar 2030, 09:00–09:40", "Confirmed")

	page := a.base() + "/appointments/" + grace.Appointment.ID.String()
	b.open(page)
	b.sees("Appointment of Grace O'Neil", "Tue 5 Mar 2030, 09:00–09:30", "ECG machine")
	b.screenshot("appointment")
	b.setValue("start", "2030-03-05T10:30")
	// The move's reason (the cancel form has a reason too).
	b.do(chromedp.SendKeys(chromedp.CSS("#reason"), "Patient asked for later"))
	b.button("Move")
	b.sees("Moved to the new time.", "Tue 5 Mar 2030, 10:30–11:00", "was Tue 5 Mar 2030, 09:00", "Patient asked for later")

	// The day of the visit, 10:20 in New York: a new session.
	a.clock.Set(time.Date(2030, 3, 5, 15, 20, 0, 0, time.UTC))
	b.signIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	b.open(page)
	b.button("Mark arrived")
	b.sees("Marked arrived.", "Arrived")
	b.button("Mark out")
	b.sees("Marked out: the visit is over.", "Out (visit over)")
	hist := get(b, chromedp.Text(chromedp.CSS("table.history")))
	for _, row := range []string{"Booked", "Moved", "was Tue 5 Mar 2030, 09:00", "Confirmed → Arrived", "Arrived → Out (visit over)", demo.FrontDeskEmail} {
		if !strings.Contains(hist, row) {
			t.Fatalf("the history lacks %q:\n%s", row, hist)
		}
	}
	b.screenshot("appointment-history")
}
