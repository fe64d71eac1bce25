package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
)

// The administrators' setup pages: the hub with the booking policy and a
// group administrator's practices (this file), the practice's locations,
// providers, resources and visit types (admin_catalog.go), availability
// blocks (admin_blocks.go), and a new clinic's onboarding
// (admin_onboarding.go). Each page needs the permission of the API route
// doing the same; the pages that list what a form adds need the form's.

// adminRoutes are the admin pages.
func (s *pages) adminRoutes() []refserver.Route {
	p := "/p/{practice}/setup"
	return []refserver.Route{
		route("GET", p, s.showSetup, "Setup: what the practice offers, its booking policy, the group's practices", refserver.Needs(rbac.PracticeManage)),
		route("POST", p+"/policy", s.savePolicy, "Replace the practice's booking policy", refserver.Needs(rbac.PolicyManage)),
		route("GET", p+"/start", s.showStart, "The first steps of a new practice, one after the other", refserver.Needs(rbac.PracticeManage)),

		route("GET", p+"/locations", s.showLocations, "The practice's locations, and a form to add one", refserver.Needs(rbac.PracticeManage)),
		route("POST", p+"/locations", s.addLocation, "Add a location", refserver.Needs(rbac.PracticeManage)),
		route("GET", p+"/providers", s.showProviders, "The practice's providers, and a form to add one", refserver.Needs(rbac.ProviderManage)),
		route("POST", p+"/providers", s.addProvider, "Add a provider", refserver.Needs(rbac.ProviderManage)),
		route("GET", p+"/resources", s.showResources, "The practice's rooms and equipment, and a form to add one", refserver.Needs(rbac.ResourceManage)),
		route("POST", p+"/resources", s.addResource, "Add a room or piece of equipment", refserver.Needs(rbac.ResourceManage)),
		route("GET", p+"/visit-types", s.showVisitTypes, "The practice's visit types, and a form to add one", refserver.Needs(rbac.VisitTypeManage)),
		route("POST", p+"/visit-types", s.addVisitType, "Add a visit type", refserver.Needs(rbac.VisitTypeManage)),

		route("GET", p+"/blocks", s.showBlocks, "The practice's availability blocks, by provider and location", refserver.Needs(rbac.AvailabilityManage)),
		route("GET", p+"/blocks/new", s.showNewBlock, "A form for a weekly availability block", refserver.Needs(rbac.AvailabilityManage)),
		route("POST", p+"/blocks", s.addBlock, "Preview or publish a weekly availability block", refserver.Needs(rbac.AvailabilityManage)),
		route("GET", p+"/blocks/{block}", s.showBlock, "A block: its next occurrences, open times, exceptions and overrides", refserver.Needs(rbac.AvailabilityManage)),
		route("GET", p+"/blocks/{block}/edit", s.showEditBlock, "A block's weekly pattern, to change it", refserver.Needs(rbac.AvailabilityManage)),
		route("POST", p+"/blocks/{block}", s.editBlock, "Change a block's weekly pattern", refserver.Needs(rbac.AvailabilityManage)),
		route("POST", p+"/blocks/{block}/exdates", s.changeExDates, "Skip a date of a block, or stop skipping it", refserver.Needs(rbac.AvailabilityManage)),
		route("POST", p+"/blocks/{block}/overrides", s.changeOverrides, "Change one day's hours of a block, or drop that change", refserver.Needs(rbac.AvailabilityManage)),
		route("POST", p+"/blocks/{block}/delete", s.deleteBlock, "Delete a block that holds no appointments", refserver.Needs(rbac.AvailabilityManage)),
		route("POST", p+"/blocks/{block}/move", s.moveBlockAppointments, "Move a block's appointments to another block", refserver.Needs(rbac.AvailabilityManage)),

		route("GET", "/onboarding", s.showOnboarding, "A new clinic signs up: its first administrator, group and practice", refserver.Public()),
		route("POST", "/onboarding", s.onboard, "Sign a new clinic up and sign its administrator in", refserver.Public()),
	}
}

// setupLink is one entry of the setup hub.
type setupLink struct {
	Label, Href, Text string
	Count             int
}

// setupPage is the setup hub.
type setupPage struct {
	*view
	Links []setupLink
	// Group are the group's practices, for its administrator (nil
	// otherwise).
	Group []groupPractice
	// CanPolicy shows the policy form to holders of policy.manage.
	CanPolicy bool
	// AutoConfirm is the policy's, unless a form is shown again.
	AutoConfirm bool
	Policy      map[string]string
}

// groupPractice is one practice of the group switcher.
type groupPractice struct {
	Name, Href string
	Current    bool
}

// principal is the caller of r, who has been authorized.
func (s *pages) principal(r *http.Request) (rbac.Principal, error) {
	c := refserver.CredentialsFrom(r.Context())
	if c == nil {
		return rbac.Principal{}, errs.E(errs.KindUnauthenticated, "web.principal", "not signed in")
	}
	return s.srv.Principal(r, c)
}

func (s *pages) showSetup(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.setup.title")
	if r.URL.Query().Get("saved") == "policy" {
		v.Notice = v.T("admin.policy.saved")
	}
	return s.renderSetup(w, r, http.StatusOK, v, nil)
}

// renderSetup shows the hub, with err next to its policy field when set.
func (s *pages) renderSetup(w http.ResponseWriter, r *http.Request, status int, v *view, formErr error) error {
	ctx := r.Context()
	p := v.Practice
	if p == nil {
		return errs.NotFound("web.setup", "practice")
	}
	pr, err := s.principal(r)
	if err != nil {
		return err
	}
	data := &setupPage{view: v, CanPolicy: pr.Can(rbac.PolicyManage, rbac.Target{GroupID: p.GroupID, PracticeID: p.ID}),
		AutoConfirm: p.Policy.AutoConfirm, Policy: policyValues(p.Policy)}
	if data.Links, err = s.setupLinks(ctx, v, p); err != nil {
		return err
	}
	if pr.Can(rbac.PracticeManage, rbac.Target{GroupID: p.GroupID}) {
		ps, err := s.engine.Tenants.Practices(ctx, p.GroupID)
		if err != nil {
			return err
		}
		for _, x := range ps {
			data.Group = append(data.Group, groupPractice{Name: x.Name, Href: practicePath(x.ID) + "/setup", Current: x.ID == p.ID})
		}
	}
	if formErr != nil {
		data.AutoConfirm = r.PostFormValue("auto_confirm") != ""
		return s.invalid(w, r, v, "admin_setup.html", data, formErr)
	}
	return s.render(w, status, "admin_setup.html", data)
}

// setupLinks are the hub's entries, with how many of each the practice has.
func (s *pages) setupLinks(ctx context.Context, v *view, p *tenant.Practice) ([]setupLink, error) {
	locs, err := s.engine.Tenants.Locations(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	provs, err := s.engine.Scheduling.Providers(ctx, p.ID, scheduling.ProviderFilter{Limit: 1000})
	if err != nil {
		return nil, err
	}
	res, err := s.engine.Scheduling.Resources(ctx, p.ID, nil)
	if err != nil {
		return nil, err
	}
	vts, err := s.engine.Scheduling.VisitTypes(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	blocks, err := s.engine.Scheduling.Blocks(ctx, p.ID, scheduling.BlockFilter{})
	if err != nil {
		return nil, err
	}
	base := practicePath(p.ID) + "/setup"
	return []setupLink{
		{v.T("admin.locations.title"), base + "/locations", v.T("admin.setup.locations_text"), len(locs)},
		{v.T("admin.providers.title"), base + "/providers", v.T("admin.setup.providers_text"), len(provs)},
		{v.T("admin.resources.title"), base + "/resources", v.T("admin.setup.resources_text"), len(res)},
		{v.T("admin.visit_types.title"), base + "/visit-types", v.T("admin.setup.visit_types_text"), len(vts)},
		{v.T("admin.blocks.title"), base + "/blocks", v.T("admin.setup.blocks_text"), len(blocks)},
	}, nil
}

// policyFields are the policy form's minute fields, named as the API's
// PUT /policy names them, with the tenant service's names of its errors.
var policyFields = []struct{ name, domain string }{
	{"min_notice_minutes", "policy.min_notice"},
	{"max_advance_minutes", "policy.max_advance"},
	{"cancel_cutoff_minutes", "policy.cancel_cutoff"},
	{"arrival_early_minutes", "policy.arrival_early"},
	{"arrival_late_minutes", "policy.arrival_late"},
}

// policyValues are pol's durations in whole minutes, by form field.
func policyValues(pol tenant.BookingPolicy) map[string]string {
	m := func(d time.Duration) string { return strconv.FormatInt(int64(d/time.Minute), 10) }
	return map[string]string{
		"min_notice_minutes": m(pol.MinNotice), "max_advance_minutes": m(pol.MaxAdvance),
		"cancel_cutoff_minutes": m(pol.CancelCutoff), "arrival_early_minutes": m(pol.ArrivalEarly),
		"arrival_late_minutes": m(pol.ArrivalLate),
	}
}

func (s *pages) savePolicy(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.setup.title")
	if v.Practice == nil {
		return errs.NotFound("web.savePolicy", "practice")
	}
	pol := tenant.BookingPolicy{AutoConfirm: r.PostFormValue("auto_confirm") != ""}
	mins := make([]time.Duration, len(policyFields))
	for i, f := range policyFields {
		n, err := formInt(r, f.name, true)
		if err == nil {
			mins[i], err = refserver.Minutes(f.name, n)
		}
		if err != nil {
			return s.renderSetup(w, r, 0, v, err)
		}
	}
	pol.MinNotice, pol.MaxAdvance, pol.CancelCutoff, pol.ArrivalEarly, pol.ArrivalLate = mins[0], mins[1], mins[2], mins[3], mins[4]
	if err := s.engine.Tenants.SetPolicy(r.Context(), v.Practice.ID, pol); err != nil {
		for _, f := range policyFields {
			if errs.FieldOf(err) == f.domain {
				err = &errs.Error{Kind: errs.KindInvalid, Op: "web.savePolicy", Field: f.name, Msg: errMsg(err), Err: err}
			}
		}
		return s.renderSetup(w, r, 0, v, err)
	}
	return see(w, r, practicePath(v.Practice.ID)+"/setup?saved=policy")
}

// errMsg is the message of err without its op.
func errMsg(err error) string {
	if e, ok := errs.As(err); ok && e.Msg != "" {
		return e.Msg
	}
	return err.Error()
}

// formInt is the whole number in r's form field name: "" is 0, or an error
// when required.
func formInt(r *http.Request, name string, required bool) (int64, error) {
	s := strings.TrimSpace(r.PostFormValue(name))
	if s == "" {
		if required {
			return 0, errs.Invalid("web.form", name, "is required")
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errs.Invalid("web.form", name, "must be a whole number")
	}
	return n, nil
}

// formFloat is the number in r's form field name, 0 when "".
func formFloat(r *http.Request, name string) (float64, error) {
	s := strings.TrimSpace(r.PostFormValue(name))
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errs.Invalid("web.form", name, "must be a number")
	}
	return f, nil
}
