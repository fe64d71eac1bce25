package web

import (
	"net/http"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
)

// Break-glass pages: a clinician refused a patient's chart (or shown it
// without its restricted entries) who holds patient.breakglass in the
// practice is offered to open it for a stated reason and one hour
// (Engine.BreakGlass, which logs it and tells the administrators); the
// practice's auditors review the openings with their reasons.

// breakGlassRoutes are the break-glass pages.
func (s *pages) breakGlassRoutes() []refserver.Route {
	const c = "/p/{practice}/patients/{patient}/chart/break-glass"
	g := refserver.Guarded()
	return []refserver.Route{
		route("GET", c, s.showBreakGlass, "The break-glass form of a patient's chart: why it must be opened", g),
		route("POST", c, s.breakGlass, "Open a patient's chart by break-glass, for a stated reason and one hour", g),
		route("GET", "/p/{practice}/break-glass", s.showGlassReview, "The practice's break-glass openings of the last 30 days, with their reasons", g),
	}
}

// glassPage is the break-glass form of one chart.
type glassPage struct {
	*view
	Action, ChartHref string
	// Hidden says the chart is open to the caller but its restricted
	// entries are not; else the whole chart is refused.
	Hidden bool
	Hours  string
}

// glassAllowed decides, through the Engine, whether r's caller may break
// the glass of cr's chart: nil when it may, else the guard's error (a
// denied entry written).
func (s *pages) glassAllowed(r *http.Request, cr *chartReq) error {
	return s.engine.CheckBreakGlass(r.Context(), cr.pid, cr.patient)
}

// canBreakGlass reports whether r's caller, a staff account, holds
// patient.breakglass somewhere in cr's practice: whether to offer the form
// (asking writes nothing).
func (s *pages) canBreakGlass(r *http.Request, cr *chartReq) bool {
	_, _, ok := s.glassHolder(r, cr)
	return ok
}

// glassHolder is canBreakGlass with the caller's principal and the
// practice it was asked over.
func (s *pages) glassHolder(r *http.Request, cr *chartReq) (rbac.Principal, *tenant.Practice, bool) {
	c := refserver.CredentialsFrom(r.Context())
	if c == nil || c.Session == nil {
		return rbac.Principal{}, nil, false
	}
	p, err := s.engine.Tenants.Practice(r.Context(), cr.pid)
	if err != nil {
		return rbac.Principal{}, nil, false
	}
	pr, err := s.srv.Principal(r, c)
	return pr, p, err == nil && rbac.HoldsIn(pr, rbac.PatientBreakGlass, p.ID, p.GroupID)
}

// glassForm returns the break-glass form of cr's chart.
func (s *pages) glassForm(r *http.Request, cr *chartReq, hidden bool) *glassPage {
	v := s.newView(r, "glass.title")
	return &glassPage{view: v, Action: cr.base + "/break-glass", ChartHref: cr.base, Hidden: hidden, Hours: "1"}
}

// chartRefused answers a refused chart read: to a caller who may break
// the glass, the form (403, the chart is still refused); else err.
func (s *pages) chartRefused(w http.ResponseWriter, r *http.Request, cr *chartReq, err error) error {
	if errs.KindOf(err) != errs.KindForbidden || !s.canBreakGlass(r, cr) {
		return err
	}
	p := s.glassForm(r, cr, false)
	p.Notice, p.Failed = p.T("glass.refused"), true
	return s.render(w, http.StatusForbidden, "chart_glass.html", p)
}

func (s *pages) showBreakGlass(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chartRequest(r)
	if err != nil {
		return err
	}
	if err := s.glassAllowed(r, cr); err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "chart_glass.html", s.glassForm(r, cr, r.URL.Query().Get("hidden") == "1"))
}

func (s *pages) breakGlass(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chartRequest(r)
	if err != nil {
		return err
	}
	_, err = s.engine.BreakGlass(r.Context(), cr.pid, cr.patient, r.PostFormValue("reason"))
	if err == nil {
		return see(w, r, cr.base+"?done=glass")
	}
	p := s.glassForm(r, cr, r.PostFormValue("hidden") == "1")
	if errs.KindOf(err) == errs.KindInvalid {
		return s.invalid(w, r, p.view, "chart_glass.html", p, err)
	}
	if errs.KindOf(err) == errs.KindConflict {
		p.Form = r.PostForm
		return s.refuse(w, p.view, "chart_glass.html", p, err, message(err))
	}
	return err
}

// glassLink is the link to cr's break-glass form for a caller who may
// break the glass and does not see the chart's restricted entries (nor
// holds an opening in force); "" for others.
func (s *pages) glassLink(r *http.Request, cr *chartReq) string {
	pr, p, ok := s.glassHolder(r, cr)
	if !ok || pr.Can(rbac.PatientRestrictedRead, rbac.Target{GroupID: p.GroupID, PracticeID: p.ID, PatientID: &cr.patient}) ||
		s.engine.BreakGlassInForce(r.Context(), cr.pid, cr.patient) {
		return ""
	}
	return cr.base + "/break-glass?hidden=1"
}

// glassReviewPage lists the practice's break-glass openings.
type glassReviewPage struct {
	*view
	Rows []glassRow
}

// glassRow is one opening as the review shows it.
type glassRow struct {
	Opened, Until, Who, Reason, ChartHref string
}

func (s *pages) showGlassReview(w http.ResponseWriter, r *http.Request) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	list, err := s.engine.BreakGlassReview(r.Context(), pid, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	p := &glassReviewPage{view: s.newView(r, "glass.review.title")}
	zone := s.practiceZone(r.Context(), pid)
	names := s.chartNamer(r.Context())
	for _, b := range list {
		p.Rows = append(p.Rows, glassRow{Opened: b.OpenedAt.In(zone).Format("2006-01-02 15:04"), Until: b.ExpiresAt.In(zone).Format("15:04 MST"),
			Who: names.of(b.AccountID.String()), Reason: b.Reason, ChartHref: chartPath(pid, b.PatientID)})
	}
	return s.render(w, http.StatusOK, "chart_glass_review.html", p)
}
