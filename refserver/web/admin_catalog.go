package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
)

// The practice's locations, providers, resources and visit types: each a
// list with a form that adds one (the domain has no change of them yet).

// catalogPage is a list with its form. Flow is "start" when the page is a
// step of the first steps (the form then goes back to them).
type catalogPage struct {
	*view
	Flow string
	// Head and Rows are the list, as text.
	Head []string
	Rows [][]string
	// Locations and Resources are the choices of the form's checkboxes and
	// selects (Selected: ticked).
	Locations, Resources []option
	Zones                []option
	Kinds, Audiences     []option
}

// flowOf is the flow r's page is part of: "start" or "".
func flowOf(r *http.Request) string {
	f := r.FormValue("flow")
	if f == "start" {
		return f
	}
	return ""
}

// afterAdd is where a form that added something sends its visitor: back
// to the first steps, or to the list with its notice.
func afterAdd(w http.ResponseWriter, r *http.Request, p *tenant.Practice, list string) error {
	if flowOf(r) == "start" {
		return see(w, r, practicePath(p.ID)+"/setup/start")
	}
	return see(w, r, practicePath(p.ID)+"/setup/"+list+"?added=1")
}

// addedNotice shows the notice of a list a form has just added to.
func addedNotice(r *http.Request, v *view) {
	if r.URL.Query().Get("added") == "1" {
		v.Notice = v.T("admin.added")
	}
}

// catalog reads the choices of a catalog page's form.
func (s *pages) catalog(r *http.Request, v *view) (*catalogPage, error) {
	if v.Practice == nil {
		return nil, errs.NotFound("web.catalog", "practice")
	}
	ctx, id := r.Context(), v.Practice.ID
	p := &catalogPage{view: v, Flow: flowOf(r)}
	ticked := func(name, value string) bool {
		return r.Method == http.MethodPost && slices.Contains(r.PostForm[name], value)
	}
	locs, err := s.engine.Tenants.Locations(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, l := range locs {
		p.Locations = append(p.Locations, option{Value: l.ID.String(), Label: l.Name,
			Selected: ticked("location_ids", l.ID.String()) || (r.Method == http.MethodGet && len(locs) == 1)})
	}
	res, err := s.engine.Scheduling.Resources(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	for _, x := range res {
		p.Resources = append(p.Resources, option{Value: x.ID.String(), Label: x.Name + " (" + nameOf(p.Locations, x.LocationID.String()) + ")",
			Selected: ticked("resource_ids", x.ID.String())})
	}
	for _, z := range zones {
		p.Zones = append(p.Zones, option{Value: z, Label: z})
	}
	p.Kinds = []option{{Value: string(scheduling.Room), Label: v.T("admin.resources.room")},
		{Value: string(scheduling.Equipment), Label: v.T("admin.resources.equipment")}}
	p.Audiences = []option{{Value: string(scheduling.AnyPatient), Label: v.T("admin.visit_types.any")},
		{Value: string(scheduling.NewOnly), Label: v.T("admin.visit_types.new")},
		{Value: string(scheduling.EstablishedOnly), Label: v.T("admin.visit_types.established")}}
	return p, nil
}

// nameOf is the label of the option whose value is value, "" when none.
func nameOf(opts []option, value string) string {
	for _, o := range opts {
		if o.Value == value {
			return o.Label
		}
	}
	return ""
}

// zones are the time zones the location form offers first; any IANA name
// may be typed instead.
var zones = []string{"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico", "Europe/Madrid", "America/Mexico_City"}

// catalogList fills p's list of kind: "locations", "providers",
// "resources" or "visit-types".
func (s *pages) catalogList(r *http.Request, p *catalogPage, kind string) error {
	ctx, id, v := r.Context(), p.Practice.ID, p.view
	switch kind {
	case "locations":
		p.Head = []string{v.T("admin.name"), v.T("admin.locations.time_zone"), v.T("admin.locations.address"), v.T("admin.locations.geo")}
		ls, err := s.engine.Tenants.Locations(ctx, id)
		for _, l := range ls {
			a := l.Address
			addr := strings.Join(nonEmpty(a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country), ", ")
			geo := ""
			if l.Geo.Lat != 0 || l.Geo.Lng != 0 {
				geo = fmt.Sprintf("%.5f, %.5f", l.Geo.Lat, l.Geo.Lng)
			}
			p.Rows = append(p.Rows, []string{l.Name, l.TimeZone, addr, geo})
		}
		return err
	case "providers":
		p.Head = []string{v.T("admin.name"), v.T("admin.providers.npi"), v.T("admin.providers.specialties"), v.T("admin.providers.locations")}
		ps, err := s.engine.Scheduling.Providers(ctx, id, scheduling.ProviderFilter{Limit: 1000})
		for _, x := range ps {
			var at []string
			for _, l := range x.LocationIDs {
				at = append(at, nameOf(p.Locations, l.String()))
			}
			p.Rows = append(p.Rows, []string{x.GivenName + " " + x.FamilyName, x.NPI, strings.Join(x.Specialties, ", "), strings.Join(at, ", ")})
		}
		return err
	case "resources":
		p.Head = []string{v.T("admin.name"), v.T("admin.resources.kind"), v.T("admin.resources.location")}
		rs, err := s.engine.Scheduling.Resources(ctx, id, nil)
		for _, x := range rs {
			p.Rows = append(p.Rows, []string{x.Name, nameOf(p.Kinds, string(x.Kind)), nameOf(p.Locations, x.LocationID.String())})
		}
		return err
	}
	p.Head = []string{v.T("admin.name"), v.T("admin.visit_types.duration"), v.T("admin.visit_types.buffers"),
		v.T("admin.visit_types.step"), v.T("admin.visit_types.audience"), v.T("admin.visit_types.resources")}
	vts, err := s.engine.Scheduling.VisitTypes(ctx, id)
	for _, x := range vts {
		var res []string
		for _, rid := range x.ResourceIDs {
			res = append(res, nameOf(p.Resources, rid.String()))
		}
		step := x.Step
		if step == 0 {
			step = x.Duration
		}
		p.Rows = append(p.Rows, []string{x.Name, v.T("admin.min", minutes(x.Duration)),
			v.T("admin.visit_types.buffers_value", minutes(x.BufferBefore), minutes(x.BufferAfter)),
			v.T("admin.min", minutes(step)), nameOf(p.Audiences, string(x.Audience)), strings.Join(res, ", ")})
	}
	return err
}

// nonEmpty are the strings of ss that are not "".
func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// catalogPages are the template and title of each catalog list.
var catalogPages = map[string][2]string{
	"locations":   {"admin_locations.html", "admin.locations.title"},
	"providers":   {"admin_providers.html", "admin.providers.title"},
	"resources":   {"admin_resources.html", "admin.resources.title"},
	"visit-types": {"admin_visit_types.html", "admin.visit_types.title"},
}

// showCatalog shows the list kind with its form.
func (s *pages) showCatalog(w http.ResponseWriter, r *http.Request, kind string) error {
	pg := catalogPages[kind]
	v := s.newView(r, pg[1])
	addedNotice(r, v)
	p, err := s.catalog(r, v)
	if err != nil {
		return err
	}
	if err := s.catalogList(r, p, kind); err != nil {
		return err
	}
	return s.render(w, http.StatusOK, pg[0], p)
}

// addToCatalog runs add, the form of the list kind: on success it goes on
// (afterAdd), on bad input it shows the form again with the message.
func (s *pages) addToCatalog(w http.ResponseWriter, r *http.Request, kind string, add func(ctx context.Context, practice tenant.PracticeID) error) error {
	pg := catalogPages[kind]
	v := s.newView(r, pg[1])
	p, err := s.catalog(r, v)
	if err != nil {
		return err
	}
	if err := add(r.Context(), v.Practice.ID); err != nil {
		if lerr := s.catalogList(r, p, kind); lerr != nil {
			return lerr
		}
		return s.invalid(w, r, v, pg[0], p, err)
	}
	return afterAdd(w, r, v.Practice, kind)
}

func (s *pages) showLocations(w http.ResponseWriter, r *http.Request) error {
	return s.showCatalog(w, r, "locations")
}

func (s *pages) addLocation(w http.ResponseWriter, r *http.Request) error {
	return s.addToCatalog(w, r, "locations", func(ctx context.Context, practice tenant.PracticeID) error {
		f := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
		in := tenant.NewLocation{Name: f("name"), TimeZone: f("time_zone"), Address: tenant.Address{
			Line1: f("address.line1"), Line2: f("address.line2"), City: f("address.city"), Region: f("address.region"),
			PostalCode: f("address.postal_code"), Country: strings.ToUpper(f("address.country"))}}
		var err error
		if in.Geo.Lat, err = formFloat(r, "geo.lat"); err != nil {
			return err
		}
		if in.Geo.Lng, err = formFloat(r, "geo.lng"); err != nil {
			return err
		}
		_, err = s.engine.Tenants.CreateLocation(ctx, practice, in)
		return err
	})
}

func (s *pages) showProviders(w http.ResponseWriter, r *http.Request) error {
	return s.showCatalog(w, r, "providers")
}

func (s *pages) addProvider(w http.ResponseWriter, r *http.Request) error {
	return s.addToCatalog(w, r, "providers", func(ctx context.Context, practice tenant.PracticeID) error {
		var specs []string
		for _, x := range strings.Split(r.PostFormValue("specialties"), ",") {
			if x = strings.TrimSpace(x); x != "" {
				specs = append(specs, x)
			}
		}
		locs, err := refserver.ParseIDs("location_ids", r.PostForm["location_ids"])
		if err != nil {
			return err
		}
		in := scheduling.NewProvider{NPI: strings.TrimSpace(r.PostFormValue("npi")), GivenName: r.PostFormValue("given_name"),
			FamilyName: r.PostFormValue("family_name"), Specialties: specs, LocationIDs: locs}
		_, err = s.engine.Scheduling.CreateProvider(ctx, practice, in)
		return err
	})
}

func (s *pages) showResources(w http.ResponseWriter, r *http.Request) error {
	return s.showCatalog(w, r, "resources")
}

func (s *pages) addResource(w http.ResponseWriter, r *http.Request) error {
	return s.addToCatalog(w, r, "resources", func(ctx context.Context, practice tenant.PracticeID) error {
		lid, err := refserver.ParseID("location_id", r.PostFormValue("location_id"))
		if err != nil {
			return err
		}
		_, err = s.engine.Scheduling.CreateResource(ctx, practice, scheduling.NewResource{
			LocationID: lid, Name: r.PostFormValue("name"), Kind: scheduling.ResourceKind(r.PostFormValue("kind"))})
		return err
	})
}

func (s *pages) showVisitTypes(w http.ResponseWriter, r *http.Request) error {
	return s.showCatalog(w, r, "visit-types")
}

func (s *pages) addVisitType(w http.ResponseWriter, r *http.Request) error {
	return s.addToCatalog(w, r, "visit-types", func(ctx context.Context, practice tenant.PracticeID) error {
		in := scheduling.NewVisitType{Name: r.PostFormValue("name"), Audience: scheduling.Audience(r.PostFormValue("audience"))}
		durs := []struct {
			name     string
			to       *time.Duration
			required bool
		}{
			{"duration_minutes", &in.Duration, true}, {"buffer_before_minutes", &in.BufferBefore, false},
			{"buffer_after_minutes", &in.BufferAfter, false}, {"step_minutes", &in.Step, false},
		}
		for _, d := range durs {
			n, err := formInt(r, d.name, d.required)
			if err == nil {
				*d.to, err = refserver.Minutes(d.name, n)
			}
			if err != nil {
				return err
			}
		}
		var err error
		if in.ResourceIDs, err = refserver.ParseIDs("resource_ids", r.PostForm["resource_ids"]); err != nil {
			return err
		}
		_, err = s.engine.Scheduling.CreateVisitType(ctx, practice, in)
		return err
	})
}

// minutes is d in whole minutes.
func minutes(d time.Duration) int64 { return int64(d / time.Minute) }
