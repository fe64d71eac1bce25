package web

import (
	"cmp"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The front desk's pages: the calendar (a day or a week, by location,
// provider or resource), the queue of new requests, an appointment's page
// with its history and its actions (arrived, out, no-visit, cancel,
// reschedule or move), and booking on a patient's behalf. Each route has
// the access of the API route doing the same thing.

// deskRoutes are the desk pages.
func (s *pages) deskRoutes() []refserver.Route {
	const p = "/p/{practice}"
	return []refserver.Route{
		route("GET", p+"/calendar", s.showCalendar, "The front desk calendar: a day or a week, by location, provider or resource",
			refserver.Needs(rbac.CalendarRead).Audited("calendar.read", "appointment", "")),
		route("GET", p+"/requests", s.showRequests, "New requests waiting for confirmation, oldest first, each with confirm and decline",
			refserver.Needs(rbac.AppointmentRead).Audited("requests.read", "appointment", "")),
		route("GET", p+"/appointments/{appointment}", s.showAppointment, "An appointment at the front desk: its facts, its history and its actions",
			refserver.Needs(rbac.CalendarRead).Of(refserver.PatientOfAppointment).Audited("appointment.read", "appointment", "appointment")),
		route("POST", p+"/appointments/{appointment}/status", s.setStatus, "Confirm, decline or cancel an appointment, or record arrival, end or no-visit",
			refserver.StatusChange().Audited("appointment.status", "appointment", "appointment")),
		route("POST", p+"/appointments/{appointment}/reschedule", s.reschedule, "Move an appointment to another time or provider",
			refserver.Needs(rbac.AppointmentReschedule).Of(refserver.PatientOfAppointment).Audited("appointment.reschedule", "appointment", "appointment")),
		route("GET", p+"/desk/book", s.showDeskBook, "Book on a patient's behalf: find the patient, a visit type, a provider and an open time",
			refserver.Needs(rbac.PatientContactRead).Audited("patient.list", "patient", "")),
		route("POST", p+"/desk/patients", s.createDeskPatient, "Register a patient from the front desk, to book for them",
			refserver.Needs(rbac.PatientContactWrite).Audited("patient.create", "patient", "")),
		route("POST", p+"/desk/book", s.deskBook, "Book a visit on a patient's behalf",
			refserver.Needs(rbac.AppointmentBook).Of(refserver.PatientInBody).Audited("appointment.book", "appointment", "")),
	}
}

// practiceFacts are the names the desk pages show for IDs: providers,
// locations (with their time zones), visit types and resources.
type practiceFacts struct {
	providers  []*scheduling.Provider
	locations  []*tenant.Location
	visitTypes []*scheduling.VisitType
	resources  []*scheduling.Resource
	provName   map[uuid.UUID]string
	locName    map[uuid.UUID]string
	visitName  map[uuid.UUID]string
	resName    map[uuid.UUID]string
	zones      map[uuid.UUID]*time.Location
}

// deskPage starts a front desk page titled title: its view, the practice
// of its path and that practice's facts.
func (s *pages) deskPage(r *http.Request, title string) (*view, tenant.PracticeID, *practiceFacts, error) {
	v := s.newView(r, title)
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return v, pid, nil, err
	}
	f, err := s.facts(r.Context(), pid)
	return v, pid, f, err
}

// facts reads the practice's providers, locations, visit types and
// resources.
func (s *pages) facts(ctx context.Context, pid tenant.PracticeID) (*practiceFacts, error) {
	f := &practiceFacts{provName: map[uuid.UUID]string{}, locName: map[uuid.UUID]string{}, visitName: map[uuid.UUID]string{},
		resName: map[uuid.UUID]string{}, zones: map[uuid.UUID]*time.Location{}}
	var err error
	if f.providers, err = s.engine.Scheduling.Providers(ctx, pid, scheduling.ProviderFilter{Limit: 1000}); err != nil {
		return nil, err
	}
	if f.locations, err = s.engine.Tenants.Locations(ctx, pid); err != nil {
		return nil, err
	}
	if f.visitTypes, err = s.engine.Scheduling.VisitTypes(ctx, pid); err != nil {
		return nil, err
	}
	if f.resources, err = s.engine.Scheduling.Resources(ctx, pid, nil); err != nil {
		return nil, err
	}
	for _, p := range f.providers {
		f.provName[p.ID] = providerName(p)
	}
	for _, l := range f.locations {
		f.locName[l.ID] = l.Name
		z, err := time.LoadLocation(l.TimeZone)
		if err != nil {
			z = time.UTC
		}
		f.zones[l.ID] = z
	}
	for _, vt := range f.visitTypes {
		f.visitName[vt.ID] = vt.Name
	}
	for _, r := range f.resources {
		f.resName[r.ID] = r.Name
	}
	return f, nil
}

// zone is the time zone of location, else of the practice's first
// location, else UTC.
func (f *practiceFacts) zone(location *uuid.UUID) *time.Location {
	if location != nil {
		if z, ok := f.zones[*location]; ok {
			return z
		}
	}
	if len(f.locations) > 0 {
		return f.zones[f.locations[0].ID]
	}
	return time.UTC
}

// resourceNames are the names of ids, joined.
func (f *practiceFacts) resourceNames(ids []uuid.UUID) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		names = append(names, f.resName[id])
	}
	return strings.Join(names, ", ")
}

// providerName is how the pages name a provider.
func providerName(p *scheduling.Provider) string { return "Dr. " + p.GivenName + " " + p.FamilyName }

// patientName is a patient's full name.
func patientName(given, family string) string { return strings.TrimSpace(given + " " + family) }

// statusLabel is the text of status in v's language.
func (v *view) statusLabel(st scheduling.Status) string { return v.tf("desk.status.", string(st)) }

// tf is the catalog's string prefix+name, for keys made of a status, an
// action or a number (TestDeskStrings checks that each exists).
func (v *view) tf(prefix, name string) string { return v.T(prefix + name) }

// dayLabel is a local date as "Mon 4 Mar" in v's language.
func (v *view) dayLabel(t time.Time) string {
	return v.tf("desk.wd.", strconv.Itoa(int(t.Weekday()))) + " " + strconv.Itoa(t.Day()) + " " + v.tf("desk.mon.", strconv.Itoa(int(t.Month())))
}

// whenLabel is a local time as "Mon 4 Mar 2030, 09:00".
func (v *view) whenLabel(t time.Time) string {
	return v.dayLabel(t) + " " + strconv.Itoa(t.Year()) + ", " + t.Format("15:04")
}

// providerOptions are the practice's providers as choices, after first.
func (f *practiceFacts) providerOptions(first string, selected *uuid.UUID) []option {
	out := []option{}
	if first != "" {
		out = append(out, option{Value: "", Label: first, Selected: selected == nil})
	}
	for _, p := range f.providers {
		out = append(out, option{Value: p.ID.String(), Label: f.provName[p.ID], Selected: selected != nil && *selected == p.ID})
	}
	return out
}

func (f *practiceFacts) locationOptions(first string, selected *uuid.UUID) []option {
	out := []option{}
	if first != "" {
		out = append(out, option{Value: "", Label: first, Selected: selected == nil})
	}
	for _, l := range f.locations {
		out = append(out, option{Value: l.ID.String(), Label: l.Name, Selected: selected != nil && *selected == l.ID})
	}
	return out
}

func (f *practiceFacts) resourceOptions(first string, selected *uuid.UUID) []option {
	out := []option{{Value: "", Label: first, Selected: selected == nil}}
	for _, r := range f.resources {
		out = append(out, option{Value: r.ID.String(), Label: r.Name + " (" + f.locName[r.LocationID] + ")", Selected: selected != nil && *selected == r.ID})
	}
	return out
}

func (f *practiceFacts) visitTypeOptions(first string, selected *uuid.UUID) []option {
	out := []option{{Value: "", Label: first, Selected: selected == nil}}
	for _, vt := range f.visitTypes {
		out = append(out, option{Value: vt.ID.String(), Label: vt.Name, Selected: selected != nil && *selected == vt.ID})
	}
	return out
}

// optID reads the optional ID of field in q.
func optID(q url.Values, field string) (*uuid.UUID, error) {
	return refserver.OptID(field, q.Get(field))
}

// The calendar.

// calendarQuery is what the calendar shows: the view, its first local
// day, and its filters.
type calendarQuery struct {
	Week                         bool
	Day                          time.Time // local midnight of the day shown, or of the week's Monday
	Location, Provider, Resource *uuid.UUID
}

// calendarPage is the calendar.
type calendarPage struct {
	*view
	Base, Zone, DayValue, View string
	Week                       bool
	// Heading names the day or the week shown.
	Heading string
	// Prev, Next and Today are links to the neighbouring days or weeks;
	// DayLink and WeekLink switch the view.
	Prev, Next, Today, DayLink, WeekLink string
	Locations, Providers, Resources      []option
	Views                                []option
	Days                                 []string
	Rows                                 []calendarRow
	Count, NewRequests                   int
}

// calendarRow is one provider's appointments, a cell per day, each
// rendered to HTML (see writeCards).
type calendarRow struct {
	Provider string
	Cells    []template.HTML
	Count    int
}

func (s *pages) showCalendar(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v, pid, f, err := s.deskPage(r, "desk.calendar.title")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v.Form = q
	p := &calendarPage{view: v, Base: practicePath(pid)}
	cq, err := s.parseCalendarQuery(q, f)
	if err == nil && q.Get("day") == "" {
		// The form shows the day shown.
		v.Form = url.Values{}
		for k, vs := range q {
			v.Form[k] = vs
		}
		v.Form.Set("day", cq.Day.Format(time.DateOnly))
	}
	if err != nil {
		s.fillCalendar(p, f, calendarQuery{Day: today(s.engine.Clock.Now(), f.zone(nil))}, nil, nil)
		return s.invalid(w, r, v, "desk_calendar.html", p, err)
	}
	from, to := cq.span()
	entries, err := s.engine.Scheduling.Calendar(ctx, pid, scheduling.CalendarQuery{From: from, To: to,
		LocationID: cq.Location, ProviderID: cq.Provider, ResourceID: cq.Resource})
	if err != nil {
		return s.invalid(w, r, v, "desk_calendar.html", p, err)
	}
	pay, err := s.calendarPayments(r, v, pid, entries)
	if err != nil {
		return err
	}
	s.fillCalendar(p, f, cq, entries, pay)
	return s.render(w, http.StatusOK, "desk_calendar.html", p)
}

// calendarPayments reads the payments of the calendar's appointments in
// one read (the Engine's Payments, which logs it) and derives each
// appointment's standing; nothing for a caller who may not read payments.
func (s *pages) calendarPayments(r *http.Request, v *view, pid tenant.PracticeID, entries []scheduling.CalendarEntry) (map[uuid.UUID]billing.Standing, error) {
	if len(entries) == 0 || !s.holds(r, v.Practice, rbac.PaymentRead) {
		return nil, nil
	}
	ids := make([]uuid.UUID, len(entries))
	for i := range entries {
		ids[i] = entries[i].Appointment.ID
	}
	list, err := s.engine.Payments(r.Context(), pid, billing.PaymentFilter{Appointments: ids})
	if err != nil {
		return nil, err
	}
	return billing.Standings(list)
}

// today is local midnight of now in zone.
func today(now time.Time, zone *time.Location) time.Time {
	l := now.In(zone)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, zone)
}

// parseCalendarQuery reads the calendar's query: day (YYYY-MM-DD, today
// by default), view (day or week) and the location_id, provider_id and
// resource_id filters, each error naming its field.
func (s *pages) parseCalendarQuery(q url.Values, f *practiceFacts) (calendarQuery, error) {
	const op = "web.calendar"
	var cq calendarQuery
	var err error
	if cq.Location, err = optID(q, "location_id"); err != nil {
		return cq, err
	}
	if cq.Provider, err = optID(q, "provider_id"); err != nil {
		return cq, err
	}
	if cq.Resource, err = optID(q, "resource_id"); err != nil {
		return cq, err
	}
	zone := f.zone(cq.Location)
	cq.Day = today(s.engine.Clock.Now(), zone)
	if d := q.Get("day"); d != "" {
		t, err := time.ParseInLocation(time.DateOnly, d, zone)
		if err != nil {
			return cq, errs.Invalid(op, "day", "must be a date, YYYY-MM-DD")
		}
		cq.Day = t
	}
	switch q.Get("view") {
	case "", "day":
	case "week":
		cq.Week = true
		// Weeks start on Monday.
		back := (int(cq.Day.Weekday()) + 6) % 7
		cq.Day = time.Date(cq.Day.Year(), cq.Day.Month(), cq.Day.Day()-back, 0, 0, 0, 0, zone)
	default:
		return cq, errs.Invalid(op, "view", "must be day or week")
	}
	return cq, nil
}

// days is how many days cq shows.
func (cq calendarQuery) days() int {
	if cq.Week {
		return 7
	}
	return 1
}

// span is the time cq shows, from local midnight to local midnight.
func (cq calendarQuery) span() (time.Time, time.Time) {
	d := cq.Day
	return d, time.Date(d.Year(), d.Month(), d.Day()+cq.days(), 0, 0, 0, 0, d.Location())
}

// link is the calendar's path for cq.
func (cq calendarQuery) link(base string) string {
	q := url.Values{}
	q.Set("day", cq.Day.Format(time.DateOnly))
	if cq.Week {
		q.Set("view", "week")
	} else {
		q.Set("view", "day")
	}
	for k, id := range map[string]*uuid.UUID{"location_id": cq.Location, "provider_id": cq.Provider, "resource_id": cq.Resource} {
		if id != nil {
			q.Set(k, id.String())
		}
	}
	return base + "/calendar?" + q.Encode()
}

// fillCalendar puts cq's entries on p: a row per provider (those of the
// filter, and any other with an appointment shown), a cell per day, each
// appointment with its payment standing in pay (none when it is absent).
func (s *pages) fillCalendar(p *calendarPage, f *practiceFacts, cq calendarQuery, entries []scheduling.CalendarEntry, pay map[uuid.UUID]billing.Standing) {
	v := p.view
	zone := cq.Day.Location()
	p.Zone, p.Week, p.DayValue = zone.String(), cq.Week, cq.Day.Format(time.DateOnly)
	p.View = "day"
	if cq.Week {
		p.View = "week"
	}
	p.Locations = f.locationOptions(v.T("desk.all_locations"), cq.Location)
	p.Providers = f.providerOptions(v.T("desk.all_providers"), cq.Provider)
	p.Resources = f.resourceOptions(v.T("desk.all_resources"), cq.Resource)
	p.Views = []option{{Value: "day", Label: v.T("desk.view_day"), Selected: !cq.Week}, {Value: "week", Label: v.T("desk.view_week"), Selected: cq.Week}}
	n := cq.days()
	step := func(k int) calendarQuery {
		c := cq
		c.Day = time.Date(cq.Day.Year(), cq.Day.Month(), cq.Day.Day()+k*n, 0, 0, 0, 0, zone)
		return c
	}
	p.Prev, p.Next = step(-1).link(p.Base), step(1).link(p.Base)
	t := cq
	t.Day = today(s.engine.Clock.Now(), zone)
	p.Today = t.link(p.Base)
	dv, wv := cq, cq
	dv.Week, wv.Week = false, true
	p.DayLink, p.WeekLink = dv.link(p.Base), wv.link(p.Base)
	for i := range n {
		p.Days = append(p.Days, v.dayLabel(time.Date(cq.Day.Year(), cq.Day.Month(), cq.Day.Day()+i, 0, 0, 0, 0, zone)))
	}
	if cq.Week {
		p.Heading = v.T("desk.week_of", p.Days[0]+" "+strconv.Itoa(cq.Day.Year()))
	} else {
		p.Heading = p.Days[0] + " " + strconv.Itoa(cq.Day.Year())
	}
	// Rows: the providers the filter names, then any other in the entries.
	var rows []uuid.UUID
	index := map[uuid.UUID]int{}
	add := func(id uuid.UUID) {
		if _, ok := index[id]; !ok {
			index[id] = len(rows)
			rows = append(rows, id)
		}
	}
	for _, pr := range f.providers {
		switch {
		case cq.Provider != nil && *cq.Provider != pr.ID:
		case cq.Location != nil && !slices.Contains(pr.LocationIDs, *cq.Location):
		default:
			add(pr.ID)
		}
	}
	for _, e := range entries {
		add(e.Appointment.ProviderID)
	}
	cells := make([][][]*scheduling.CalendarEntry, len(rows))
	for i := range cells {
		cells[i] = make([][]*scheduling.CalendarEntry, n)
	}
	for i := range entries {
		e := &entries[i]
		local := e.Appointment.Start.In(zone)
		d := dayIndex(cq.Day, local)
		if d < 0 || d >= n {
			continue
		}
		row := index[e.Appointment.ProviderID]
		cells[row][d] = append(cells[row][d], e)
		p.Count++
		if e.NeedsConfirmation {
			p.NewRequests++
		}
	}
	cr := newCardRenderer(v, f, p.Base, zone, pay)
	// One buffer for the whole grid, each cell a slice of it.
	var b strings.Builder
	b.Grow(len(entries)*340 + len(pay)*48 + len(rows)*n*40)
	ends := make([]int, 0, len(rows)*n)
	for i := range rows {
		for _, es := range cells[i] {
			cr.writeCards(&b, es)
			ends = append(ends, b.Len())
		}
	}
	html, at := b.String(), 0
	p.Rows = make([]calendarRow, len(rows))
	for i, id := range rows {
		name := f.provName[id]
		if name == "" {
			name = id.String()
		}
		row := calendarRow{Provider: name, Cells: make([]template.HTML, n)}
		for d, es := range cells[i] {
			end := ends[i*n+d]
			row.Cells[d] = template.HTML(html[at:end])
			at = end
			row.Count += len(es)
		}
		p.Rows[i] = row
	}
}

// dayIndex is how many local days t is after first (a local midnight).
func dayIndex(first, t time.Time) int {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, first.Location())
	// Days are 23 to 25 hours long around DST changes: round.
	return int((day.Sub(first) + 12*time.Hour) / (24 * time.Hour))
}

// cardRenderer writes the calendar's appointment cards: the grid's hot
// part, written directly (every text escaped) rather than through
// html/template's thousands of actions for a week of 40 providers.
type cardRenderer struct {
	base, newPatient, empty string
	zone                    *time.Location
	f                       *practiceFacts
	status                  map[scheduling.Status]string
	// pay is each appointment's payment standing; payLabel its escaped
	// words.
	pay      map[uuid.UUID]billing.Standing
	payLabel map[billing.Standing]string
	// The escaped names, by ID, as met.
	patients, visits map[uuid.UUID]string
}

func newCardRenderer(v *view, f *practiceFacts, base string, zone *time.Location, pay map[uuid.UUID]billing.Standing) *cardRenderer {
	cr := &cardRenderer{base: escape(base), zone: zone, f: f, newPatient: escape(v.T("desk.new_patient")), empty: escape(v.T("desk.no_appointments")),
		status: map[scheduling.Status]string{}, patients: map[uuid.UUID]string{}, visits: map[uuid.UUID]string{},
		pay: pay, payLabel: map[billing.Standing]string{}}
	for _, st := range billing.AllStandings() {
		cr.payLabel[st] = escape(v.tf("desk.pay.", string(st)))
	}
	for _, st := range []scheduling.Status{scheduling.StatusNew, scheduling.StatusConfirmed, scheduling.StatusArrived,
		scheduling.StatusOut, scheduling.StatusCanceled, scheduling.StatusNoVisit} {
		cr.status[st] = escape(v.statusLabel(st))
	}
	return cr
}

// writeCards writes es as a list of links to their appointments' pages:
// time, patient, a new patient's badge, visit type, status (a label and
// its colour class), payment standing (in words) and resources; a new
// request is flagged.
func (cr *cardRenderer) writeCards(b *strings.Builder, es []*scheduling.CalendarEntry) {
	if len(es) == 0 {
		b.WriteString(`<p class="empty">`)
		b.WriteString(cr.empty)
		b.WriteString(`</p>`)
		return
	}
	var clock [36]byte
	b.WriteString(`<ul class="cards">`)
	for _, e := range es {
		a := e.Appointment
		st := escape(string(a.Status))
		b.WriteString(`<li><a class="appt appt-`)
		b.WriteString(st)
		if e.NeedsConfirmation {
			b.WriteString(` is-new`)
		}
		b.WriteString(`" href="`)
		b.WriteString(cr.base)
		b.WriteString(`/appointments/`)
		b.Write(uuidText(clock[:0], a.ID))
		b.WriteString(`"><span class="t">`)
		b.Write(hhmm(clock[:0], a.Start.In(cr.zone)))
		b.WriteString(`–`)
		b.Write(hhmm(clock[:0], a.End.In(cr.zone)))
		b.WriteString(`</span> <span class="who">`)
		name, ok := cr.patients[a.PatientID]
		if !ok {
			name = escape(patientName(e.Patient.GivenName, e.Patient.FamilyName))
			cr.patients[a.PatientID] = name
		}
		b.WriteString(name)
		b.WriteString(`</span>`)
		if a.PatientKind == scheduling.NewPatient {
			b.WriteString(` <span class="badge badge-new-patient">`)
			b.WriteString(cr.newPatient)
			b.WriteString(`</span>`)
		}
		b.WriteString(` <span class="what">`)
		visit, ok := cr.visits[a.VisitTypeID]
		if !ok {
			visit = escape(cr.f.visitName[a.VisitTypeID])
			cr.visits[a.VisitTypeID] = visit
		}
		b.WriteString(visit)
		b.WriteString(`</span> <span class="status status-`)
		b.WriteString(st)
		b.WriteString(`">`)
		if e.NeedsConfirmation {
			b.WriteString(`⚑ `)
		}
		b.WriteString(cr.status[a.Status])
		b.WriteString(`</span>`)
		if st, ok := cr.pay[a.ID]; ok {
			b.WriteString(` <span class="pay pay-`)
			b.WriteString(string(st))
			b.WriteString(`">`)
			b.WriteString(cr.payLabel[st])
			b.WriteString(`</span>`)
		}
		if len(a.ResourceIDs) > 0 {
			b.WriteString(` <span class="res">`)
			b.WriteString(escape(cr.f.resourceNames(a.ResourceIDs)))
			b.WriteString(`</span>`)
		}
		b.WriteString(`</a></li>`)
	}
	b.WriteString(`</ul>`)
}

// uuidText appends id's text form to dst, as id.String() without its
// allocation.
func uuidText(dst []byte, id uuid.UUID) []byte {
	const digits = "0123456789abcdef"
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, digits[c>>4], digits[c&0xf])
	}
	return dst
}

// hhmm appends t's "15:04" to dst.
func hhmm(dst []byte, t time.Time) []byte {
	h, m := t.Hour(), t.Minute()
	return append(dst, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10))
}

// escape is s escaped for HTML text and attribute values.
func escape(s string) string { return template.HTMLEscapeString(s) }

// The requests queue.

// requestsPage is the queue of new requests.
type requestsPage struct {
	*view
	Base     string
	Requests []requestRow
}

// requestRow is one new request.
type requestRow struct {
	ID, Href, Patient, When, Zone, Requested, VisitType, Provider, Location string
	NewPatient                                                              bool
	// Error is the message of a refused confirm or decline of this row.
	Error, Reason string
}

func (s *pages) showRequests(w http.ResponseWriter, r *http.Request) error {
	p, err := s.requestsPage(r)
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("done") {
	case "confirmed":
		p.view.Notice = p.T("desk.requests.confirmed")
	case "canceled":
		p.view.Notice = p.T("desk.requests.declined")
	}
	return s.render(w, http.StatusOK, "desk_requests.html", p)
}

// requestsPage reads the queue: the practice's new requests, oldest first.
func (s *pages) requestsPage(r *http.Request) (*requestsPage, error) {
	ctx := r.Context()
	v, pid, f, err := s.deskPage(r, "desk.requests.title")
	if err != nil {
		return nil, err
	}
	reqs, err := s.engine.Scheduling.Requests(ctx, pid, 100)
	if err != nil {
		return nil, err
	}
	p := &requestsPage{view: v, Base: practicePath(pid)}
	for _, e := range reqs {
		a := e.Appointment
		z := f.zone(&a.LocationID)
		p.Requests = append(p.Requests, requestRow{ID: a.ID.String(), Href: p.Base + "/appointments/" + a.ID.String(),
			Patient: patientName(e.Patient.GivenName, e.Patient.FamilyName), When: v.whenLabel(a.Start.In(z)), Zone: z.String(),
			Requested: v.whenLabel(a.CreatedAt.In(z)), VisitType: f.visitName[a.VisitTypeID], Provider: f.provName[a.ProviderID],
			Location: f.locName[a.LocationID], NewPatient: a.PatientKind == scheduling.NewPatient})
	}
	return p, nil
}

// The appointment's page.

// appointmentPage is one appointment at the front desk.
type appointmentPage struct {
	*view
	Base, ID, Href                                       string
	Patient, Phone, Email                                string
	When, Zone, Provider, Location, VisitType, Resources string
	Status, StatusLabel, BookedBy                        string
	NewPatient, CanCancel, CanReschedule                 bool
	Actions                                              []statusAction
	History                                              []historyRow
	Providers                                            []option
	Start                                                string
	CancelError                                          string
	// ChartHref is the patient's chart, for who may read it.
	ChartHref string
	// Pay is the appointment's payments, for who may read them.
	Pay paymentSection
}

// statusAction is a button that moves the appointment to Status.
type statusAction struct{ Status, Label string }

// historyRow is one change of the appointment.
type historyRow struct{ At, Action, From, To, By, Reason, Was string }

func (s *pages) showAppointment(w http.ResponseWriter, r *http.Request) error {
	p, err := s.appointmentPage(r)
	if err != nil {
		return err
	}
	if d := r.URL.Query().Get("done"); d != "" {
		if n := p.tf("desk.appt.done.", d); !strings.HasPrefix(n, "[") {
			p.view.Notice = n
		}
	}
	return s.render(w, http.StatusOK, "desk_appointment.html", p)
}

// appointmentPage reads the appointment of r's path, its patient and its
// history.
func (s *pages) appointmentPage(r *http.Request) (*appointmentPage, error) {
	ctx := r.Context()
	v := s.newView(r, "desk.appt.title")
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return nil, err
	}
	id, err := refserver.ParseID("appointment", r.PathValue("appointment"))
	if err != nil {
		return nil, err
	}
	a, err := s.engine.Scheduling.Appointment(ctx, pid, id)
	if err != nil {
		return nil, err
	}
	f, err := s.facts(ctx, pid)
	if err != nil {
		return nil, err
	}
	pt, err := s.engine.Scheduling.Patient(ctx, pid, a.PatientID)
	if err != nil {
		return nil, err
	}
	changes, err := s.engine.Scheduling.History(ctx, pid, id)
	if err != nil {
		return nil, err
	}
	z := f.zone(&a.LocationID)
	base := practicePath(pid)
	p := &appointmentPage{view: v, Base: base, ID: id.String(), Href: base + "/appointments/" + id.String(),
		Patient: patientName(pt.GivenName, pt.FamilyName), Phone: pt.Phone, Email: pt.Email,
		When: v.whenLabel(a.Start.In(z)) + "–" + a.End.In(z).Format("15:04"), Zone: z.String(),
		Provider: f.provName[a.ProviderID], Location: f.locName[a.LocationID], VisitType: f.visitName[a.VisitTypeID],
		Resources: f.resourceNames(a.ResourceIDs), Status: string(a.Status), StatusLabel: v.statusLabel(a.Status),
		NewPatient: a.PatientKind == scheduling.NewPatient, Providers: f.providerOptions("", &a.ProviderID),
		Start: a.Start.In(z).Format("2006-01-02T15:04")}
	p.Title = v.T("desk.appt.title_of", p.Patient)
	if s.canChart(r, v.Practice) {
		p.ChartHref = chartPath(pid, a.PatientID)
	}
	who := s.actorNames(ctx, pid, v)
	p.BookedBy = who(a.BookedBy)
	for _, to := range []scheduling.Status{scheduling.StatusConfirmed, scheduling.StatusArrived, scheduling.StatusOut, scheduling.StatusNoVisit} {
		if _, ok := scheduling.CanTransition(a.Status, to); ok {
			p.Actions = append(p.Actions, statusAction{Status: string(to), Label: v.tf("desk.appt.do.", string(to))})
		}
	}
	_, p.CanCancel = scheduling.CanTransition(a.Status, scheduling.StatusCanceled)
	p.CanReschedule = a.Status == scheduling.StatusNew || a.Status == scheduling.StatusConfirmed
	for _, c := range changes {
		h := historyRow{At: v.whenLabel(c.At.In(z)), Action: v.tf("desk.action.", c.Action), To: v.statusLabel(c.To), By: who(c.By), Reason: c.Reason}
		if strings.HasPrefix(h.Action, "[") {
			h.Action = c.Action
		}
		if c.From != "" {
			h.From = v.statusLabel(c.From)
		}
		if c.PrevStart != nil {
			h.Was = v.whenLabel(c.PrevStart.In(z))
		}
		p.History = append(p.History, h)
	}
	if p.Pay, err = s.payments(r, v, a, z); err != nil {
		return nil, err
	}
	return p, nil
}

// actorNames names the actors of a history ("kind:id"): a staff
// account's email, a patient's name, else the actor itself.
func (s *pages) actorNames(ctx context.Context, pid tenant.PracticeID, v *view) func(string) string {
	memo := map[string]string{}
	return func(by string) string {
		if n, ok := memo[by]; ok {
			return n
		}
		kind, id, _ := strings.Cut(by, ":")
		name := by
		if uid, err := uuid.Parse(id); err == nil {
			switch kind {
			case "staff":
				if a, err := s.engine.Identity.Account(ctx, uid); err == nil && a.Email != "" {
					name = a.Email
				}
			case "patient":
				if pt, err := s.engine.Scheduling.Patient(ctx, pid, uid); err == nil {
					name = v.T("desk.by_patient", patientName(pt.GivenName, pt.FamilyName))
				}
			}
		} else if kind == "staff" {
			name = v.T("desk.by_staff", id)
		}
		memo[by] = name
		return name
	}
}

// setStatus confirms, declines or cancels an appointment, or records its
// arrival, end or no-visit (form fields status and reason; from=requests
// comes back to the queue). A refusal shows the page again with its
// message.
func (s *pages) setStatus(w http.ResponseWriter, r *http.Request) error {
	const op = "web.setStatus"
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("appointment", r.PathValue("appointment"))
	if err != nil {
		return err
	}
	status := scheduling.Status(r.PostFormValue("status"))
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	fromQueue := r.PostFormValue("from") == "requests"
	v := s.newView(r, "desk.appt.title")
	switch {
	case status == "":
		err = errs.Invalid(op, "status", v.T("desk.status_required"))
	case status == scheduling.StatusCanceled && reason == "":
		err = errs.Invalid(op, "reason", v.T("desk.reason_required"))
	default:
		err = s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
			_, err := s.engine.Scheduling.Transition(ctx, pid, id, status, reason)
			return "", err
		})
	}
	if err == nil {
		if fromQueue {
			return see(w, r, practicePath(pid)+"/requests?done="+string(status))
		}
		return see(w, r, practicePath(pid)+"/appointments/"+id.String()+"?done="+url.QueryEscape(string(status)))
	}
	if !refused(err) {
		return err
	}
	msg := message(err)
	if fromQueue {
		p, perr := s.requestsPage(r)
		if perr != nil {
			return perr
		}
		for i := range p.Requests {
			if p.Requests[i].ID == id.String() && errs.FieldOf(err) == "reason" {
				p.Requests[i].Error, p.Requests[i].Reason = msg, reason
				msg = p.T("form.fix")
			}
		}
		return s.refuse(w, p.view, "desk_requests.html", p, err, msg)
	}
	p, perr := s.appointmentPage(r)
	if perr != nil {
		return perr
	}
	if errs.FieldOf(err) == "reason" {
		p.CancelError = msg
		msg = p.T("form.fix")
	}
	return s.refuse(w, p.view, "desk_appointment.html", p, err, msg)
}

// refused reports whether err is a refusal to show on the form's page
// (bad input, a rule of the domain), not a failure of ours nor a denial.
func refused(err error) bool {
	st := refserver.HTTPStatus(errs.KindOf(err))
	return st < 500 && st != http.StatusUnauthorized && st != http.StatusForbidden && st != http.StatusNotFound
}

// message is the words of err for a person.
func message(err error) string {
	var e *errs.Error
	if errors.As(err, &e) && e.Msg != "" {
		return e.Msg
	}
	return err.Error()
}

// refuse shows page name again with msg as its notice, and err's status
// (422 for bad input).
func (s *pages) refuse(w http.ResponseWriter, v *view, name string, data any, err error, msg string) error {
	v.Notice, v.Failed = msg, true
	status := refserver.HTTPStatus(errs.KindOf(err))
	if status == http.StatusBadRequest {
		status = http.StatusUnprocessableEntity
	}
	return s.render(w, status, name, data)
}

// reschedule moves an appointment to another time (form field start, the
// local time of the appointment's location, as datetime-local) and
// optionally another provider (provider_id), with a reason.
func (s *pages) reschedule(w http.ResponseWriter, r *http.Request) error {
	const op = "web.reschedule"
	ctx := r.Context()
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("appointment", r.PathValue("appointment"))
	if err != nil {
		return err
	}
	a, err := s.engine.Scheduling.Appointment(ctx, pid, id)
	if err != nil {
		return err
	}
	loc, err := s.engine.Tenants.Location(ctx, pid, a.LocationID)
	if err != nil {
		return err
	}
	zone, err := time.LoadLocation(loc.TimeZone)
	if err != nil {
		zone = time.UTC
	}
	in := scheduling.RescheduleRequest{Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	in.ProviderID, err = refserver.OptID("provider_id", r.PostFormValue("provider_id"))
	if err == nil {
		in.Start, err = parseLocal(op, "start", r.PostFormValue("start"), zone)
	}
	if err == nil {
		err = s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
			_, err := s.engine.Scheduling.Reschedule(ctx, pid, id, in)
			return "", err
		})
	}
	if err == nil {
		return see(w, r, practicePath(pid)+"/appointments/"+id.String()+"?done=rescheduled")
	}
	if !refused(err) {
		return err
	}
	p, perr := s.appointmentPage(r)
	if perr != nil {
		return perr
	}
	switch errs.FieldOf(err) {
	case "start", "provider_id", "reason":
		return s.invalid(w, r, p.view, "desk_appointment.html", p, err)
	}
	return s.refuse(w, p.view, "desk_appointment.html", p, err, message(err))
}

// parseLocal reads a datetime-local value ("2030-03-05T10:00") in zone.
func parseLocal(op, field, s string, zone *time.Location) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, errs.Invalid(op, field, "is required")
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), zone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errs.Invalid(op, field, "must be a date and time, such as 2030-03-05T10:00")
}

// Booking on a patient's behalf.

// deskBookPage is booking for a patient, in steps: find or create the
// patient, choose the visit type, location and provider, an open time,
// and confirm.
type deskBookPage struct {
	*view
	Base   string
	Search string
	// Searched: a search was made; Found are its patients.
	Searched bool
	Found    []foundPatient
	// Patient is the one chosen, with PatientID.
	Patient, PatientID, PatientContact string
	VisitTypes, Locations, Providers   []option
	Day                                string
	// Looked: the open times were asked for; Days are them.
	Looked bool
	Days   []slotDay
	// Chosen is the time picked, to confirm.
	Chosen *bookChoice
}

// foundPatient is a patient of a search; ChartHref, their chart's page,
// is set only for who may read it.
type foundPatient struct{ Name, Born, Contact, Href, ChartHref string }

// slotDay is one local day's open times.
type slotDay struct {
	Label string
	Slots []slotLink
}

// slotLink is an open time, linking to its confirmation.
type slotLink struct{ Label, Href string }

// bookChoice is the visit to book.
type bookChoice struct {
	When, Zone, Provider, Location, VisitType  string
	ProviderID, VisitTypeID, LocationID, Start string
}

func (s *pages) showDeskBook(w http.ResponseWriter, r *http.Request) error {
	p, err := s.deskBookPage(r, r.URL.Query())
	if err != nil {
		switch {
		case !refused(err) || p == nil:
			return err
		case errs.FieldOf(err) == "patient_id":
			// No input shows the patient: the message goes on top.
			return s.refuse(w, p.view, "desk_book.html", p, err, p.T("desk.book.no_patient"))
		}
		return s.invalid(w, r, p.view, "desk_book.html", p, err)
	}
	return s.render(w, http.StatusOK, "desk_book.html", p)
}

// deskBookPage builds the booking page for the step q has reached (the
// query of a GET, or the form of a failed POST). On bad input it returns
// the page so far with the error.
func (s *pages) deskBookPage(r *http.Request, q url.Values) (*deskBookPage, error) {
	ctx := r.Context()
	v := s.newView(r, "desk.book.title")
	v.Form = q
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return nil, err
	}
	base := practicePath(pid)
	p := &deskBookPage{view: v, Base: base, Search: strings.TrimSpace(q.Get("q"))}
	patientID, err := optID(q, "patient_id")
	if err != nil {
		return p, err
	}
	if patientID == nil {
		if p.Search != "" {
			p.Searched = true
			found, err := s.engine.Scheduling.Patients(ctx, pid, searchFilter(p.Search))
			if err != nil {
				return p, err
			}
			slices.SortStableFunc(found, func(a, b *scheduling.Patient) int {
				return cmp.Or(strings.Compare(strings.ToLower(a.FamilyName), strings.ToLower(b.FamilyName)),
					strings.Compare(strings.ToLower(a.GivenName), strings.ToLower(b.GivenName)))
			})
			clinical := s.canChart(r, v.Practice)
			for _, pt := range found {
				fp := foundPatient{Name: patientName(pt.GivenName, pt.FamilyName), Born: pt.BirthDate,
					Contact: strings.TrimSpace(pt.Phone + " " + pt.Email), Href: base + "/desk/book?patient_id=" + pt.ID.String()}
				if clinical {
					fp.ChartHref = chartPath(pid, pt.ID)
				}
				p.Found = append(p.Found, fp)
			}
		}
		return p, nil
	}
	pt, err := s.engine.Scheduling.Patient(ctx, pid, *patientID)
	if err != nil {
		return p, withField(err, "patient_id")
	}
	p.Patient, p.PatientID = patientName(pt.GivenName, pt.FamilyName), pt.ID.String()
	p.PatientContact = strings.TrimSpace(pt.BirthDate + " · " + strings.TrimSpace(pt.Phone+" "+pt.Email))
	f, err := s.facts(ctx, pid)
	if err != nil {
		return p, err
	}
	vt, err := optID(q, "visit_type_id")
	if err != nil {
		return p, err
	}
	loc, err := optID(q, "location_id")
	if err != nil {
		return p, err
	}
	prov, err := optID(q, "provider_id")
	if err != nil {
		return p, err
	}
	p.VisitTypes = f.visitTypeOptions(v.T("desk.book.choose_visit"), vt)
	p.Locations = f.locationOptions(v.T("desk.all_locations"), loc)
	p.Providers = f.providerOptions(v.T("desk.any_provider"), prov)
	zone := f.zone(loc)
	from := today(s.engine.Clock.Now(), zone)
	if d := q.Get("day"); d != "" {
		t, err := time.ParseInLocation(time.DateOnly, d, zone)
		if err != nil {
			return p, errs.Invalid("web.deskBook", "day", "must be a date, YYYY-MM-DD")
		}
		from = t
	}
	p.Day = from.Format(time.DateOnly)
	if vt == nil {
		return p, nil
	}
	if start := q.Get("start"); start != "" {
		t, err := refserver.ParseTime("start", start)
		if err != nil {
			return p, err
		}
		if prov == nil {
			return p, errs.Invalid("web.deskBook", "provider_id", v.T("desk.book.choose_provider"))
		}
		c := &bookChoice{Provider: f.provName[*prov], VisitType: f.visitName[*vt], ProviderID: prov.String(), VisitTypeID: vt.String(),
			Start: t.UTC().Format(time.RFC3339)}
		z := zone
		if loc != nil {
			c.LocationID, c.Location = loc.String(), f.locName[*loc]
		}
		c.When, c.Zone = v.whenLabel(t.In(z)), z.String()
		p.Chosen = c
		return p, nil
	}
	p.Looked = true
	sq := scheduling.SlotQuery{VisitTypeID: *vt, LocationID: loc, From: from, To: from.AddDate(0, 0, 7)}
	if prov != nil {
		sq.ProviderIDs = []uuid.UUID{*prov}
	}
	slots, err := s.engine.Scheduling.OpenSlots(ctx, pid, sq)
	if err != nil {
		return p, err
	}
	for _, sl := range slots {
		z := f.zone(&sl.LocationID)
		local := sl.Start.In(z)
		label := v.dayLabel(local)
		if len(p.Days) == 0 || p.Days[len(p.Days)-1].Label != label {
			p.Days = append(p.Days, slotDay{Label: label})
		}
		link := url.Values{"patient_id": {p.PatientID}, "visit_type_id": {vt.String()}, "provider_id": {sl.ProviderID.String()},
			"location_id": {sl.LocationID.String()}, "day": {p.Day}, "start": {sl.Start.UTC().Format(time.RFC3339)}}
		d := &p.Days[len(p.Days)-1]
		d.Slots = append(d.Slots, slotLink{Label: local.Format("15:04") + " · " + f.provName[sl.ProviderID], Href: base + "/desk/book?" + link.Encode()})
	}
	return p, nil
}

// searchFilter is the patient search of text: an email, a phone number or
// the start of a name, which a date of birth (YYYY-MM-DD) may follow.
func searchFilter(text string) scheduling.PatientFilter {
	f := scheduling.PatientFilter{Limit: 20}
	// A date of birth (YYYY-MM-DD) among the words narrows a name search.
	words := strings.Fields(text)
	for i, w := range words {
		if _, err := time.Parse(time.DateOnly, w); err == nil {
			if len(words) == 1 { // a name is needed with it: no phone number
				f.Name = w
				return f
			}
			f.BirthDate = w
			f.Name = strings.Join(slices.Delete(words, i, i+1), " ")
			return f
		}
	}
	switch digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if strings.ContainsRune("+ ()-.", r) {
			return -1
		}
		return 'x'
	}, text); {
	case strings.Contains(text, "@"):
		f.Email = strings.ToLower(text)
	case digits != "" && !strings.ContainsRune(digits, 'x'):
		f.Phone = "+" + digits
	default:
		f.Name = text
	}
	return f
}

// withField names field in a not-found err without one.
func withField(err error, field string) error {
	var e *errs.Error
	if errors.As(err, &e) && e.Field == "" && e.Kind == errs.KindNotFound {
		c := *e
		c.Field = field
		c.Kind = errs.KindInvalid
		c.Msg = "no such patient"
		return &c
	}
	return err
}

// createDeskPatient registers a patient (the API's POST /patients fields)
// and goes on to book for them.
func (s *pages) createDeskPatient(w http.ResponseWriter, r *http.Request) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	in := scheduling.PatientInput{GivenName: r.PostFormValue("given_name"), FamilyName: r.PostFormValue("family_name"),
		BirthDate: r.PostFormValue("birth_date"), Phone: r.PostFormValue("phone"), Email: r.PostFormValue("email"),
		Language: r.PostFormValue("language")}
	var pt *scheduling.Patient
	err = s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		if pt, err = s.engine.Scheduling.CreatePatient(ctx, pid, in); err != nil {
			return "", err
		}
		return pt.ID.String(), nil
	})
	if err == nil {
		return see(w, r, practicePath(pid)+"/desk/book?patient_id="+pt.ID.String())
	}
	if !refused(err) {
		return err
	}
	p, perr := s.deskBookPage(r, url.Values{})
	if perr != nil {
		return perr
	}
	return s.invalid(w, r, p.view, "desk_book.html", p, err)
}

// deskBook books the chosen visit (form fields patient_id, provider_id,
// visit_type_id, start and location_id, as the API's booking names them):
// a staff booking, confirmed at once.
func (s *pages) deskBook(w http.ResponseWriter, r *http.Request) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	var in scheduling.BookRequest
	in.PatientID, err = refserver.ParseID("patient_id", r.PostFormValue("patient_id"))
	if err == nil {
		in.ProviderID, err = refserver.ParseID("provider_id", r.PostFormValue("provider_id"))
	}
	if err == nil {
		in.VisitTypeID, err = refserver.ParseID("visit_type_id", r.PostFormValue("visit_type_id"))
	}
	if err == nil {
		in.LocationID, err = refserver.OptID("location_id", r.PostFormValue("location_id"))
	}
	if err == nil {
		if r.PostFormValue("start") == "" {
			err = errs.Invalid("web.deskBook", "start", "is required")
		} else {
			in.Start, err = refserver.ParseTime("start", r.PostFormValue("start"))
		}
	}
	var a *scheduling.Appointment
	if err == nil {
		err = s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
			var err error
			if a, err = s.engine.Scheduling.Book(ctx, pid, in); err != nil {
				return "", err
			}
			return a.ID.String(), nil
		})
	}
	if err == nil {
		return see(w, r, practicePath(pid)+"/appointments/"+a.ID.String()+"?done=booked")
	}
	if !refused(err) {
		return err
	}
	p, perr := s.deskBookPage(r, r.PostForm)
	if perr != nil {
		if refused(perr) && p != nil {
			return s.invalid(w, r, p.view, "desk_book.html", p, perr)
		}
		return perr
	}
	return s.refuse(w, p.view, "desk_book.html", p, err, message(err))
}
