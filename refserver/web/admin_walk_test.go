package web

import (
	"context"
	"strings"
	"testing"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/chromedp/chromedp"
)

// Browser walks of the setup pages and onboarding, in Chromium.

// set sets the value of the input named name (date and time inputs take
// no typing that is the same in every locale).
func (b *browser) set(name, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(`[name="`+name+`"]`), value))
}

// told fails unless the page's notice (above its main part) shows text.
func (b *browser) told(text string) {
	b.t.Helper()
	got := get(b, chromedp.Text(chromedp.CSS(".notice")))
	if !strings.Contains(got, text) {
		b.t.Fatalf("%s: the notice is %q, not %q", b.path(), got, text)
	}
}

// tick clicks the checkbox named name with value, on the same page.
func (b *browser) tick(name, value string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(`input[name="`+name+`"][value="`+value+`"]`), chromedp.NodeVisible))
}

// TestBrowserAdminSetsUpAVisitTypeAndHours: the demo administrator adds a
// location, a room, a provider (after a wrong NPI), a visit type and the
// provider's weekly hours, previews them, publishes them and sees the
// block's open times for the new visit type.
func TestBrowserAdminSetsUpAVisitTypeAndHours(t *testing.T) {
	a := newSQLiteApp(t)
	b := a.newBrowser(false)
	b.signIn(demo.AdminEmail, a.demo.AdminPassword)
	b.open(a.base() + "/setup")
	b.sees("Setup", "Booking policy", "What the practice offers")
	b.screenshot("setup")

	b.click(`a[href$="/setup/locations"]`)
	b.fill("name", "Harlem")
	b.choose("time_zone", "America/New_York")
	b.fill("address.line1", "2 Lenox Ave")
	b.fill("address.city", "New York")
	b.fill("geo.lat", "40.80")
	b.fill("geo.lng", "-73.94")
	b.button("Add the location")
	b.told("Added.")
	b.sees("Harlem", "2 Lenox Ave, New York, US")
	b.screenshot("locations")

	b.open(a.base() + "/setup/resources")
	b.fill("name", "Exam Room 9")
	b.button("Add it")
	b.told("Added.")
	b.sees("Exam Room 9")
	b.screenshot("resources")

	b.open(a.base() + "/setup/providers")
	b.fill("given_name", "Grace")
	b.fill("family_name", "Hopper")
	b.fill("npi", "1234567890")
	b.tick("location_ids", a.brooklyn().ID.String())
	b.button("Add the provider")
	b.sees("is not a valid NPI")
	b.screenshot("provider-npi-refused")
	b.fill("npi", validNPI(t, "198765432"))
	b.button("Add the provider")
	b.told("Added.")
	b.sees("Grace Hopper", "Brooklyn Heights")
	b.screenshot("providers")

	b.open(a.base() + "/setup/visit-types")
	b.fill("name", "Checkup")
	b.fill("duration_minutes", "30")
	b.fill("buffer_after_minutes", "10")
	b.button("Add the visit type")
	b.told("Added.")
	b.sees("Checkup", "30 min", "0 / 10 min")
	b.screenshot("visit-types")

	b.open(a.base() + "/setup/blocks")
	b.screenshot("blocks")
	b.click(`a.button[href$="/setup/blocks/new"]`)
	ps, _ := a.engine.Scheduling.Providers(context.Background(), a.demo.PracticeID, scheduling.ProviderFilter{Limit: 100})
	var grace *scheduling.Provider
	for _, p := range ps {
		if p.GivenName == "Grace" {
			grace = p
		}
	}
	b.choose("provider_id", grace.ID.String())
	b.choose("location_id", a.brooklyn().ID.String())
	b.tick("byday", "FR") // Fridays off
	b.set("start_time", "09:00")
	b.set("end_time", "12:00")
	b.button("Preview")
	b.sees("The next 8 times", "Tue 2030-03-05 09:00–12:00", "Mon 2030-03-11 09:00–12:00", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH;UNTIL=")
	if strings.Contains(b.text(), "Fri 2030-03-08") {
		t.Fatal("the preview shows an unticked day")
	}
	b.screenshot("block-preview")
	b.button("Publish these hours")
	b.told("The hours are published.")
	b.sees("Grace Hopper", "Mon, Tue, Wed, Thu · 09:00–12:00")
	var checkup string
	vts, _ := a.engine.Scheduling.VisitTypes(context.Background(), a.demo.PracticeID)
	for _, v := range vts {
		if v.Name == "Checkup" {
			checkup = v.ID.String()
		}
	}
	b.choose("visit_type_id", checkup)
	b.button("Show")
	// A start every 30 minutes (the visit's length): buffers keep time
	// free around bookings, not between open times.
	b.sees("For Checkup", "Tue 2030-03-05 09:00–09:30", "Tue 2030-03-05 09:30–10:00", "Thu 2030-03-07 11:30–12:00")
	b.screenshot("block-open-times")
	b.click(`a[href$="/edit"]`)
	b.sees("Change the weekly hours", "Grace Hopper")
	b.set("end_time", "13:00")
	b.button("Save the hours")
	b.told("The block was changed.")
	b.sees("Mon, Tue, Wed, Thu · 09:00–13:00")
	b.screenshot("block-changed")
}

// TestBrowserDeleteBlockWithBookings: deleting a block that holds a booking
// is refused with the booking listed; after moving it to another
// provider's block, the deletion succeeds.
func TestBrowserDeleteBlockWithBookings(t *testing.T) {
	for _, js := range []bool{false, true} {
		name := "js-off"
		if js {
			name = "js-on"
		}
		t.Run(name, func(t *testing.T) {
			a := newSQLiteApp(t)
			f := a.blockFixture(a.admin())
			b := a.newBrowser(js)
			b.signIn(demo.AdminEmail, a.demo.AdminPassword)
			b.open(a.base() + "/setup/blocks/" + f.from)
			b.sees("Grace Hopper", "Next times")
			b.screenshot("block")
			b.button("Delete the block")
			b.told("This block still holds bookings (1)")
			b.sees("Tue 2030-03-05 09:00–09:30", "Bookings in this block")
			b.screenshot("delete-refused")
			b.choose("to_block_id", f.to)
			b.fill("reason", "Dr Hopper is away")
			b.button("Move the bookings")
			b.told("Bookings moved: 1.")
			b.screenshot("moved")
			b.button("Delete the block")
			if got := b.path(); got != a.base()+"/setup/blocks?done=deleted" {
				t.Fatalf("after deleting: %s", got)
			}
			b.told("The block was deleted.")
			b.sees("Alan Turing")
			b.screenshot("deleted")
			appt, err := a.engine.Scheduling.Appointment(context.Background(), a.demo.PracticeID, f.appt.ID)
			if err != nil || appt.BlockID.String() != f.to {
				t.Fatalf("the booking: %+v, %v", appt, err)
			}
		})
	}
}

// TestBrowserOnboarding: a new clinic signs up and follows the first
// steps, from nothing to a practice whose booking link is shown and which
// has open times; its administrator then switches to a second practice of
// the group.
func TestBrowserOnboarding(t *testing.T) {
	a := newSQLiteApp(t)
	b := a.newBrowser(true)
	b.open("/")
	b.click(`a[href="/onboarding"]`)
	b.sees("Set up your practice")
	b.screenshot("onboarding")
	b.fill("clinic_name", "Lakeside Family Clinic")
	b.fill("email", "owner@lakeside.example")
	b.fill("password", "a long enough passphrase")
	b.button("Create my practice")
	b.sees("First steps", "1. A location", "Next step")
	start := b.path()
	b.screenshot("start")

	b.click(`.step.next a.button`)
	b.fill("name", "Main office")
	b.choose("time_zone", "America/Chicago")
	b.fill("address.city", "Madison")
	b.button("Add the location")
	if b.path() != start {
		t.Fatalf("after the location: %s", b.path())
	}
	b.sees("2. A provider")
	b.click(`.step.next a.button`)
	b.fill("given_name", "Rosa")
	b.fill("family_name", "Diaz")
	b.fill("npi", validNPI(t, "156789012"))
	b.screenshot("start-provider")
	b.button("Add the provider")
	b.click(`.step.next a.button`)
	b.fill("name", "Visit")
	b.fill("duration_minutes", "20")
	b.button("Add the visit type")
	b.click(`.step.next a.button`)
	b.sees("Weekly hours", "Rosa Diaz")
	b.button("Preview")
	b.sees("The next 8 times", "(America/Chicago)")
	b.screenshot("start-block-preview")
	b.button("Publish these hours")
	if b.path() != start {
		t.Fatalf("after the block: %s", b.path())
	}
	pid := strings.Split(start, "/")[2]
	b.sees("Your practice is bookable", a.http.URL+"/p/"+pid+"/book")
	b.screenshot("bookable")

	ctx := context.Background()
	id := mustUUID(t, pid)
	vts, _ := a.engine.Scheduling.VisitTypes(ctx, id)
	slots, err := a.engine.Scheduling.OpenSlots(ctx, id, scheduling.SlotQuery{VisitTypeID: vts[0].ID, From: testNow, To: testNow.AddDate(0, 0, 14)})
	if err != nil || len(slots) == 0 {
		t.Fatalf("the onboarded practice has %d open times (%v)", len(slots), err)
	}

	p, _ := a.engine.Tenants.Practice(ctx, id)
	second, err := a.engine.Tenants.CreatePractice(actor.With(ctx, actor.Actor{Kind: actor.System, ID: "test"}),
		tenant.NewPractice{GroupID: p.GroupID, Name: "Lakeside Pediatrics"})
	if err != nil {
		t.Fatal(err)
	}
	b.open("/p/" + pid + "/setup")
	b.sees("Your group's practices", "Lakeside Pediatrics")
	b.screenshot("group")
	b.click(`.practices a[href="/p/` + second.ID.String() + `/setup"]`)
	if got := b.path(); got != "/p/"+second.ID.String()+"/setup" {
		t.Fatalf("switched to %s", got)
	}
	b.sees("Lakeside Pediatrics (this one)")
}
