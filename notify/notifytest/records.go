package notifytest

import (
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/scheduling"
	"github.com/google/uuid"
)

var recordCases = []testCase{
	{"Settings", testSettings},
	{"Templates", testTemplates},
	{"Preferences", testPreferences},
	{"AppointmentFacts", testAppointmentFacts},
	{"NextAppointment", testNextAppointment},
	{"PatientsByPhone", testPatientsByPhone},
	{"MarketingAudience", testMarketingAudience},
}

func testSettings(e *Env) {
	f := e.MustFixture("Clinic")
	g := e.MustFixture("Other")
	got, err := e.Store.Settings(e.Ctx, f.Practice.ID)
	e.ok(err, "Settings")
	e.eq(got, notify.DefaultSettings(f.Practice.ID), "Settings of a practice that set none")
	s := notify.Settings{PracticeID: f.Practice.ID, ReminderOffsets: []time.Duration{72 * time.Hour, 90 * time.Minute},
		QuietStart: 22 * 60, QuietEnd: 7 * 60, SMSFrom: "+12025550100", EmailFrom: "desk@clinic.example",
		EmailFromName: "The Clinic", UpdatedAt: T0}
	e.ok(e.Store.PutSettings(e.Ctx, s), "PutSettings")
	want := s
	want.UpdatedAt = T0.UTC()
	got, err = e.Store.Settings(e.Ctx, f.Practice.ID)
	e.ok(err, "Settings")
	e.eq(got, want, "Settings after PutSettings")
	// Replacing keeps one row; no offsets means no reminders.
	s.ReminderOffsets, s.SMSFrom = []time.Duration{}, ""
	e.ok(e.Store.PutSettings(e.Ctx, s), "PutSettings again")
	got, err = e.Store.Settings(e.Ctx, f.Practice.ID)
	e.ok(err, "Settings")
	if len(got.ReminderOffsets) != 0 || got.SMSFrom != "" {
		e.T.Fatalf("Settings after replacing = %+v", got)
	}
	got, err = e.Store.Settings(e.Ctx, g.Practice.ID)
	e.ok(err, "Settings")
	e.eq(got, notify.DefaultSettings(g.Practice.ID), "Settings of another practice")
	s.PracticeID = newID()
	e.wantKind(e.Store.PutSettings(e.Ctx, s), errs.KindNotFound, "PutSettings of an unknown practice")
}

func testTemplates(e *Env) {
	f := e.MustFixture("Clinic")
	g := e.MustFixture("Other")
	_, err := e.Store.Template(e.Ctx, f.Practice.ID, notify.KindReminder, notify.SMS, "en")
	e.wantKind(err, errs.KindNotFound, "Template before any")
	tpl := func(k notify.Kind, ch notify.Channel, lang, text string) *notify.Template {
		return &notify.Template{PracticeID: f.Practice.ID, Kind: k, Channel: ch, Language: lang,
			Subject: "S " + text, Text: text, HTML: "<p>" + text + "</p>", UpdatedAt: T0, UpdatedBy: "staff:1"}
	}
	a := tpl(notify.KindReminder, notify.SMS, "en", "a")
	b := tpl(notify.KindReminder, notify.SMS, "es", "b")
	c := tpl(notify.KindConfirmed, notify.Email, "en", "c")
	for _, t := range []*notify.Template{a, b, c} {
		e.ok(e.Store.PutTemplate(e.Ctx, t), "PutTemplate")
	}
	utcT := func(t *notify.Template) *notify.Template { c := *t; c.UpdatedAt = c.UpdatedAt.UTC(); return &c }
	got, err := e.Store.Template(e.Ctx, f.Practice.ID, notify.KindReminder, notify.SMS, "es")
	e.ok(err, "Template")
	e.eq(got, utcT(b), "Template")
	a2 := tpl(notify.KindReminder, notify.SMS, "en", "a2")
	e.ok(e.Store.PutTemplate(e.Ctx, a2), "PutTemplate (replace)")
	list, err := e.Store.Templates(e.Ctx, f.Practice.ID)
	e.ok(err, "Templates")
	// By kind, channel, then language: the contract says "lists"; the suite
	// asks for a stable order.
	e.eq(list, []*notify.Template{utcT(c), utcT(a2), utcT(b)}, "Templates")
	list, err = e.Store.Templates(e.Ctx, g.Practice.ID)
	e.ok(err, "Templates of another practice")
	e.eq(len(list), 0, "Templates of another practice")
	_, err = e.Store.Template(e.Ctx, g.Practice.ID, notify.KindReminder, notify.SMS, "es")
	e.wantKind(err, errs.KindNotFound, "Template of another practice")
	e.wantKind(e.Store.DeleteTemplate(e.Ctx, g.Practice.ID, notify.KindReminder, notify.SMS, "es"), errs.KindNotFound, "DeleteTemplate in another practice")
	e.ok(e.Store.DeleteTemplate(e.Ctx, f.Practice.ID, notify.KindReminder, notify.SMS, "es"), "DeleteTemplate")
	e.wantKind(e.Store.DeleteTemplate(e.Ctx, f.Practice.ID, notify.KindReminder, notify.SMS, "es"), errs.KindNotFound, "DeleteTemplate again")
	_, err = e.Store.Template(e.Ctx, f.Practice.ID, notify.KindReminder, notify.SMS, "es")
	e.wantKind(err, errs.KindNotFound, "Template after DeleteTemplate")
}

func testPreferences(e *Env) {
	f := e.MustFixture("Clinic")
	g := e.MustFixture("Other")
	got, err := e.Store.Preferences(e.Ctx, f.Practice.ID, f.Patient.ID)
	e.ok(err, "Preferences")
	e.eq(got, notify.DefaultPreferences(f.Practice.ID, f.Patient.ID), "Preferences of a patient who set none")
	_, err = e.Store.Preferences(e.Ctx, g.Practice.ID, f.Patient.ID)
	e.wantKind(err, errs.KindNotFound, "Preferences of another practice's patient")
	_, err = e.Store.Preferences(e.Ctx, f.Practice.ID, newID())
	e.wantKind(err, errs.KindNotFound, "Preferences of an unknown patient")

	p := notify.Preferences{PracticeID: f.Practice.ID, PatientID: f.Patient.ID, SMS: false, Email: true,
		SMSOptOut: true, Language: "es", Marketing: true, UpdatedAt: T0}
	change := func(field, value string, at time.Time) notify.ConsentChange {
		return notify.ConsentChange{ID: newID(), PracticeID: f.Practice.ID, PatientID: f.Patient.ID,
			Field: field, Value: value, Source: "sms:STOP", At: at}
	}
	c1, c2 := change("sms_opt_out", "true", T0.Add(time.Second)), change("marketing", "true", T0)
	e.ok(e.Store.PutPreferences(e.Ctx, p, []notify.ConsentChange{c1, c2}), "PutPreferences")
	got, err = e.Store.Preferences(e.Ctx, f.Practice.ID, f.Patient.ID)
	e.ok(err, "Preferences")
	want := p
	want.UpdatedAt = T0.UTC()
	e.eq(got, want, "Preferences after PutPreferences")
	p.SMSOptOut, p.Marketing = false, false
	c3 := change("sms_opt_out", "false", T0.Add(time.Minute))
	e.ok(e.Store.PutPreferences(e.Ctx, p, []notify.ConsentChange{c3}), "PutPreferences again")
	got, err = e.Store.Preferences(e.Ctx, f.Practice.ID, f.Patient.ID)
	e.ok(err, "Preferences")
	e.eq([]bool{got.SMSOptOut, got.Marketing}, []bool{false, false}, "opt-out and marketing after the second PutPreferences")
	hist, err := e.Store.ConsentHistory(e.Ctx, f.Practice.ID, f.Patient.ID)
	e.ok(err, "ConsentHistory")
	var wantHist []*notify.ConsentChange
	for _, c := range []notify.ConsentChange{c2, c1, c3} {
		c.At = c.At.UTC()
		wantHist = append(wantHist, &c)
	}
	e.eq(hist, wantHist, "ConsentHistory (oldest first)")
	hist, err = e.Store.ConsentHistory(e.Ctx, g.Practice.ID, f.Patient.ID)
	e.ok(err, "ConsentHistory in another practice")
	e.eq(len(hist), 0, "ConsentHistory in another practice")

	// Another practice cannot write this patient's preferences, and a
	// failed write leaves no consent rows behind.
	q := p
	q.PracticeID = g.Practice.ID
	bad := change("sms", "true", T0)
	bad.PracticeID = g.Practice.ID
	e.wantKind(e.Store.PutPreferences(e.Ctx, q, []notify.ConsentChange{bad}), errs.KindNotFound, "PutPreferences of another practice's patient")
	hist, err = e.Store.ConsentHistory(e.Ctx, g.Practice.ID, f.Patient.ID)
	e.ok(err, "ConsentHistory")
	e.eq(len(hist), 0, "consent changes of a failed PutPreferences")
}

func testAppointmentFacts(e *Env) {
	f := e.MustFixture("Clinic")
	g := e.MustFixture("Other")
	got, err := e.Store.AppointmentFacts(e.Ctx, f.Practice.ID, f.Appt.ID)
	e.ok(err, "AppointmentFacts")
	want := &notify.Facts{
		PracticeID: f.Practice.ID, PracticeName: "Clinic", AppointmentID: f.Appt.ID, Status: "confirmed",
		Start: f.Appt.Start.UTC(), End: f.Appt.End.UTC(), PatientID: f.Patient.ID,
		GivenName: "Pat", FamilyName: "Parker", Phone: "+12025550143", Email: "pat@example.com", Language: "en",
		ProviderName: got.ProviderName, VisitTypeName: "Checkup", LocationName: "Main",
		LocationZone: "America/New_York", LocationStreet: got.LocationStreet, LocationCity: "Springfield",
		CancelCutoff: 24 * time.Hour, // the fixture's policy: tenant.DefaultPolicy
	}
	// A store may read the patient's preferences and the practice's
	// settings with the facts: then they are what Preferences and Settings
	// return, defaults and stored ones alike.
	samePrefsAndSettings := func(got *notify.Facts, what string) {
		e.T.Helper()
		if got.Preferences != nil {
			p, err := e.Store.Preferences(e.Ctx, f.Practice.ID, f.Patient.ID)
			e.ok(err, "Preferences")
			e.eq(*got.Preferences, p, "%s: Preferences", what)
		}
		if got.Settings != nil {
			set, err := e.Store.Settings(e.Ctx, f.Practice.ID)
			e.ok(err, "Settings")
			e.eq(*got.Settings, set, "%s: Settings", what)
		}
		got.Preferences, got.Settings = nil, nil
	}
	samePrefsAndSettings(got, "AppointmentFacts with default preferences and settings")
	e.eq(got, want, "AppointmentFacts")
	e.ok(e.Store.PutSettings(e.Ctx, notify.Settings{PracticeID: f.Practice.ID, ReminderOffsets: []time.Duration{3 * time.Hour},
		QuietStart: 22 * 60, QuietEnd: 7 * 60, SMSFrom: "+12025550100", EmailFrom: "desk@example.com", EmailFromName: "Desk", UpdatedAt: T0}), "PutSettings")
	e.ok(e.Store.PutPreferences(e.Ctx, notify.Preferences{PracticeID: f.Practice.ID, PatientID: f.Patient.ID, SMS: false, Email: true,
		SMSOptOut: true, Language: "es", Marketing: true, UpdatedAt: T0}, nil), "PutPreferences")
	got, err = e.Store.AppointmentFacts(e.Ctx, f.Practice.ID, f.Appt.ID)
	e.ok(err, "AppointmentFacts")
	samePrefsAndSettings(got, "AppointmentFacts with stored preferences and settings")
	e.eq(got, want, "AppointmentFacts after PutSettings and PutPreferences")
	// How names and streets are put together is the store's choice; they
	// must carry the parts.
	for _, part := range []struct{ in, what string }{
		{f.Provider.FamilyName, got.ProviderName}, {f.Location.Address.Line1, got.LocationStreet},
	} {
		if !strings.Contains(part.what, part.in) {
			e.T.Fatalf("AppointmentFacts: %q does not contain %q", part.what, part.in)
		}
	}
	_, err = e.Store.AppointmentFacts(e.Ctx, g.Practice.ID, f.Appt.ID)
	e.wantKind(err, errs.KindNotFound, "AppointmentFacts of another practice's appointment")
	_, err = e.Store.AppointmentFacts(e.Ctx, f.Practice.ID, newID())
	e.wantKind(err, errs.KindNotFound, "AppointmentFacts of an unknown appointment")
}

func testNextAppointment(e *Env) {
	f := e.MustFixture("Clinic") // f.Appt: confirmed, T0+48h
	twin := e.MustPatient(f, "Tess", f.Patient.Phone, "tess@example.com")
	e.MustAppt(f, f.Patient, T0.Add(24*time.Hour), scheduling.StatusCanceled)
	e.MustAppt(f, f.Patient, T0.Add(-24*time.Hour), scheduling.StatusConfirmed)
	soon := e.MustAppt(f, twin, T0.Add(36*time.Hour), scheduling.StatusNew)
	next := func(patients []uuid.UUID, after time.Time) uuid.UUID {
		e.T.Helper()
		got, err := e.Store.NextAppointment(e.Ctx, f.Practice.ID, patients, after)
		e.ok(err, "NextAppointment")
		return got.AppointmentID
	}
	e.eq(next([]uuid.UUID{f.Patient.ID}, T0), f.Appt.ID, "NextAppointment of one patient (skipping canceled and past)")
	e.eq(next([]uuid.UUID{f.Patient.ID, twin.ID}, T0), soon.ID, "NextAppointment of two patients")
	_, err := e.Store.NextAppointment(e.Ctx, f.Practice.ID, []uuid.UUID{f.Patient.ID}, f.Appt.Start)
	e.wantKind(err, errs.KindNotFound, "NextAppointment after the last (start must be after)")
	_, err = e.Store.NextAppointment(e.Ctx, f.Practice.ID, nil, T0)
	e.wantKind(err, errs.KindNotFound, "NextAppointment of no patient")
	g := e.MustFixture("Other")
	_, err = e.Store.NextAppointment(e.Ctx, g.Practice.ID, []uuid.UUID{f.Patient.ID}, T0)
	e.wantKind(err, errs.KindNotFound, "NextAppointment in another practice")
}

func testPatientsByPhone(e *Env) {
	f := e.MustFixture("Clinic")
	g := e.MustFixture("Other") // its patient has the same phone
	twin := e.MustPatient(f, "Tess", f.Patient.Phone, "tess@example.com")
	e.MustPatient(f, "Olga", "+12025550199", "olga@example.com")
	got, err := e.Store.PatientsByPhone(e.Ctx, f.Practice.ID, f.Patient.Phone)
	e.ok(err, "PatientsByPhone")
	want := []uuid.UUID{f.Patient.ID, twin.ID} // UUIDv7: creation order is ID order
	e.eq(got, want, "PatientsByPhone")
	got, err = e.Store.PatientsByPhone(e.Ctx, g.Practice.ID, "+12025550100")
	e.ok(err, "PatientsByPhone")
	e.eq(got, []uuid.UUID{}, "PatientsByPhone of an unknown phone")
}

func testMarketingAudience(e *Env) {
	f := e.MustFixture("Clinic")
	g := e.MustFixture("Other")
	consent := func(fx *Fixture, p *scheduling.Patient, marketing, optOut bool) {
		e.T.Helper()
		pr := notify.DefaultPreferences(fx.Practice.ID, p.ID)
		pr.Marketing, pr.SMSOptOut, pr.UpdatedAt = marketing, optOut, T0
		e.ok(e.Store.PutPreferences(e.Ctx, pr, nil), "PutPreferences")
	}
	var both []*scheduling.Patient
	for i := range 5 {
		p := e.MustPatient(f, "Ann"+string(rune('A'+i)), "+1202555020"+string(rune('0'+i)), "ann@example.com")
		consent(f, p, true, false)
		both = append(both, p)
	}
	noPhone := e.MustPatient(f, "Nina", "", "nina@example.com")
	consent(f, noPhone, true, false)
	noEmail := e.MustPatient(f, "Ned", "+12025550300", "")
	consent(f, noEmail, true, false)
	stopped := e.MustPatient(f, "Sam", "+12025550301", "sam@example.com")
	consent(f, stopped, true, true)
	declined := e.MustPatient(f, "Dan", "+12025550302", "dan@example.com")
	consent(f, declined, false, false)
	consent(g, g.Patient, true, false)
	_ = e.MustPatient(f, "Una", "+12025550303", "una@example.com") // no preferences: no consent

	page := func(ch notify.Channel) []uuid.UUID {
		e.T.Helper()
		var out []uuid.UUID
		after := uuid.Nil
		for {
			got, err := e.Store.MarketingAudience(e.Ctx, f.Practice.ID, ch, after, 2)
			e.ok(err, "MarketingAudience")
			if len(got) == 0 {
				return out
			}
			for _, r := range got {
				out = append(out, r.PatientID)
			}
			after = got[len(got)-1].PatientID
		}
	}
	idsOf := func(ps ...*scheduling.Patient) []uuid.UUID {
		out := make([]uuid.UUID, len(ps))
		for i, p := range ps {
			out[i] = p.ID
		}
		return out
	}
	e.eq(page(notify.SMS), idsOf(append(both, noEmail)...), "SMS audience")
	e.eq(page(notify.Email), idsOf(append(append(both, noPhone), stopped)...), "email audience")
	got, err := e.Store.MarketingAudience(e.Ctx, f.Practice.ID, notify.SMS, uuid.Nil, 1)
	e.ok(err, "MarketingAudience")
	e.eq(got, []notify.Recipient{{PatientID: both[0].ID, GivenName: "AnnA", FamilyName: "Parker",
		Phone: "+12025550200", Email: "ann@example.com", Language: "en"}}, "first recipient")
}
