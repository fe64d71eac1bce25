package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The patients' pages: signing up with a practice and verifying the
// email, booking a visit (visit type, location, provider, an open time,
// then a confirmation), their visits (moving or canceling one within the
// practice's rules) and their message preferences. A patient's own record
// is the one their self grant names (carebook.Engine.OwnPatient); staff
// accounts get 403 on these pages (they book at /desk/book).

// patientRoutes are the patient pages.
func (s *pages) patientRoutes() []refserver.Route {
	const p = "/p/{practice}"
	read := refserver.Needs(rbac.AppointmentRead).Of(refserver.PatientOfAppointment).Audited("appointment.read", "appointment", "appointment")
	return []refserver.Route{
		route("GET", p+"/register", s.showRegister, "Sign up as a patient of the practice", refserver.Public()),
		route("POST", p+"/register", s.register, "Create the patient account, its patient record and their link", refserver.Public()),
		route("GET", p+"/register/sent", s.registerSent, "After signing up: check your email, then sign in", refserver.Public()),
		route("GET", "/verify", s.showVerify, "The page of an email verification link: a button", refserver.Public()),
		route("POST", "/verify", s.verify, "Verify an email with its token", refserver.Public()),
		route("GET", p+"/verified", s.verified, "The email is verified: sign in", refserver.Public()),
		route("GET", p+"/book", s.showBook, "Book a visit: choose it, see open times, confirm one", refserver.Member()),
		route("POST", p+"/book", s.book, "Book the chosen visit for oneself",
			refserver.Needs(rbac.AppointmentBook).Of(refserver.PatientInBody).Audited("appointment.book", "appointment", "")),
		route("GET", p+"/visits", s.showVisits, "The patient's visits, upcoming and past", refserver.Member()),
		route("GET", p+"/visits/{appointment}", s.showVisit, "One of the patient's visits, and what can be done with it", read),
		route("GET", p+"/visits/{appointment}/reschedule", s.showReschedule, "Choose another open time for a visit", read),
		route("POST", p+"/visits/{appointment}/reschedule", s.moveVisit, "Move a visit to another time",
			refserver.Needs(rbac.AppointmentReschedule).Of(refserver.PatientOfAppointment).Audited("appointment.reschedule", "appointment", "appointment")),
		route("GET", p+"/visits/{appointment}/cancel", s.showCancel, "Ask before canceling a visit", read),
		route("POST", p+"/visits/{appointment}/cancel", s.cancel, "Cancel a visit, with a reason",
			refserver.Needs(rbac.AppointmentCancel).Of(refserver.PatientOfAppointment).Audited("appointment.status", "appointment", "appointment")),
		route("GET", p+"/preferences", s.showPreferences, "The patient's message preferences and marketing consent", refserver.Member()),
		route("POST", p+"/preferences", s.savePreferences, "Change the patient's message preferences",
			refserver.Needs(rbac.PatientContactWrite).Of(refserver.PatientInBody).Audited("preferences.update", "patient", "")),
	}
}

// Signing up.

// registerPage is the sign-up form and the pages after it.
type registerPage struct {
	*view
	Base string
	// Next is the page of the practice the visitor was on the way to (a
	// booking from the directory), where signing up leads them, signed in.
	Next string
}

// SignIn is the sign-in page leading on to Next (else the booking page).
func (p *registerPage) SignIn() string {
	next := p.Next
	if next == "" {
		next = p.Base + "/book"
	}
	return "/signin?" + url.Values{"next": {next}}.Encode()
}

// nextIn is next when it is a page of the practice at base, else "".
func nextIn(base, next string) string {
	if practiceOfPath(localPath(next)) != base {
		return ""
	}
	return next
}

// publicPractice is the view of a public page of the {practice} of r,
// which must exist.
func (s *pages) publicPractice(w http.ResponseWriter, r *http.Request, title string) (*view, error) {
	v := s.newView(r, title)
	id, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return nil, err
	}
	p, err := s.engine.Tenants.Practice(r.Context(), id)
	if err != nil {
		return nil, err
	}
	v.Practice = p
	if v.Who == "" {
		v.CSRF = preSessionCSRF(w, r)
	}
	return v, nil
}

func (s *pages) showRegister(w http.ResponseWriter, r *http.Request) error {
	v, err := s.publicPractice(w, r, "patient.register.title")
	if err != nil {
		return err
	}
	base := practicePath(v.Practice.ID)
	return s.render(w, http.StatusOK, "patient_register.html", &registerPage{view: v, Base: base, Next: nextIn(base, r.URL.Query().Get("next"))})
}

func (s *pages) register(w http.ResponseWriter, r *http.Request) error {
	const op = "web.register"
	v, err := s.publicPractice(w, r, "patient.register.title")
	if err != nil {
		return err
	}
	pg := &registerPage{view: v, Base: practicePath(v.Practice.ID)}
	pg.Next = nextIn(pg.Base, r.PostFormValue("next"))
	if err := checkFormCSRF(r); err != nil {
		return s.invalid(w, r, v, "patient_register.html", pg, err)
	}
	in := carebook.PatientSignUp{PracticeID: v.Practice.ID, Email: strings.TrimSpace(r.PostFormValue("email")), Password: r.PostFormValue("password"),
		GivenName: strings.TrimSpace(r.PostFormValue("given_name")), FamilyName: strings.TrimSpace(r.PostFormValue("family_name")),
		BirthDate: strings.TrimSpace(r.PostFormValue("birth_date")), Phone: strings.TrimSpace(r.PostFormValue("phone")), Language: v.Lang}
	for _, f := range []struct{ name, value string }{
		{"email", in.Email}, {"password", in.Password}, {"given_name", in.GivenName}, {"family_name", in.FamilyName}, {"birth_date", in.BirthDate},
	} {
		if f.value == "" {
			return s.invalid(w, r, v, "patient_register.html", pg, errs.Invalid(op, f.name, v.T("patient.register.required")))
		}
	}
	if err := s.srv.CheckAttempt(r, in.Email); err != nil {
		return s.invalid(w, r, v, "patient_register.html", pg, err)
	}
	acct, _, tok, err := s.engine.RegisterPatient(r.Context(), in)
	if err != nil {
		if errs.KindOf(err) == errs.KindConflict {
			err = errs.Invalid(op, "email", v.T("patient.register.taken"))
		}
		return s.invalid(w, r, v, "patient_register.html", pg, err)
	}
	m := refserver.TokenMessage{Kind: refserver.TokenEmailVerification, PracticeID: v.Practice.ID, To: acct.Email, Token: tok}
	if err := s.deliver(r.Context(), m); err != nil {
		return errs.Wrap(errs.KindInternal, op, "cannot send the verification", err)
	}
	if pg.Next == "" {
		return see(w, r, pg.Base+"/register/sent")
	}
	// On the way to a booking: signed in at once, and on to it (the email
	// link only confirms that messages reach them, as the sent page says).
	tok, sess, err := s.engine.Login(r.Context(), identity.LoginRequest{Identifier: in.Email, Password: in.Password, Device: "browser",
		IP: refserver.ClientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		s.log.WarnContext(r.Context(), "cannot sign in a patient who just signed up", "err", err)
		return see(w, r, pg.Base+"/register/sent?"+url.Values{"next": {pg.Next}}.Encode())
	}
	refserver.SetSessionCookies(w, r, tok, sess.ExpiresAt)
	return see(w, r, pg.Next)
}

// deliver hands a token to Options.DeliverToken, or logs it when there is
// none (development only: the log then holds a secret), as the API does.
func (s *pages) deliver(ctx context.Context, m refserver.TokenMessage) error {
	if s.opts.DeliverToken != nil {
		return s.opts.DeliverToken(ctx, m)
	}
	s.log.InfoContext(ctx, "token to deliver (set Options.DeliverToken to send it)", "kind", m.Kind, "to", m.To, "token", m.Token)
	return nil
}

func (s *pages) registerSent(w http.ResponseWriter, r *http.Request) error {
	v, err := s.publicPractice(w, r, "patient.sent.title")
	if err != nil {
		return err
	}
	base := practicePath(v.Practice.ID)
	return s.render(w, http.StatusOK, "patient_sent.html", &registerPage{view: v, Base: base, Next: nextIn(base, r.URL.Query().Get("next"))})
}

// verifyPage is the page of a verification link: a button, or a field for
// the token when the link came without one.
type verifyPage struct {
	*view
	Token string
}

func (s *pages) showVerify(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "patient.verify.title")
	if v.Who == "" {
		v.CSRF = preSessionCSRF(w, r)
	}
	return s.render(w, http.StatusOK, "patient_verify.html", &verifyPage{view: v, Token: r.URL.Query().Get("token")})
}

func (s *pages) verify(w http.ResponseWriter, r *http.Request) error {
	const op = "web.verify"
	v := s.newView(r, "patient.verify.title")
	pg := &verifyPage{view: v}
	if v.Who == "" {
		v.CSRF = preSessionCSRF(w, r)
	}
	if err := checkFormCSRF(r); err != nil {
		pg.Token = r.PostFormValue("token")
		return s.invalid(w, r, v, "patient_verify.html", pg, err)
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if tok == "" {
		return s.invalid(w, r, v, "patient_verify.html", pg, errs.Invalid(op, "token", v.T("patient.verify.required")))
	}
	a, err := s.engine.Identity.VerifyEmail(r.Context(), tok)
	if err == nil {
		return see(w, r, practicePath(a.PracticeID)+"/verified")
	}
	switch errs.KindOf(err) {
	case errs.KindNotFound:
		err = errs.Invalid(op, "token", v.T("patient.verify.unknown"))
	case errs.KindPreconditionFailed, errs.KindConflict:
		err = errs.Invalid(op, "token", v.T("patient.verify.used"))
	}
	return s.invalid(w, r, v, "patient_verify.html", pg, err)
}

func (s *pages) verified(w http.ResponseWriter, r *http.Request) error {
	v, err := s.publicPractice(w, r, "patient.verified.title")
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "patient_verified.html", &registerPage{view: v, Base: practicePath(v.Practice.ID)})
}

// Booking.

// patientCtx is a signed-in patient's page: the view, the practice and
// the patient's own record there.
type patientCtx struct {
	v        *view
	practice *tenant.Practice
	patient  scheduling.PatientID
	base     string
}

// patientView is the view titled title of a patient page of the
// {practice} of r, and the caller's own patient record there (403 for an
// account linked to none).
func (s *pages) patientView(r *http.Request, title string) (*patientCtx, error) {
	v := s.newView(r, title)
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return nil, err
	}
	if v.Practice == nil || v.Practice.ID != pid {
		if v.Practice, err = s.engine.Tenants.Practice(r.Context(), pid); err != nil {
			return nil, err
		}
	}
	me, err := s.engine.OwnPatient(r.Context(), pid)
	if err != nil {
		return nil, err
	}
	return &patientCtx{v: v, practice: v.Practice, patient: me, base: practicePath(pid)}, nil
}

// bookPage is the booking page: the choice of visit, the open times of
// two weeks, and (confirm.html) the chosen time.
type bookPage struct {
	*view
	Base, PatientID string
	// Requests: the practice confirms patients' bookings (a request).
	Requests                         bool
	VisitTypes, Locations, Providers []option
	// Searched: a visit was chosen, so Days are its open times.
	Searched bool
	Days     []openDay
	// Zone names the time zone of the times shown.
	Zone string
	// Week words the two weeks shown; Earlier and Later link to the ones
	// around them (Earlier is "" for the current ones).
	Week, Earlier, Later string
	// Hidden are the search's fields, carried by the slot buttons' form.
	Hidden []option
	// Confirm is the time chosen, for the confirmation page.
	Confirm *visitFacts
}

// openDay is one day's open times.
type openDay struct {
	Label string
	Slots []slotButton
}

// slotButton is one open time: the value of the button's "slot" field,
// its time, and its accessible label (the day and the provider).
type slotButton struct {
	Value, Time, Label, Provider string
}

// visitFacts are what a page says of a visit, in the location's time.
type visitFacts struct {
	ID, VisitType, Provider, Location, Address, Date, Time, Zone string
	Status, StatusLabel                                          string
	Start, LocationID, ProviderID, VisitTypeID                   string
	Upcoming, Closed                                             bool
	// Owed are the payments still owed on the visit ("my visits", the
	// visit's page).
	Owed []owedLine
}

// bookDays are how many days of open times the booking page shows.
const bookDays = 14

func (s *pages) showBook(w http.ResponseWriter, r *http.Request) error {
	pc, err := s.patientView(r, "patient.book.title")
	if err != nil {
		return err
	}
	ch, err := s.engine.PatientBookingChoices(r.Context(), pc.practice.ID, pc.patient)
	if err != nil {
		return err
	}
	_ = r.ParseForm()
	pg := s.newBookPage(pc, ch)
	q := r.Form
	if q.Get("visit_type_id") == "" && q.Get("slot") == "" {
		return s.render(w, http.StatusOK, "patient_book.html", pg)
	}
	pc.v.Form = q
	sq, loc, err := s.slotQuery(pc, ch, q)
	if err != nil {
		return s.invalid(w, r, pc.v, "patient_book.html", pg, err)
	}
	if q.Get("slot") != "" {
		start, prov, err := parseSlot(q.Get("slot"))
		if err != nil {
			return s.invalid(w, r, pc.v, "patient_book.html", pg, err)
		}
		i := slices.IndexFunc(ch.Providers, func(p *scheduling.Provider) bool { return p.ID == prov })
		if i < 0 {
			return s.invalid(w, r, pc.v, "patient_book.html", pg, errs.Invalid("web.book", "slot", pc.v.T("patient.book.bad_slot")))
		}
		pc.v.Title = pc.v.T("patient.confirm.title")
		pg.Confirm = s.describe(pc.v, &scheduling.Appointment{Start: start, ProviderID: prov, VisitTypeID: sq.VisitTypeID, LocationID: loc.ID},
			vtOf(ch.VisitTypes, sq.VisitTypeID), ch.Providers[i], loc)
		return s.render(w, http.StatusOK, "patient_confirm.html", pg)
	}
	slots, err := s.engine.PatientSlots(r.Context(), pc.practice.ID, ch, sq)
	if err != nil {
		return s.invalid(w, r, pc.v, "patient_book.html", pg, err)
	}
	s.fillSlots(pc.v, pg, ch.Providers, loc, sq, slots, q.Get("from"), func(from string) string {
		u := url.Values{"visit_type_id": {q.Get("visit_type_id")}, "location_id": {q.Get("location_id")}, "provider_id": {q.Get("provider_id")}, "from": {from}}
		return pc.base + "/book?" + u.Encode()
	})
	pg.Hidden = []option{{Value: q.Get("visit_type_id"), Label: "visit_type_id"}, {Value: q.Get("location_id"), Label: "location_id"},
		{Value: q.Get("provider_id"), Label: "provider_id"}, {Value: q.Get("from"), Label: "from"}}
	return s.render(w, http.StatusOK, "patient_book.html", pg)
}

// newBookPage is the booking page's choices for the patient of pc.
func (s *pages) newBookPage(pc *patientCtx, ch *carebook.BookingChoices) *bookPage {
	v := pc.v
	pg := &bookPage{view: v, Base: pc.base, PatientID: pc.patient.String(), Requests: !pc.practice.Policy.AutoConfirm}
	for i, vt := range ch.VisitTypes {
		pg.VisitTypes = append(pg.VisitTypes, option{Value: vt.ID.String(), Label: vt.Name + " (" + v.duration(vt.Duration) + ")", Selected: i == 0})
	}
	for i, l := range ch.Locations {
		pg.Locations = append(pg.Locations, option{Value: l.ID.String(), Label: l.Name, Selected: i == 0})
	}
	pg.Providers = []option{{Value: "", Label: v.T("patient.book.any_provider"), Selected: true}}
	for _, p := range ch.Providers {
		pg.Providers = append(pg.Providers, option{Value: p.ID.String(), Label: careName(p)})
	}
	return pg
}

// slotQuery reads the booking page's choice from q: the search of bookDays
// days from the date "from" (today when empty) at the chosen location, in
// its time.
func (s *pages) slotQuery(pc *patientCtx, ch *carebook.BookingChoices, q url.Values) (scheduling.SlotQuery, *tenant.Location, error) {
	const op = "web.book"
	var sq scheduling.SlotQuery
	vt, err := refserver.ParseID("visit_type_id", q.Get("visit_type_id"))
	if err != nil {
		return sq, nil, err
	}
	sq.VisitTypeID = vt
	lid, err := refserver.ParseID("location_id", q.Get("location_id"))
	if err != nil {
		return sq, nil, err
	}
	i := slices.IndexFunc(ch.Locations, func(l *tenant.Location) bool { return l.ID == lid })
	if i < 0 {
		return sq, nil, errs.Invalid(op, "location_id", pc.v.T("patient.book.bad_location"))
	}
	loc := ch.Locations[i]
	sq.LocationID = &loc.ID
	if p := q.Get("provider_id"); p != "" {
		id, err := refserver.ParseID("provider_id", p)
		if err != nil {
			return sq, nil, err
		}
		sq.ProviderIDs = []scheduling.ProviderID{id}
	}
	from, err := s.dayIn(pc, loc, q.Get("from"))
	if err != nil {
		return sq, nil, err
	}
	sq.From, sq.To = from, from.AddDate(0, 0, bookDays)
	return sq, loc, nil
}

// dayIn is the midnight at loc of the date day (YYYY-MM-DD), or of today
// when day is empty; a day before today is today.
func (s *pages) dayIn(pc *patientCtx, loc *tenant.Location, day string) (time.Time, error) {
	z := zoneOf(loc)
	now := s.engine.Clock.Now().In(z)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, z)
	if day == "" {
		return today, nil
	}
	d, err := time.ParseInLocation("2006-01-02", day, z)
	if err != nil {
		return time.Time{}, errs.Invalid("web.book", "from", pc.v.T("patient.book.bad_from"))
	}
	if d.Before(today) {
		return today, nil
	}
	return d, nil
}

// fillSlots puts slots, grouped by their day at loc, on pg, with the
// links to the weeks around sq's; link makes a link to the weeks from a
// date.
func (s *pages) fillSlots(v *view, pg *bookPage, provs []*scheduling.Provider, loc *tenant.Location, sq scheduling.SlotQuery,
	slots []scheduling.Slot, from string, link func(from string) string) {
	z := zoneOf(loc)
	pg.Searched = true
	pg.Zone = v.T("patient.zone", zoneName(z), sq.From.In(z).Format("MST"))
	last := sq.To.AddDate(0, 0, -1)
	pg.Week = v.T("patient.book.week", v.date(sq.From.In(z)), v.date(last.In(z)))
	pg.Later = link(sq.To.Format("2006-01-02"))
	now := s.engine.Clock.Now().In(z)
	if sq.From.After(now) {
		pg.Earlier = link(sq.From.AddDate(0, 0, -bookDays).Format("2006-01-02"))
	}
	byID := map[scheduling.ProviderID]*scheduling.Provider{}
	for _, p := range provs {
		byID[p.ID] = p
	}
	named := len(sq.ProviderIDs) != 1
	var day string
	var y, d int
	var m time.Month
	for _, sl := range slots {
		t := sl.Start.In(z)
		if ty, tm, td := t.Date(); len(pg.Days) == 0 || ty != y || tm != m || td != d {
			y, m, d, day = ty, tm, td, v.date(t)
			pg.Days = append(pg.Days, openDay{Label: day})
		}
		b := slotButton{Value: sl.Start.UTC().Format(time.RFC3339) + "@" + sl.ProviderID.String(), Time: t.Format("15:04")}
		name := ""
		if p := byID[sl.ProviderID]; p != nil {
			name = careName(p)
		}
		if named {
			b.Provider = name
		}
		b.Label = v.T("patient.book.slot_label", day, b.Time, name)
		last := &pg.Days[len(pg.Days)-1]
		last.Slots = append(last.Slots, b)
	}
}

// parseSlot reads a slot button's value: its start and provider.
func parseSlot(s string) (time.Time, scheduling.ProviderID, error) {
	const op = "web.book"
	at, prov, ok := strings.Cut(s, "@")
	if !ok {
		return time.Time{}, uuid.Nil, errs.Invalid(op, "slot", "is not an open time of this page")
	}
	start, err := refserver.ParseTime("slot", at)
	if err != nil {
		return time.Time{}, uuid.Nil, err
	}
	id, err := refserver.ParseID("slot", prov)
	return start, id, err
}

func (s *pages) book(w http.ResponseWriter, r *http.Request) error {
	pc, err := s.patientView(r, "patient.confirm.title")
	if err != nil {
		return err
	}
	if r.PostFormValue("patient_id") != pc.patient.String() {
		return errs.E(errs.KindForbidden, "web.book", "you may book only for yourself here")
	}
	ch, err := s.engine.PatientBookingChoices(r.Context(), pc.practice.ID, pc.patient)
	if err != nil {
		return err
	}
	pg := s.newBookPage(pc, ch)
	pc.v.Form = r.PostForm
	in := scheduling.BookRequest{PatientID: pc.patient}
	var loc *tenant.Location
	var prov *scheduling.Provider
	err = func() error {
		var err error
		if in.VisitTypeID, err = refserver.ParseID("visit_type_id", r.PostFormValue("visit_type_id")); err != nil {
			return err
		}
		if in.ProviderID, err = refserver.ParseID("provider_id", r.PostFormValue("provider_id")); err != nil {
			return err
		}
		if in.Start, err = refserver.ParseTime("start", r.PostFormValue("start")); err != nil {
			return err
		}
		lid, err := refserver.ParseID("location_id", r.PostFormValue("location_id"))
		if err != nil {
			return err
		}
		in.LocationID = &lid
		for _, l := range ch.Locations {
			if l.ID == lid {
				loc = l
			}
		}
		for _, p := range ch.Providers {
			if p.ID == in.ProviderID {
				prov = p
			}
		}
		if loc == nil || prov == nil {
			return errs.Invalid("web.book", "start", pc.v.T("patient.book.bad_slot"))
		}
		return nil
	}()
	if err != nil {
		return s.invalid(w, r, pc.v, "patient_book.html", pg, err)
	}
	pg.Confirm = s.describe(pc.v, &scheduling.Appointment{Start: in.Start, ProviderID: prov.ID, VisitTypeID: in.VisitTypeID, LocationID: loc.ID},
		vtOf(ch.VisitTypes, in.VisitTypeID), prov, loc)
	var a *scheduling.Appointment
	err = s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		if a, err = s.engine.Scheduling.Book(ctx, pc.practice.ID, in); err != nil {
			return "", err
		}
		return a.ID.String(), nil
	})
	if err != nil {
		return s.refused(w, r, pc.v, "patient_confirm.html", pg, err, false)
	}
	return see(w, r, pc.base+"/visits/"+a.ID.String()+"?booked=1")
}

// refused shows a page again after the practice's rules refused what was
// asked (the time is taken, too soon, past the cut-off), with the reason
// at the top and the error's status; an error that is no such refusal is
// returned to the renderer. closed is the visit's being inside the
// cancellation cut-off, which words a precondition's refusal.
func (s *pages) refused(w http.ResponseWriter, r *http.Request, v *view, name string, data any, err error, closed bool) error {
	k := errs.KindOf(err)
	e, ok := errs.As(err)
	if !ok || (k != errs.KindInvalid && k != errs.KindConflict && k != errs.KindPreconditionFailed) {
		return err
	}
	v.Failed, v.Notice = true, e.Msg
	switch {
	case k == errs.KindConflict && e.Field == "start":
		v.Notice = v.T("patient.book.taken")
	case k == errs.KindPreconditionFailed && closed && v.Practice != nil:
		v.Notice = v.closedWords(v.Practice.Policy.CancelCutoff)
	}
	status := refserver.HTTPStatus(k)
	if status == http.StatusBadRequest {
		status = http.StatusUnprocessableEntity
	}
	return s.render(w, status, name, data)
}

// My visits.

// visitsPage is the patient's visits.
type visitsPage struct {
	*view
	Base           string
	Upcoming, Past []*visitFacts
	// Closed words the cancellation cut-off, for visits inside it.
	Closed string
}

func (s *pages) showVisits(w http.ResponseWriter, r *http.Request) error {
	pc, err := s.patientView(r, "patient.visits.title")
	if err != nil {
		return err
	}
	vs, err := s.engine.PatientVisits(r.Context(), pc.practice.ID, pc.patient)
	if err != nil {
		return err
	}
	owed, err := s.owedByVisit(r, pc)
	if err != nil {
		return err
	}
	pg := &visitsPage{view: pc.v, Base: pc.base, Closed: pc.v.closedWords(vs.Policy.CancelCutoff)}
	for _, x := range vs.Upcoming {
		f := s.visitFacts(pc.v, x)
		f.Owed = owed[f.ID]
		pg.Upcoming = append(pg.Upcoming, f)
	}
	for _, x := range vs.Past {
		f := s.visitFacts(pc.v, x)
		f.Owed = owed[f.ID]
		pg.Past = append(pg.Past, f)
	}
	return s.render(w, http.StatusOK, "patient_visits.html", pg)
}

// visitPage is one visit, with what may be done with it, and the pages
// that move or cancel it.
type visitPage struct {
	*view
	Base   string
	Visit  *visitFacts
	Closed string
	// Result words what just happened (booked, moved, canceled), if
	// anything.
	Result string
	// Moving: the reschedule page's open times (on bookPage's fields).
	Book *bookPage
}

// visitOf reads the {appointment} of r (the route's guard has logged the
// read) as its patient, who must be the caller.
func (s *pages) visitOf(r *http.Request, title string) (*patientCtx, *carebook.PatientVisit, error) {
	pc, err := s.patientView(r, title)
	if err != nil {
		return nil, nil, err
	}
	id, err := refserver.ParseID("appointment", r.PathValue("appointment"))
	if err != nil {
		return nil, nil, err
	}
	a, err := s.engine.Scheduling.Appointment(r.Context(), pc.practice.ID, id)
	if err != nil {
		return nil, nil, err
	}
	if a.PatientID != pc.patient {
		return nil, nil, errs.E(errs.KindForbidden, "web.visit", "this is another patient's visit")
	}
	pv, _, err := s.engine.PatientVisit(r.Context(), pc.practice.ID, a)
	return pc, pv, err
}

func (s *pages) showVisit(w http.ResponseWriter, r *http.Request) error {
	pc, pv, err := s.visitOf(r, "patient.visit.title")
	if err != nil {
		return err
	}
	pg := &visitPage{view: pc.v, Base: pc.base, Visit: s.visitFacts(pc.v, *pv), Closed: pc.v.closedWords(pc.practice.Policy.CancelCutoff)}
	if pg.Visit.Owed, err = s.owedOnVisit(r, pc, pv.Appointment.ID); err != nil {
		return err
	}
	q := r.URL.Query()
	switch st := pv.Appointment.Status; {
	case q.Get("booked") == "1" && st == scheduling.StatusNew:
		pc.v.Title, pg.Result = pc.v.T("patient.visit.requested_title"), pc.v.T("patient.visit.requested")
	case q.Get("booked") == "1" && st == scheduling.StatusConfirmed:
		pc.v.Title, pg.Result = pc.v.T("patient.visit.confirmed_title"), pc.v.T("patient.visit.confirmed")
	case q.Get("moved") == "1":
		pg.Result = pc.v.T("patient.visit.moved")
		if st == scheduling.StatusNew {
			pg.Result += " " + pc.v.T("patient.visit.still_request")
		}
	case q.Get("canceled") == "1" && st == scheduling.StatusCanceled:
		pc.v.Title, pg.Result = pc.v.T("patient.visit.canceled_title"), pc.v.T("patient.visit.canceled")
	}
	return s.render(w, http.StatusOK, "patient_visit.html", pg)
}

func (s *pages) showReschedule(w http.ResponseWriter, r *http.Request) error {
	pc, pv, err := s.visitOf(r, "patient.move.title")
	if err != nil {
		return err
	}
	pg := &visitPage{view: pc.v, Base: pc.base, Visit: s.visitFacts(pc.v, *pv), Closed: pc.v.closedWords(pc.practice.Policy.CancelCutoff)}
	if !pv.Upcoming || pv.ChangeClosed {
		return s.render(w, http.StatusOK, "patient_move.html", pg)
	}
	q := r.URL.Query()
	pc.v.Form = q
	if sl := q.Get("slot"); sl != "" {
		start, prov, err := parseSlot(sl)
		if err == nil && prov != pv.Appointment.ProviderID {
			err = errs.Invalid("web.reschedule", "slot", pc.v.T("patient.book.bad_slot"))
		}
		if err != nil {
			return s.invalid(w, r, pc.v, "patient_move.html", pg, err)
		}
		moved := *pv.Appointment
		moved.Start = start
		pg.Book = &bookPage{view: pc.v, Confirm: s.describe(pc.v, &moved, pv.VisitType, pv.Provider, pv.Location)}
		return s.render(w, http.StatusOK, "patient_move.html", pg)
	}
	from, err := s.dayIn(pc, pv.Location, q.Get("from"))
	if err != nil {
		return s.invalid(w, r, pc.v, "patient_move.html", pg, err)
	}
	a := pv.Appointment
	sq := scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{a.ProviderID}, VisitTypeID: a.VisitTypeID, LocationID: &a.LocationID,
		From: from, To: from.AddDate(0, 0, bookDays)}
	slots, err := s.engine.Scheduling.OpenSlots(r.Context(), pc.practice.ID, sq)
	if err != nil {
		return s.invalid(w, r, pc.v, "patient_move.html", pg, err)
	}
	here := pc.base + "/visits/" + a.ID.String() + "/reschedule"
	pg.Book = &bookPage{view: pc.v}
	s.fillSlots(pc.v, pg.Book, []*scheduling.Provider{pv.Provider}, pv.Location, sq, slots, q.Get("from"), func(from string) string {
		return here + "?" + url.Values{"from": {from}}.Encode()
	})
	return s.render(w, http.StatusOK, "patient_move.html", pg)
}

func (s *pages) moveVisit(w http.ResponseWriter, r *http.Request) error {
	pc, pv, err := s.visitOf(r, "patient.move.title")
	if err != nil {
		return err
	}
	pg := &visitPage{view: pc.v, Base: pc.base, Visit: s.visitFacts(pc.v, *pv), Closed: pc.v.closedWords(pc.practice.Policy.CancelCutoff)}
	start, err := refserver.ParseTime("start", r.PostFormValue("start"))
	if err != nil {
		// The time comes from a button of the page: no field to mark.
		return s.refused(w, r, pc.v, "patient_move.html", pg, err, false)
	}
	moved := *pv.Appointment
	moved.Start = start
	pg.Book = &bookPage{view: pc.v, Confirm: s.describe(pc.v, &moved, pv.VisitType, pv.Provider, pv.Location)}
	a := pv.Appointment
	err = s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
		_, err := s.engine.Scheduling.Reschedule(ctx, pc.practice.ID, a.ID, scheduling.RescheduleRequest{Start: start, LocationID: &a.LocationID})
		return "", err
	})
	if err != nil {
		return s.refused(w, r, pc.v, "patient_move.html", pg, err, pv.ChangeClosed)
	}
	return see(w, r, pc.base+"/visits/"+a.ID.String()+"?moved=1")
}

func (s *pages) showCancel(w http.ResponseWriter, r *http.Request) error {
	pc, pv, err := s.visitOf(r, "patient.cancel.title")
	if err != nil {
		return err
	}
	pg := &visitPage{view: pc.v, Base: pc.base, Visit: s.visitFacts(pc.v, *pv), Closed: pc.v.closedWords(pc.practice.Policy.CancelCutoff)}
	return s.render(w, http.StatusOK, "patient_cancel.html", pg)
}

func (s *pages) cancel(w http.ResponseWriter, r *http.Request) error {
	pc, pv, err := s.visitOf(r, "patient.cancel.title")
	if err != nil {
		return err
	}
	pg := &visitPage{view: pc.v, Base: pc.base, Visit: s.visitFacts(pc.v, *pv), Closed: pc.v.closedWords(pc.practice.Policy.CancelCutoff)}
	pc.v.Form = r.PostForm
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	err = s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
		_, err := s.engine.Scheduling.Transition(ctx, pc.practice.ID, pv.Appointment.ID, scheduling.StatusCanceled, reason)
		return "", err
	})
	if err != nil {
		if errs.FieldOf(err) == "reason" {
			return s.invalid(w, r, pc.v, "patient_cancel.html", pg, err)
		}
		return s.refused(w, r, pc.v, "patient_cancel.html", pg, err, pv.ChangeClosed)
	}
	return see(w, r, pc.base+"/visits/"+pv.Appointment.ID.String()+"?canceled=1")
}

// visitFacts words pv for its patient.
func (s *pages) visitFacts(v *view, pv carebook.PatientVisit) *visitFacts {
	f := s.describe(v, pv.Appointment, pv.VisitType, pv.Provider, pv.Location)
	f.Upcoming, f.Closed = pv.Upcoming, pv.ChangeClosed
	return f
}

// describe words appointment a (booked or to book) with its visit type,
// provider and location, any of which may be nil.
func (s *pages) describe(v *view, a *scheduling.Appointment, vt *scheduling.VisitType, prov *scheduling.Provider, loc *tenant.Location) *visitFacts {
	z := zoneOf(loc)
	t := a.Start.In(z)
	f := &visitFacts{ID: a.ID.String(), Date: v.date(t), Time: t.Format("15:04"), Zone: v.T("patient.zone", zoneName(z), t.Format("MST")),
		Status: string(a.Status), Start: a.Start.UTC().Format(time.RFC3339),
		LocationID: a.LocationID.String(), ProviderID: a.ProviderID.String(), VisitTypeID: a.VisitTypeID.String()}
	if a.Status != "" {
		f.StatusLabel = v.T(patientStatusKeys + string(a.Status))
	}
	if vt != nil {
		f.VisitType = vt.Name + " (" + v.duration(vt.Duration) + ")"
	}
	if prov != nil {
		f.Provider = careName(prov)
	}
	if loc != nil {
		f.Location = loc.Name
		ad := loc.Address
		f.Address = strings.Join(slices.DeleteFunc([]string{ad.Line1, ad.Line2, ad.City + " " + ad.Region + " " + ad.PostalCode},
			func(s string) bool { return strings.TrimSpace(s) == "" }), ", ")
	}
	return f
}

// Preferences.

// preferencesPage is the patient's message preferences and consent
// history.
type preferencesPage struct {
	*view
	Base, PatientID string
	Prefs           notify.Preferences
	History         []consentRow
	// Saved: the preferences were just saved.
	Saved bool
}

// consentRow is one change of a consent, worded.
type consentRow struct {
	Field, Value, When string
}

func (s *pages) showPreferences(w http.ResponseWriter, r *http.Request) error {
	pc, err := s.patientView(r, "patient.prefs.title")
	if err != nil {
		return err
	}
	pg, err := s.preferences(r.Context(), pc)
	if err != nil {
		return err
	}
	pg.Saved = r.URL.Query().Get("saved") == "1"
	return s.render(w, http.StatusOK, "patient_prefs.html", pg)
}

// preferences reads the preferences page of the patient of pc through the
// guard ("preferences.read", as the API's read of them).
func (s *pages) preferences(ctx context.Context, pc *patientCtx) (*preferencesPage, error) {
	pg := &preferencesPage{view: pc.v, Base: pc.base, PatientID: pc.patient.String()}
	id, practice := pc.patient, pc.practice.ID
	var hist []*notify.ConsentChange
	err := s.engine.Guard(ctx, carebook.Access{Permission: rbac.PatientContactRead, PracticeID: practice, PatientID: &id,
		Action: "preferences.read", ResourceType: "patient", ResourceID: id.String()}, func(ctx context.Context) (string, error) {
		var err error
		if pg.Prefs, err = s.engine.Notify.Preferences(ctx, practice, id); err != nil {
			return "", err
		}
		hist, err = s.engine.Notify.ConsentHistory(ctx, practice, id)
		return id.String(), err
	})
	if err != nil {
		return nil, err
	}
	for i := len(hist) - 1; i >= 0; i-- {
		c := hist[i]
		val := c.Value
		if val == "true" || val == "false" {
			val = pc.v.T(patientConsentValues + val)
		}
		field := c.Field
		if _, ok := pc.v.cat[patientConsentFields+field]; ok {
			field = pc.v.T(patientConsentFields + field)
		}
		pg.History = append(pg.History, consentRow{Field: field, Value: val,
			When: pc.v.date(c.At.In(time.UTC)) + " " + c.At.UTC().Format("15:04") + " UTC"})
	}
	return pg, nil
}

func (s *pages) savePreferences(w http.ResponseWriter, r *http.Request) error {
	pc, err := s.patientView(r, "patient.prefs.title")
	if err != nil {
		return err
	}
	if r.PostFormValue("patient_id") != pc.patient.String() {
		return errs.E(errs.KindForbidden, "web.preferences", "you may change only your own preferences here")
	}
	on := func(name string) *bool { b := r.PostFormValue(name) == "on"; return &b }
	u := notify.PreferencesUpdate{SMS: on("sms"), Email: on("email"), Marketing: on("marketing")}
	err = s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
		_, err := s.engine.Notify.UpdatePreferences(ctx, pc.practice.ID, pc.patient, u)
		return pc.patient.String(), err
	})
	if err != nil {
		return err
	}
	return see(w, r, pc.base+"/preferences?saved=1")
}

// Words.

// The prefixes of catalog keys completed at run time: a status's label,
// a consent's field and value, one unit of time.
const (
	patientStatusKeys    = "patient.status."
	patientConsentFields = "patient.prefs.field."
	patientConsentValues = "patient.prefs.value."
	patientOneUnit       = "patient.one_"
)

// careName is how a patient page names a provider.
func careName(p *scheduling.Provider) string { return p.GivenName + " " + p.FamilyName }

// vtOf is the visit type id among vts, or nil.
func vtOf(vts []*scheduling.VisitType, id scheduling.VisitTypeID) *scheduling.VisitType {
	for _, vt := range vts {
		if vt.ID == id {
			return vt
		}
	}
	return nil
}

// zoneOf is the time zone of loc (UTC when nil or unknown).
func zoneOf(loc *tenant.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	z, err := time.LoadLocation(loc.TimeZone)
	if err != nil {
		return time.UTC
	}
	return z
}

// zoneName names a time zone for people: the city of its IANA name
// ("New York" for America/New_York).
func zoneName(z *time.Location) string {
	n := z.String()
	if i := strings.LastIndexByte(n, '/'); i >= 0 {
		n = n[i+1:]
	}
	return strings.ReplaceAll(n, "_", " ")
}

// date words the day of t in the page's language: "Tuesday 5 March 2030".
func (v *view) date(t time.Time) string {
	return v.T("patient.date", v.T(fmt.Sprintf("patient.weekday.%d", t.Weekday())), t.Day(), v.T(fmt.Sprintf("patient.month.%d", t.Month())), t.Year())
}

// duration words d in the page's language, in days, hours or minutes.
func (v *view) duration(d time.Duration) string {
	n, unit := int64(d/time.Minute), "minute"
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		n, unit = int64(d/(24*time.Hour)), "day"
	case d >= time.Hour && d%time.Hour == 0:
		n, unit = int64(d/time.Hour), "hour"
	}
	if n == 1 {
		return v.T(patientOneUnit + unit)
	}
	return v.T("patient."+unit+"s", n)
}

// closedWords explains that online changes close cutoff before a visit.
func (v *view) closedWords(cutoff time.Duration) string {
	return v.T("patient.closed", v.duration(cutoff))
}
