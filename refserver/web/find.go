package web

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/directory/zipcode"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// "Find a doctor": the directory's public pages, for anyone and for search
// engines. The root is the search form; /find the results, each provider
// with the next open time, a button that books it; /doctors/{provider} a
// provider's page with their locations and open times; /practices/{practice}
// a practice's page with its locations and providers. Only what practices
// publish is ever shown (the Engine reads the directory, which holds
// nothing else). The pages are the same for everyone (no session is read,
// no cookie set), so they answer as public (refserver.PublicAnswer): a
// cache may keep them a minute, the open times they show being checked
// again by booking.
//
// Booking from a search takes three page loads without JavaScript: the
// results, the confirmation of the time chosen there (the patient booking
// page of the practice, after signing in), and the visit booked.
//
// Every page carries microdata (schema.org): a Physician per provider
// (name, usNPI, medicalSpecialty, isAcceptingNewPatients,
// availableService, address, geo and a ReserveAction to book), a
// MedicalClinic per practice, and a BreadcrumbList; an absolute canonical
// URL under Options.PublicURL, and a title and description of bounded
// length.

// findAge is how long a shared cache may keep a directory page.
const findAge = time.Minute

// findRoutes are the directory's public pages.
func (s *pages) findRoutes() []refserver.Route {
	p := refserver.Public()
	return []refserver.Route{
		route("GET", "/find", s.find, "Find a doctor: the providers matching a concern or specialty near a place, with their next open time", p),
		route("GET", "/doctors/{provider}", s.showDoctor, "A listed provider's public page: their locations, open times and a button to book", p),
		route("GET", "/practices/{practice}", s.showClinic, "A published practice's public page: its locations and providers", p),
	}
}

// publicPage is what every public page shows besides its own content: its
// description, canonical URL, robots directive and breadcrumbs.
type publicPage struct {
	*view
	Description string
	Canonical   string
	// Robots is the meta robots directive: "index, follow", or "noindex,
	// follow" for the results (a search's pages are endless).
	Robots string
	Crumbs []crumb
	// Form is the search form, filled with what was searched.
	Search searchForm
	// Attribution is the NUCC's notice, shown where specialties are.
	Attribution string
}

// crumb is one breadcrumb: its name and absolute URL ("" for the page
// itself, the last).
type crumb struct {
	Name, URL string
	Pos       int
}

// publicView is the view of a public page: the language of the request
// and nothing of a session, so that the page is the same for everyone.
func (s *pages) publicView(r *http.Request, title string, args ...any) *view {
	v := &view{Lang: langOf(r), Requests: -1, path: r.URL.Path, Here: r.URL.RequestURI()}
	v.cat = catalogs[v.Lang]
	v.Title = v.T(title, args...)
	return v
}

// newPublicPage is the public page titled title, described by desc, at
// the canonical path canon, with the breadcrumbs after "Find a doctor"
// (name, path pairs; the last one's path is the page's own).
func (s *pages) newPublicPage(r *http.Request, v *view, desc, canon string, trail ...string) *publicPage {
	return s.newPublicPageWith(r, v, url.Values{}, desc, canon, trail...)
}

// newPublicPageWith is newPublicPage with its search form filled from the
// query q.
func (s *pages) newPublicPageWith(r *http.Request, v *view, q url.Values, desc, canon string, trail ...string) *publicPage {
	v.Title = fitText(v.Title, minTitle, maxTitle, v.T("find.title_pad"))
	p := &publicPage{view: v, Description: fitText(desc, minDesc, maxDesc, v.T("find.desc_pad")), Canonical: s.absolute(r, canon),
		Robots: "index, follow", Attribution: directory.Attribution}
	p.Crumbs = []crumb{{Name: v.T("find.crumb"), URL: s.absolute(r, "/")}}
	for i := 0; i+1 < len(trail); i += 2 {
		p.Crumbs = append(p.Crumbs, crumb{Name: trail[i], URL: s.absolute(r, trail[i+1])})
	}
	for i := range p.Crumbs {
		p.Crumbs[i].Pos = i + 1
	}
	p.Crumbs[len(p.Crumbs)-1].URL = ""
	p.Search = s.searchForm(v, q)
	return p
}

// The bounds of a page's title (with the layout's " · carebook") and
// description, in characters.
const (
	minTitle, maxTitle = 30 - len(" · carebook") + 1, 60 - len(" · carebook") + 1 // "·" is 2 bytes, 1 character
	minDesc, maxDesc   = 120, 160
)

// fitText bounds s to min..max characters: cut at the last space before
// max (with "…"), or lengthened with pad (" " and pad, itself cut) when
// short.
func fitText(s string, min, max int, pad string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) < min {
		s += " " + pad
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	rs := []rune(s)[:max-1]
	cut := string(rs)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:·-") + "…"
}

// The home page: the search form.

// homeFind is the root for a visitor: the search form, a public page.
func (s *pages) homeFind(w http.ResponseWriter, r *http.Request) error {
	v := s.publicView(r, "find.home.title")
	p := s.newPublicPage(r, v, v.T("find.home.desc"), "/")
	return refserver.RenderPublicPage(w, r, allPages, "find_home.html", &resultsPage{publicPage: p, Concerns: popularConcerns()}, findAge)
}

// popularConcerns are links to searches of a few common concerns.
func popularConcerns() []option {
	var out []option
	for _, c := range []string{"back pain", "annual physical", "rash", "anxiety", "sore throat", "high blood pressure"} {
		out = append(out, option{Value: "/find?" + url.Values{"q": {c}}.Encode(), Label: c})
	}
	return out
}

// The search form.

// searchForm is the search form's fields, filled from the query: the
// words and the ZIP code, the selects of the filters and the sort, and
// the point of "near me" (hidden fields a script fills).
type searchForm struct {
	Q, Zip       field
	Filters      []field
	Lat, Lon     string
	AcceptingNew bool
}

// setError puts msg beside the form's field name.
func (f *searchForm) setError(name, msg string) {
	for _, x := range append([]*field{&f.Q, &f.Zip}, ptrs(f.Filters)...) {
		if x.Name == name {
			x.Error = msg
			return
		}
	}
	f.Zip.Error = msg
}

// ptrs are pointers to the elements of fs.
func ptrs(fs []field) []*field {
	out := make([]*field, len(fs))
	for i := range fs {
		out[i] = &fs[i]
	}
	return out
}

// radii are the radiuses offered, in km; the default is 25.
var radii = []int{5, 10, 25, 50, 100}

// withinDays are the "available within" choices, in days.
var withinDays = []int{1, 3, 7, 14, 30}

// languages are the languages offered, by their own names.
var languages = []option{{Value: "en", Label: "English"}, {Value: "es", Label: "Español"}, {Value: "zh", Label: "中文"},
	{Value: "ru", Label: "Русский"}, {Value: "fr", Label: "Français"}, {Value: "ht", Label: "Kreyòl ayisyen"},
	{Value: "ko", Label: "한국어"}, {Value: "ar", Label: "العربية"}, {Value: "pt", Label: "Português"}, {Value: "vi", Label: "Tiếng Việt"}}

// visitKinds are the kinds of visit a search may ask for.
var visitKinds = []directory.VisitKind{directory.VisitNewPatient, directory.VisitProblem, directory.VisitPreventive, directory.VisitFollowUp}

// visitKindKeys are the catalog's keys of the kinds of visit.
var visitKindKeys = map[directory.VisitKind]string{directory.VisitNewPatient: "find.visit.new-patient",
	directory.VisitProblem: "find.visit.problem", directory.VisitPreventive: "find.visit.preventive", directory.VisitFollowUp: "find.visit.follow-up"}

// searchForm fills the form's fields and choices from q.
func (s *pages) searchForm(v *view, q url.Values) searchForm {
	f := searchForm{Lat: q.Get("lat"), Lon: q.Get("lon"), AcceptingNew: q.Get("new") == "1",
		Q:   field{Name: "q", Label: v.T("find.q"), Hint: v.T("find.q_hint"), Type: "search", Value: q.Get("q")},
		Zip: field{Name: "zip", Label: v.T("find.zip"), Type: "text", Value: q.Get("zip"), Autocomplete: "postal-code"}}
	sel := func(name, label, chosen string, opts []option) {
		for i := range opts {
			opts[i].Selected = opts[i].Value == chosen
		}
		f.Filters = append(f.Filters, field{Name: name, Label: v.T(label), Type: "select", Options: opts})
	}
	radius := q.Get("radius")
	if radius == "" {
		radius = "25"
	}
	var opts []option
	for _, km := range radii {
		opts = append(opts, option{Value: strconv.Itoa(km), Label: v.T("find.km", km)})
	}
	sel("radius", "find.radius", radius, opts)
	opts = []option{{Value: "", Label: v.T("find.any_specialty")}}
	for _, sp := range directory.Specialties() {
		opts = append(opts, option{Value: sp.Code, Label: sp.Name})
	}
	sel("specialty", "find.specialty", q.Get("specialty"), opts)
	sel("lang", "find.language", q.Get("lang"), append([]option{{Value: "", Label: v.T("find.any_language")}}, languages...))
	opts = []option{{Value: "", Label: v.T("find.any_visit")}}
	for _, k := range visitKinds {
		opts = append(opts, option{Value: string(k), Label: v.T(visitKindKeys[k])})
	}
	sel("visit", "find.visit", q.Get("visit"), opts)
	opts = []option{{Value: "", Label: v.T("find.any_time")}}
	for _, d := range withinDays {
		opts = append(opts, option{Value: strconv.Itoa(d), Label: v.T("find.within_days", d)})
	}
	sel("within", "find.within", q.Get("within"), opts)
	sel("sort", "find.sort", q.Get("sort"), []option{{Value: "distance", Label: v.T("find.sort.distance")}, {Value: "soonest", Label: v.T("find.sort.soonest")}})
	return f
}

// parseSearch reads a search from the query q, naming the field at fault.
func parseSearch(v *view, q url.Values) (directory.Query, error) {
	const op = "web.find"
	var dq directory.Query
	if len(q.Get("q")) > directory.MaxText {
		return dq, errs.Invalid(op, "q", v.T("find.bad_q"))
	}
	dq.ParseWords(q.Get("q"))
	if len(dq.Words) > directory.MaxWords {
		return dq, errs.Invalid(op, "q", v.T("find.bad_q"))
	}
	if sp := q.Get("specialty"); sp != "" {
		if _, ok := directory.LookupSpecialty(sp); !ok {
			return dq, errs.Invalid(op, "specialty", v.T("find.bad_specialty"))
		}
		dq.Specialties = []string{sp}
	}
	zip, lat, lon := strings.TrimSpace(q.Get("zip")), q.Get("lat"), q.Get("lon")
	switch {
	case zip != "":
		pt, ok := zipcode.Lookup(zip)
		if !ok {
			return dq, errs.Invalid(op, "zip", v.T("find.bad_zip"))
		}
		dq.Near = &pt
	case lat != "" || lon != "":
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(lon, 64)
		if err1 != nil || err2 != nil || math.Abs(la) > 90 || math.Abs(lo) > 180 || math.IsNaN(la) || math.IsNaN(lo) {
			return dq, errs.Invalid(op, "zip", v.T("find.bad_point"))
		}
		dq.Near = &directory.Point{Lat: la, Lon: lo}
	}
	if dq.Near != nil {
		dq.RadiusKm = 25
		if r := q.Get("radius"); r != "" {
			km, err := strconv.Atoi(r)
			if err != nil || !slices.Contains(radii, km) {
				return dq, errs.Invalid(op, "radius", v.T("find.bad_radius"))
			}
			dq.RadiusKm = float64(km)
		}
	}
	dq.AcceptingNew = q.Get("new") == "1"
	if l := q.Get("lang"); l != "" {
		if !slices.ContainsFunc(languages, func(o option) bool { return o.Value == l }) {
			return dq, errs.Invalid(op, "lang", v.T("find.bad_language"))
		}
		dq.Language = l
	}
	if k := q.Get("visit"); k != "" {
		if !slices.Contains(visitKinds, directory.VisitKind(k)) {
			return dq, errs.Invalid(op, "visit", v.T("find.bad_visit"))
		}
		dq.VisitKind = directory.VisitKind(k)
	}
	if d := q.Get("within"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || !slices.Contains(withinDays, n) {
			return dq, errs.Invalid(op, "within", v.T("find.bad_within"))
		}
		dq.WithinDays = n
	}
	switch q.Get("sort") {
	case "", "distance":
	case "soonest":
		dq.OrderBySoonest = true
	default:
		return dq, errs.Invalid(op, "sort", v.T("find.bad_sort"))
	}
	return dq, nil
}

// The results.

// resultsPage is the search form and what it found.
type resultsPage struct {
	*publicPage
	Searched bool
	// Filtered: a filter or an order was chosen (the filters show open).
	Filtered bool
	Hits     []doctorCard
	// Concerns are links to common searches (the home page).
	Concerns []option
}

// doctorCard is a provider as the pages show them, at one of their
// locations (the results) or at each (their page).
type doctorCard struct {
	Name, URL, NPI, Practice, PracticeURL string
	Specialties                           []string
	AcceptingNew                          bool
	Languages                             string
	Places                                []placeCard
	// BookURL is the absolute URL of booking with the provider, the
	// target of the ReserveAction.
	BookURL string
}

// placeCard is a location of a provider: its address and point, its
// visit types, the distance searched from, and its next open time (or
// its open times, on the provider's page) as links to book them.
type placeCard struct {
	Name                                string
	Address                             directory.Address
	Lat, Lon                            string
	Distance                            string
	Services                            []string
	Next                                *timeLink
	Days                                []timeDay
	NoTimes                             bool
	VisitTypes                          []option
	Zone                                string
	ProviderID, LocationID, VisitTypeID string
	PracticeID                          string
}

// timeLink is an open time, a link to the patient's booking page of it.
type timeLink struct {
	Label, Day, Time, Href string
}

// timeDay is one day's open times.
type timeDay struct {
	Label string
	Times []timeLink
}

func (s *pages) find(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	v := s.publicView(r, "find.results.title_any")
	dq, err := parseSearch(v, q)
	words := strings.Join(directory.Words(q.Get("q")), " ")
	place := strings.TrimSpace(q.Get("zip"))
	if place == "" && q.Get("lat") != "" {
		place = v.T("find.your_place")
	}
	switch {
	case words != "" && place != "":
		v.Title = v.T("find.results.title", words, place)
	case words != "":
		v.Title = v.T("find.results.title_words", words)
	case place != "":
		v.Title = v.T("find.results.title_place", place)
	}
	p := s.newPublicPageWith(r, v, q, v.T("find.results.desc", v.Title), "/find?"+canonicalQuery(q), v.Title, "/find")
	p.Robots = "noindex, follow"
	pg := &resultsPage{publicPage: p, Searched: true, Filtered: slices.ContainsFunc([]string{"specialty", "lang", "visit", "within", "new"},
		func(k string) bool { return q.Get(k) != "" }) || q.Get("sort") == "soonest" || (q.Get("radius") != "" && q.Get("radius") != "25")}
	if err != nil {
		if e, ok := errs.As(err); ok {
			p.Search.setError(e.Field, e.Msg)
		}
		v.Notice, v.Failed = v.T("form.fix"), true
		return s.render(w, http.StatusUnprocessableEntity, "find_results.html", pg)
	}
	hits, err := s.engine.SearchDirectory(r.Context(), dq)
	if err != nil {
		return err
	}
	zones := s.zoneCache(r.Context())
	for i := range hits {
		h := &hits[i]
		c := s.card(r, h.PracticeID, h.PracticeName, &h.Provider, dq.VisitKind)
		pc := s.place(r, v, h.PracticeID, &h.Provider, &h.Location, zones)
		if dq.Near != nil {
			pc.Distance = v.T("find.distance", h.DistanceKm)
		}
		c.Places = []placeCard{pc}
		pg.Hits = append(pg.Hits, c)
	}
	return refserver.RenderPublicPage(w, r, allPages, "find_results.html", pg, findAge)
}

// canonicalQuery is the search's query in a fixed order, without empty
// fields.
func canonicalQuery(q url.Values) string {
	out := url.Values{}
	for _, k := range []string{"q", "zip", "lat", "lon", "radius", "specialty", "new", "lang", "visit", "within", "sort"} {
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out.Encode()
}

// card is provider p of practice as the pages show them (no places yet).
func (s *pages) card(r *http.Request, practice tenant.PracticeID, practiceName string, p *directory.Provider, kind directory.VisitKind) doctorCard {
	c := doctorCard{Name: strings.TrimSpace(p.GivenName + " " + p.FamilyName), URL: s.absolute(r, "/doctors/"+p.ID.String()), NPI: p.NPI,
		Practice: practiceName, PracticeURL: s.absolute(r, "/practices/"+practice.String()), AcceptingNew: p.AcceptingNew}
	for _, code := range p.Specialties {
		if sp, ok := directory.LookupSpecialty(code); ok {
			c.Specialties = append(c.Specialties, sp.Name)
		}
	}
	var langs []string
	for _, l := range p.Languages {
		if i := slices.IndexFunc(languages, func(o option) bool { return o.Value == l }); i >= 0 {
			langs = append(langs, languages[i].Label)
		}
	}
	c.Languages = strings.Join(langs, ", ")
	c.BookURL = c.URL
	if len(p.Locations) > 0 {
		if vt := visitTypeFor(p.Locations[0].VisitTypes, kind); vt != nil {
			c.BookURL = s.absolute(r, bookPath(practice, p.ID, p.Locations[0].ID, vt.ID, nil))
		}
	}
	return c
}

// visitTypeFor is the visit type of vts of kind, else the first; nil if
// there is none.
func visitTypeFor(vts []directory.VisitType, kind directory.VisitKind) *directory.VisitType {
	for i := range vts {
		if vts[i].Kind == kind {
			return &vts[i]
		}
	}
	if len(vts) > 0 {
		return &vts[0]
	}
	return nil
}

// bookPath is the patient booking page of the practice: the open times of
// a visit type with the provider at the location, or, given a start, the
// confirmation of that time.
func bookPath(practice tenant.PracticeID, prov scheduling.ProviderID, loc tenant.LocationID, vt scheduling.VisitTypeID, start *time.Time) string {
	q := url.Values{"visit_type_id": {vt.String()}, "location_id": {loc.String()}, "provider_id": {prov.String()}}
	if start != nil {
		q.Set("slot", start.UTC().Format(time.RFC3339)+"@"+prov.String())
	}
	return practicePath(practice) + "/book?" + q.Encode()
}

// place is location l of provider p as the pages show it, with its next
// open time.
func (s *pages) place(r *http.Request, v *view, practice tenant.PracticeID, p *directory.Provider, l *directory.Location,
	zones func(tenant.PracticeID, tenant.LocationID) *time.Location) placeCard {
	pc := placeCard{Name: l.Name, Address: l.Address, Lat: strconv.FormatFloat(l.Geo.Lat, 'f', 5, 64), Lon: strconv.FormatFloat(l.Geo.Lon, 'f', 5, 64),
		ProviderID: p.ID.String(), LocationID: l.ID.String(), PracticeID: practice.String()}
	for _, vt := range l.VisitTypes {
		pc.Services = append(pc.Services, vt.Name)
	}
	if l.NextOpen != nil && zones != nil {
		// The next open time is of the visit type it was computed for,
		// so booking it books what the directory offered.
		z := zoneAt(practice, l, zones)
		t := l.NextOpen.In(z)
		pc.Next = &timeLink{Day: v.date(t), Time: t.Format("15:04"), Href: bookPath(practice, p.ID, l.ID, l.NextOpenVisitType, l.NextOpen)}
		pc.Next.Label = v.T("find.book_at", pc.Next.Day, pc.Next.Time)
		pc.Zone = zoneName(z)
	}
	return pc
}

// zoneAt is the time zone of practice's listed location l: the one its
// listing carries, else (a listing written before locations carried theirs,
// until its next refresh) the practice's location's, from zones.
func zoneAt(practice tenant.PracticeID, l *directory.Location, zones func(tenant.PracticeID, tenant.LocationID) *time.Location) *time.Location {
	if l.TimeZone != "" {
		return l.Zone()
	}
	return zones(practice, l.ID)
}

// zoneCache returns the time zone of a practice's location, reading each
// practice's locations once, on the first call for that practice.
func (s *pages) zoneCache(ctx context.Context) func(tenant.PracticeID, tenant.LocationID) *time.Location {
	byPractice := map[tenant.PracticeID][]*tenant.Location{}
	return func(practice tenant.PracticeID, id tenant.LocationID) *time.Location {
		locs, ok := byPractice[practice]
		if !ok {
			locs, _ = s.engine.Tenants.Locations(ctx, practice)
			byPractice[practice] = locs
		}
		for _, l := range locs {
			if l.ID == id {
				return zoneOf(l)
			}
		}
		return time.UTC
	}
}

// A provider's page.

// doctorPage is a provider's page: their card with every location and its
// open times.
type doctorPage struct {
	*publicPage
	Doctor doctorCard
}

// doctorDays are how many days of open times a provider's page shows.
const doctorDays = 7

func (s *pages) showDoctor(w http.ResponseWriter, r *http.Request) error {
	id, err := refserver.ParseID("provider", r.PathValue("provider"))
	if err != nil {
		return err
	}
	h, err := s.engine.DirectoryProvider(r.Context(), id)
	if err != nil {
		return err
	}
	p := &h.Provider
	kind := directory.VisitKind(r.URL.Query().Get("visit"))
	if kind.Valid() {
		// Asked for a kind, each location has that kind's next open time
		// (of the visit type whose times it shows first).
		for i := range p.Locations {
			p.Locations[i].UseKind(kind)
		}
	}
	c := s.card(r, h.PracticeID, h.PracticeName, p, kind)
	spec := ""
	if len(c.Specialties) > 0 {
		spec = c.Specialties[0]
	}
	v := s.publicView(r, "find.doctor.title", c.Name, spec, p.NPI)
	c = s.card(r, h.PracticeID, h.PracticeName, p, kind)
	city := ""
	if len(p.Locations) > 0 {
		city = p.Locations[0].Address.City
	}
	accepting := v.T("find.doctor.not_accepting")
	if p.AcceptingNew {
		accepting = v.T("find.doctor.accepting")
	}
	desc := v.T("find.doctor.desc", c.Name, spec, h.PracticeName, city, accepting)
	pg := &doctorPage{publicPage: s.newPublicPage(r, v, desc, "/doctors/"+p.ID.String(),
		h.PracticeName, "/practices/"+h.PracticeID.String(), c.Name, "/doctors/"+p.ID.String())}
	zones := s.zoneCache(r.Context())
	for i := range p.Locations {
		l := &p.Locations[i]
		pc := s.place(r, v, h.PracticeID, p, l, zones)
		s.doctorTimes(r, v, h.PracticeID, p, l, kind, &pc, zoneAt(h.PracticeID, l, zones))
		c.Places = append(c.Places, pc)
	}
	pg.Doctor = c
	return refserver.RenderPublicPage(w, r, allPages, "find_doctor.html", pg, findAge)
}

// doctorTimes puts on pc the open times of the next doctorDays days of the
// provider p at l, for the visit type the query's "visit_type" names at
// that location, else (asked for a visit kind) the one of the kind's next
// open time or the first of the kind, else its first; each a link to book
// it.
func (s *pages) doctorTimes(r *http.Request, v *view, practice tenant.PracticeID, p *directory.Provider, l *directory.Location,
	kind directory.VisitKind, pc *placeCard, z *time.Location) {
	if len(l.VisitTypes) == 0 {
		pc.NoTimes = true
		return
	}
	vt := *visitTypeFor(l.VisitTypes, kind)
	if i := slices.IndexFunc(l.VisitTypes, func(x directory.VisitType) bool { return x.ID == l.NextOpenVisitType }); kind.Valid() && i >= 0 {
		vt = l.VisitTypes[i]
	}
	if want := r.URL.Query().Get("visit_type"); want != "" {
		if i := slices.IndexFunc(l.VisitTypes, func(x directory.VisitType) bool { return x.ID.String() == want }); i >= 0 {
			vt = l.VisitTypes[i]
		}
	}
	for _, x := range l.VisitTypes {
		pc.VisitTypes = append(pc.VisitTypes, option{Value: x.ID.String(), Label: v.T("find.visit_type", x.Name, x.Minutes), Selected: x.ID == vt.ID})
	}
	pc.VisitTypeID = vt.ID.String()
	now := s.engine.Clock.Now().In(z)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, z)
	slots, err := s.engine.Scheduling.OpenSlots(r.Context(), practice, scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{p.ID},
		VisitTypeID: vt.ID, LocationID: &l.ID, From: from, To: from.AddDate(0, 0, doctorDays)})
	if err != nil {
		s.log.WarnContext(r.Context(), "a provider's open times do not read", "provider", p.ID, "error", err)
		pc.NoTimes = true
		return
	}
	pc.Zone = zoneName(z)
	for _, sl := range slots {
		t := sl.Start.In(z)
		day := v.date(t)
		if len(pc.Days) == 0 || pc.Days[len(pc.Days)-1].Label != day {
			pc.Days = append(pc.Days, timeDay{Label: day})
		}
		start := sl.Start
		tl := timeLink{Day: day, Time: t.Format("15:04"), Href: bookPath(practice, p.ID, l.ID, vt.ID, &start)}
		tl.Label = v.T("find.book_at", day, tl.Time)
		d := &pc.Days[len(pc.Days)-1]
		d.Times = append(d.Times, tl)
	}
	pc.NoTimes = len(pc.Days) == 0
}

// A practice's page.

// clinicPage is a practice's page: its locations and providers.
type clinicPage struct {
	*publicPage
	Name, URL string
	Places    []placeCard
	Doctors   []doctorCard
}

func (s *pages) showClinic(w http.ResponseWriter, r *http.Request) error {
	id, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	l, err := s.engine.DirectoryPractice(r.Context(), id)
	if err != nil {
		return err
	}
	seen := map[uuid.UUID]bool{}
	var places []directory.Location
	for _, p := range l.Providers {
		for _, loc := range p.Locations {
			if !seen[loc.ID] {
				seen[loc.ID] = true
				places = append(places, loc)
			}
		}
	}
	city := ""
	var cities []string
	for _, pl := range places {
		if !slices.Contains(cities, pl.Address.City) {
			cities = append(cities, pl.Address.City)
		}
	}
	if len(cities) > 0 {
		city = cities[0]
	}
	v := s.publicView(r, "find.clinic.title", l.PracticeName, city)
	desc := v.T("find.clinic.desc", l.PracticeName, strings.Join(cities, ", "), len(l.Providers), len(places))
	path := "/practices/" + id.String()
	pg := &clinicPage{publicPage: s.newPublicPage(r, v, desc, path, l.PracticeName, path), Name: l.PracticeName, URL: s.absolute(r, path)}
	for i := range places {
		pg.Places = append(pg.Places, s.place(r, v, id, &directory.Provider{}, &places[i], nil))
	}
	for i := range l.Providers {
		pg.Doctors = append(pg.Doctors, s.card(r, id, l.PracticeName, &l.Providers[i], ""))
	}
	return refserver.RenderPublicPage(w, r, allPages, "find_clinic.html", pg, findAge)
}

// directoryIndex is the engine's index of the directory's public pages,
// as the sitemaps read it.
func (s *pages) directoryIndex(ctx context.Context, after string, limit int) ([]indexEntry, error) {
	es, err := s.engine.DirectoryIndex(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]indexEntry, len(es))
	for i, e := range es {
		path := "/doctors/" + e.ID.String()
		if e.Kind == directory.IndexPractice {
			path = "/practices/" + e.ID.String()
		}
		out[i] = indexEntry{Path: path, Updated: e.Updated, Cursor: e.Cursor()}
	}
	return out, nil
}
