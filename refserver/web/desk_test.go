package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

// deskMatrix are the page authorization rows of the desk pages (see
// pageMatrix). A patient cannot open the desk's pages; posting a status
// or a move of their own appointment has the API's access (a patient may
// move their own visit; the empty form is then refused as bad input).
var deskMatrix = map[string]string{
	"GET /p/{practice}/calendar":                               "yyffns",
	"GET /p/{practice}/requests":                               "yyffns",
	"GET /p/{practice}/appointments/{appointment}":             "yyffns",
	"POST /p/{practice}/appointments/{appointment}/status":     "yyffns",
	"POST /p/{practice}/appointments/{appointment}/reschedule": "yyyfns",
	"GET /p/{practice}/desk/book":                              "yyffns",
	"POST /p/{practice}/desk/patients":                         "yyffns",
	"POST /p/{practice}/desk/book":                             "yyffns",
}

// entryOf is the demo appointment of the patient named given, from the
// calendar of the test week.
func (a *app) entryOf(given string) scheduling.CalendarEntry {
	a.t.Helper()
	es, err := a.engine.Scheduling.Calendar(context.Background(), a.demo.PracticeID,
		scheduling.CalendarQuery{From: testNow.AddDate(0, 0, -1), To: testNow.AddDate(0, 0, 8)})
	if err != nil {
		a.t.Fatal(err)
	}
	for _, e := range es {
		if e.Patient.GivenName == given && e.Appointment.Status != scheduling.StatusCanceled &&
			e.Appointment.VisitTypeID != a.visitTypeNamed("Diabetes group class") {
			return e
		}
	}
	a.t.Fatalf("no appointment of %s in the demo week", given)
	return scheduling.CalendarEntry{}
}

// visitTypeNamed is the ID of the demo's visit type name.
func (a *app) visitTypeNamed(name string) scheduling.VisitTypeID {
	a.t.Helper()
	vts, err := a.engine.Scheduling.VisitTypes(context.Background(), a.demo.PracticeID)
	if err != nil {
		a.t.Fatal(err)
	}
	for _, vt := range vts {
		if vt.Name == name {
			return vt.ID
		}
	}
	a.t.Fatalf("no visit type %s", name)
	return scheduling.VisitTypeID{}
}

// providerNamed is the ID of the demo provider whose family name is name.
func (a *app) providerNamed(name string) scheduling.ProviderID {
	a.t.Helper()
	ps, err := a.engine.Scheduling.Providers(context.Background(), a.demo.PracticeID, scheduling.ProviderFilter{})
	if err != nil {
		a.t.Fatal(err)
	}
	for _, p := range ps {
		if p.FamilyName == name {
			return p.ID
		}
	}
	a.t.Fatalf("no provider %s", name)
	return scheduling.ProviderID{}
}

// outboxHas reports whether the practice's outbox holds a message of kind
// about appointment id.
func (a *app) outboxHas(id scheduling.AppointmentID, kind notify.Kind) bool {
	a.t.Helper()
	ms, err := a.engine.Notify.Messages(context.Background(), a.demo.PracticeID, notify.MessageFilter{AppointmentID: &id, Kind: kind})
	if err != nil {
		a.t.Fatal(err)
	}
	return len(ms) > 0
}

// TestDeskCalendar: the week and the day of the demo clinic, in New
// York's time, with each appointment's patient, visit type, status label
// and class, resources, the new patient badge and the flag of new
// requests; the filters narrow it; bad input names its field.
func TestDeskCalendar(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		olivia, grace := a.entryOf("Olivia"), a.entryOf("Grace")
		cal := a.base() + "/calendar"

		week := c.get(cal+"?view=week").want(t, http.StatusOK, "Times in America/New_York", "Mon 4 Mar", "Sun 10 Mar",
			"Olivia Bennett", `class="badge badge-new-patient">New patient</span>`, `class="status status-new">⚑ New request</span>`,
			`class="status status-confirmed">Confirmed</span>`, `class="status status-canceled">Canceled</span>`,
			"ECG machine", "Dr. Elena Petrova", `href="`+a.base()+`/appointments/`+olivia.Appointment.ID.String()+`"`,
			"2 new requests to confirm", `<span class="badge badge-count" aria-label="2 new requests">2</span>`)
		if n := strings.Count(week.body, `<span class="badge badge-new-patient">`); n < 3 {
			t.Fatalf("the week shows %d new patient badges, want one per new patient's visit", n)
		}
		// Marcus is established: his follow-up carries no badge.
		i := strings.Index(week.body, "Marcus Johnson</span>")
		if i < 0 || strings.HasPrefix(week.body[i+len("Marcus Johnson</span>"):], ` <span class="badge badge-new-patient">`) {
			t.Fatalf("Marcus (established) shows as a new patient or not at all")
		}

		// A day in the week; the provider filter keeps Dr. Petrova's only.
		c.get(cal+"?day=2030-03-05").want(t, http.StatusOK, "Tue 5 Mar 2030", "Olivia Bennett", "Grace O&#39;Neil")
		byPetrova := c.get(cal+"?view=week&provider_id="+grace.Appointment.ProviderID.String()).want(t, http.StatusOK, "Grace O&#39;Neil")
		if strings.Contains(byPetrova.body, "Olivia Bennett") {
			t.Fatal("the provider filter shows another provider's appointment")
		}
		res := grace.Appointment.ResourceIDs[0].String()
		byECG := c.get(cal+"?view=week&resource_id="+res).want(t, http.StatusOK, "Grace O&#39;Neil", `<option value="`+res+`" selected>`)
		if strings.Contains(byECG.body, "Olivia Bennett") {
			t.Fatal("the resource filter shows an appointment without the resource")
		}

		for _, tc := range []struct{ query, field string }{
			{"day=5-3-2030", "day"}, {"view=month", "view"}, {"provider_id=dr-who", "provider_id"}, {"location_id=1", "location_id"},
		} {
			c.get(cal+"?"+tc.query).want(t, http.StatusUnprocessableEntity, `id="`+tc.field+`-error"`)
		}

		// In Spanish.
		c.get("/lang/es")
		c.get(cal+"?view=week").want(t, http.StatusOK, "Horas de America/New_York", "lun 4 mar", "Paciente nuevo", "⚑ Solicitud nueva", "Confirmada")
	})
}

// TestDeskRequests: the queue lists the new requests oldest first;
// confirming one takes it off the queue, the badge and the calendar's
// flag, and puts the patient's confirmation in the outbox; declining
// needs a reason.
func TestDeskRequests(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		olivia, sofia := a.entryOf("Olivia"), a.entryOf("Sofía")
		q := c.get(a.base()+"/requests").want(t, http.StatusOK, "2 requests wait for confirmation", "Olivia Bennett", "Sofía Ramírez")
		if strings.Index(q.body, "Olivia Bennett") > strings.Index(q.body, "Sofía Ramírez") {
			t.Fatal("the queue is not oldest first")
		}
		status := a.base() + "/appointments/" + olivia.Appointment.ID.String() + "/status"
		res := c.post(status, url.Values{"status": {"confirmed"}, "from": {"requests"}})
		if res.status != http.StatusSeeOther || res.location() != a.base()+"/requests?done=confirmed" {
			t.Fatalf("confirm: %d to %q\n%s", res.status, res.location(), res.body)
		}
		after := c.get(res.location()).want(t, http.StatusOK, "The request is confirmed", "1 requests wait", `aria-label="1 new requests">1</span>`)
		if strings.Contains(after.body, "Olivia Bennett") {
			t.Fatal("the confirmed request is still in the queue")
		}
		if !a.outboxHas(olivia.Appointment.ID, notify.KindConfirmed) {
			t.Fatal("no confirmation for the patient in the outbox")
		}
		cal := c.get(a.base()+"/calendar?view=week").want(t, http.StatusOK, "1 new requests to confirm")
		card := cal.body[strings.Index(cal.body, olivia.Appointment.ID.String()):]
		card = card[:strings.Index(card, "</a>")]
		if strings.Contains(card, "is-new") || strings.Contains(card, "⚑") || !strings.Contains(card, "status-confirmed") {
			t.Fatalf("the confirmed request is still flagged on the calendar: %s", card)
		}
		// Confirming twice is refused on the queue's page, not a failure.
		c.post(status, url.Values{"status": {"confirmed"}, "from": {"requests"}}).want(t, http.StatusConflict, "cannot become confirmed")

		decline := a.base() + "/appointments/" + sofia.Appointment.ID.String() + "/status"
		c.post(decline, url.Values{"status": {"canceled"}, "from": {"requests"}}).want(t, http.StatusUnprocessableEntity,
			`id="reason-`+sofia.Appointment.ID.String()+`-error"`, "Give a reason")
		res = c.post(decline, url.Values{"status": {"canceled"}, "reason": {"Dr. Okafor is away that day"}, "from": {"requests"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("decline: %d\n%s", res.status, res.body)
		}
		empty := c.get(a.base()+"/requests").want(t, http.StatusOK, "No new requests")
		if strings.Contains(empty.body, "badge-count") {
			t.Fatal("the badge still counts requests")
		}
		if !a.outboxHas(sofia.Appointment.ID, notify.KindCanceled) {
			t.Fatal("no cancellation for the patient in the outbox")
		}
	})
}

// TestDeskAppointmentRules: the appointment page's actions, each refused
// by the domain's rules with its message on the page (never a 5xx), and
// each change in the history once done.
func TestDeskAppointmentRules(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		grace := a.entryOf("Grace") // confirmed, ECG with Dr. Petrova, Tue 5 Mar 09:00
		page := a.base() + "/appointments/" + grace.Appointment.ID.String()
		c.get(page).want(t, http.StatusOK, "<h1>Appointment of Grace O&#39;Neil</h1>", "Tue 5 Mar 2030, 09:00–09:30",
			"America/New_York", "ECG machine", "Dr. Elena Petrova", "Upper West Side", "Established patient", "Mark arrived", "Mark no visit")

		for _, tc := range []struct {
			name   string
			path   string
			form   url.Values
			status int
			text   string
		}{
			{"arrived a day early", "/status", url.Values{"status": {"arrived"}}, http.StatusUnprocessableEntity, "an arrival can be recorded only around the visit"},
			{"out before arriving", "/status", url.Values{"status": {"out"}}, http.StatusConflict, "cannot become out"},
			{"no-visit before the start", "/status", url.Values{"status": {"no-visit"}}, http.StatusUnprocessableEntity, "once the visit&#39;s start has passed"},
			{"an unknown status", "/status", url.Values{"status": {"gone"}}, http.StatusUnprocessableEntity, "unknown status"},
			{"no status", "/status", url.Values{}, http.StatusUnprocessableEntity, "Choose what to do"},
			{"cancel without a reason", "/status", url.Values{"status": {"canceled"}}, http.StatusUnprocessableEntity, `id="cancel-reason-error"`},
			{"move without a time", "/reschedule", url.Values{}, http.StatusUnprocessableEntity, `id="start-error"`},
			{"move to a malformed time", "/reschedule", url.Values{"start": {"tuesday"}}, http.StatusUnprocessableEntity, `id="start-error"`},
			{"move to the night", "/reschedule", url.Values{"start": {"2030-03-05T22:00"}}, http.StatusUnprocessableEntity, "no availability"},
			{"move to the past", "/reschedule", url.Values{"start": {"2030-03-01T10:00"}}, http.StatusUnprocessableEntity, "is in the past"},
			{"move to no provider", "/reschedule", url.Values{"start": {"2030-03-05T10:00"}, "provider_id": {"x"}}, http.StatusUnprocessableEntity, `id="provider_id-error"`},
		} {
			res := c.post(page+tc.path, tc.form)
			if res.status != tc.status || !strings.Contains(res.body, tc.text) || !strings.Contains(res.body, "<h1>Appointment of Grace") {
				t.Errorf("%s: %d, want %d with %q on the appointment's page\n%.3000s", tc.name, res.status, tc.status, tc.text, res.body)
			}
		}

		// Move to 10:30 with the reason; then arrive and go out that day.
		res := c.post(page+"/reschedule", url.Values{"start": {"2030-03-05T10:30"}, "reason": {"Patient asked for later"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("move: %d\n%s", res.status, res.body)
		}
		c.get(res.location()).want(t, http.StatusOK, "Moved to the new time.", "Tue 5 Mar 2030, 10:30–11:00", "was Tue 5 Mar 2030, 09:00", "Patient asked for later")
		a.clock.Set(time.Date(2030, 3, 5, 15, 20, 0, 0, time.UTC)) // 10:20 in New York
		c = a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		for _, step := range []string{"arrived", "out"} {
			if res := c.post(page+"/status", url.Values{"status": {step}}); res.status != http.StatusSeeOther {
				t.Fatalf("%s: %d\n%s", step, res.status, res.body)
			}
		}
		done := c.get(page).want(t, http.StatusOK, `class="status status-out">Out (visit over)</span>`,
			"<td>Booked</td>", "<td>Moved</td>", "<td>Arrived</td><td>Confirmed → Arrived</td><td>"+demo.FrontDeskEmail+"</td>",
			"<td>Out</td><td>Arrived → Out (visit over)</td>")
		if strings.Contains(done.body, "Mark arrived") || strings.Contains(done.body, `action="`+page+`/reschedule"`) {
			t.Fatal("a finished visit still offers arrival or a move")
		}
	})
}

// TestDeskBook: the front desk finds a patient by name, phone or email, or
// registers one (bad input next to its field), chooses a visit type and
// an open time, and books: a staff booking, confirmed at once.
func TestDeskBook(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		book := a.base() + "/desk/book"
		c.get(book).want(t, http.StatusOK, "Find the patient", "Or register a new patient")
		for _, q := range []string{"benn", "Olivia", "+1 (718) 555-0119", "Olivia.Bennett@example.com"} {
			c.get(book+"?q="+url.QueryEscape(q)).want(t, http.StatusOK, "Olivia Bennett", "1984-11-30")
		}
		c.get(book+"?q=nobody").want(t, http.StatusOK, "No patient matches")
		c.get(book+"?patient_id=nope").want(t, http.StatusUnprocessableEntity, `class="notice error" role="alert">That patient is not found: search again.`)

		bad := c.post(a.base()+"/desk/patients", url.Values{"given_name": {"Ada"}, "family_name": {""}, "birth_date": {"1990-02-03"}})
		bad.want(t, http.StatusUnprocessableEntity, `id="family_name-error"`, `value="Ada"`)
		res := c.post(a.base()+"/desk/patients", url.Values{"given_name": {"Ada"}, "family_name": {"<b>Lovelace</b>"},
			"birth_date": {"1990-02-03"}, "phone": {"+12025550199"}})
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location(), book+"?patient_id=") {
			t.Fatalf("register: %d to %q\n%s", res.status, res.location(), res.body)
		}
		chosen := c.get(res.location()).want(t, http.StatusOK, "Ada &lt;b&gt;Lovelace&lt;/b&gt;", "Choose a visit type")
		if strings.Contains(chosen.body, "<b>Lovelace") {
			t.Fatal("a patient's name is not escaped")
		}
		pid := strings.TrimPrefix(res.location(), book+"?patient_id=")
		chen := a.providerNamed("Chen").String()
		times := c.get(book+"?patient_id="+pid+"&visit_type_id="+a.visitTypeNamed("New patient visit").String()+
			"&provider_id="+chen+"&day=2030-03-06").want(t, http.StatusOK, "Open times", "Wed 6 Mar", "09:00 · Dr. Maya Chen")
		i := strings.Index(times.body, `href="`+book+"?")
		href := times.body[i+len(`href="`):]
		href = strings.ReplaceAll(href[:strings.IndexByte(href, '"')], "&amp;", "&")
		confirm := c.get(href).want(t, http.StatusOK, "Confirm the booking", "Wed 6 Mar 2030, 09:00", `name="start"`)
		form := url.Values{}
		for _, name := range []string{"patient_id", "provider_id", "visit_type_id", "location_id", "start"} {
			j := strings.Index(confirm.body, `name="`+name+`" value="`)
			v := confirm.body[j+len(`name="`+name+`" value="`):]
			form.Set(name, v[:strings.IndexByte(v, '"')])
		}
		res = c.post(book, form)
		if res.status != http.StatusSeeOther {
			t.Fatalf("book: %d\n%s", res.status, res.body)
		}
		c.get(res.location()).want(t, http.StatusOK, "Booked and confirmed.", `status-confirmed">Confirmed</span>`, "Wed 6 Mar 2030, 09:00–09:40",
			`<span class="badge badge-new-patient">New patient</span>`)
		// The same time again is taken: the confirmation shows why.
		c.post(book, form).want(t, http.StatusConflict, "Confirm the booking", "already taken")
		// An established visit type for a new patient is refused by the audience rule.
		form.Set("visit_type_id", a.visitTypeNamed("Follow-up").String())
		form.Set("start", "2030-03-07T15:00:00Z")
		if res := c.post(book, form); res.status < 400 || res.status >= 500 {
			t.Fatalf("a follow-up for a new patient: %d, want a 4xx\n%s", res.status, res.body)
		}
	})
}

// TestDeskStrings: every status and history action the desk pages show
// has its words in both languages.
func TestDeskStrings(t *testing.T) {
	keys := []string{}
	for _, st := range []scheduling.Status{scheduling.StatusNew, scheduling.StatusConfirmed, scheduling.StatusArrived,
		scheduling.StatusOut, scheduling.StatusCanceled, scheduling.StatusNoVisit} {
		keys = append(keys, "desk.status."+string(st))
	}
	for _, act := range []string{"book", "confirm", "reschedule", "move", "cancel", "arrive", "out", "no-visit", "allow-patient-overlap"} {
		keys = append(keys, "desk.action."+act)
	}
	for _, st := range []string{"confirmed", "arrived", "out", "no-visit"} {
		keys = append(keys, "desk.appt.do."+st, "desk.appt.done."+st)
	}
	keys = append(keys, "desk.appt.done.canceled", "desk.appt.done.rescheduled", "desk.appt.done.booked")
	for i := range 7 {
		keys = append(keys, "desk.wd."+strconv.Itoa(i))
	}
	for m := 1; m <= 12; m++ {
		keys = append(keys, "desk.mon."+strconv.Itoa(m))
	}
	for lang, cat := range catalogs {
		for _, k := range keys {
			if _, ok := cat[k]; !ok {
				t.Errorf("%s: no string %s", lang, k)
			}
		}
	}
}

// TestUUIDText: the calendar's cards write IDs as uuid's String does.
func TestUUIDText(t *testing.T) {
	for range 100 {
		id := uuid.New()
		if got := string(uuidText(nil, id)); got != id.String() {
			t.Fatalf("uuidText = %s, want %s", got, id)
		}
	}
}

// TestDeskActivityLog: the desk pages leave the API's entries in the
// activity log: reading the calendar, the queue and an appointment,
// confirming (allowed, with the appointment), a refused arrival (failed),
// and a patient's attempt at the calendar (denied).
func TestDeskActivityLog(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		olivia, grace := a.entryOf("Olivia"), a.entryOf("Grace")
		c.get(a.base()+"/calendar").want(t, http.StatusOK)
		c.get(a.base()+"/requests").want(t, http.StatusOK)
		c.get(a.base()+"/appointments/"+grace.Appointment.ID.String()).want(t, http.StatusOK)
		c.post(a.base()+"/appointments/"+olivia.Appointment.ID.String()+"/status", url.Values{"status": {"confirmed"}})
		c.post(a.base()+"/appointments/"+grace.Appointment.ID.String()+"/status", url.Values{"status": {"arrived"}})
		a.signedIn(demo.PatientEmail, a.demo.PatientPassword).get(a.base()+"/calendar").want(t, http.StatusForbidden)

		for _, tc := range []struct {
			action   string
			outcome  audit.Outcome
			resource string
		}{
			{"calendar.read", audit.Allowed, ""},
			{"requests.read", audit.Allowed, ""},
			{"appointment.read", audit.Allowed, grace.Appointment.ID.String()},
			{"appointment.status", audit.Allowed, olivia.Appointment.ID.String()},
			{"appointment.status", audit.Failed, grace.Appointment.ID.String()},
			{"calendar.read", audit.Denied, ""},
		} {
			es, err := a.engine.Audit.Query(context.Background(), a.demo.PracticeID, audit.Filter{Action: tc.action, Outcome: tc.outcome})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range es {
				found = found || e.ResourceID == tc.resource || tc.resource == ""
			}
			if !found {
				t.Errorf("no %s entry %s (resource %q) in the activity log", tc.outcome, tc.action, tc.resource)
			}
		}
	})
}
