package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The operator's support panel (/ops/): its own sign-in for the support
// staff (refserver.Operator routes, the staff member's own cookie), the
// table of every practice with its plan, status, usage and invoices, and a
// practice's page with the support actions, each a form with a reason.
// Nothing of a practice's patients is read here. The pages are private
// and kept out of search engines.

// opsRoutes are the support panel's.
func (s *pages) opsRoutes() []refserver.Route {
	base := refserver.OperatorPath
	return []refserver.Route{
		route("GET", refserver.OperatorSignInPath, s.showOpsSignIn, "The support panel's sign-in page", refserver.Public()),
		route("POST", refserver.OperatorSignInPath, s.opsSignIn, "Sign a support staff member in", refserver.Public()),
		route("POST", base+"/signout", s.opsSignOut, "Sign the support staff member out", refserver.Operator()),
		route("GET", base+"/{$}", s.showTenants, "Every practice with its plan, status, usage and invoices", refserver.Operator()),
		route("GET", base+"/practices/{id}", s.showOpsPractice, "A practice's account and billing, and the support actions", refserver.Operator()),
		route("POST", base+"/practices/{id}/trial", s.opsExtendTrial, "Extend a practice's trial, with a reason", refserver.Operator()),
		route("POST", base+"/practices/{id}/plan", s.opsChangePlan, "Change a practice's plan, with a reason", refserver.Operator()),
		route("POST", base+"/practices/{id}/read-only", s.opsLiftReadOnly, "Lift a practice's read-only state, with a reason", refserver.Operator()),
	}
}

// opsView is the view of a panel's page: the language, the panel's CSRF
// token and who is signed in; nothing of an account's session.
func (s *pages) opsView(w http.ResponseWriter, r *http.Request, title string, args ...any) *view {
	h := w.Header()
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	v := &view{Lang: langOf(r), Requests: -1, path: r.URL.Path}
	v.cat = catalogs[v.Lang]
	v.Title = v.T(title, args...)
	if r.Method == http.MethodGet {
		v.Here = r.URL.RequestURI()
	}
	v.CSRF = refserver.OperatorCSRF(w, r)
	return v
}

// opsPage is what every page of the panel shows besides its own: the
// signed-in support staff member.
type opsPage struct {
	*view
	Staff string
}

func (s *pages) newOpsPage(w http.ResponseWriter, r *http.Request, title string, args ...any) opsPage {
	p := opsPage{view: s.opsView(w, r, title, args...)}
	if o, ok := carebook.OperatorFrom(r.Context()); ok {
		p.Staff = o.Email
	}
	return p
}

// opsSignInPage is the panel's sign-in form.
type opsSignInPage struct {
	opsPage
	Ended bool
}

func (s *pages) showOpsSignIn(w http.ResponseWriter, r *http.Request) error {
	p := &opsSignInPage{opsPage: s.newOpsPage(w, r, "ops.signin.title"), Ended: r.URL.Query().Get("ended") == "1"}
	return s.render(w, http.StatusOK, "ops_signin.html", p)
}

func (s *pages) opsSignIn(w http.ResponseWriter, r *http.Request) error {
	const op = "web.opsSignIn"
	p := &opsSignInPage{opsPage: s.newOpsPage(w, r, "ops.signin.title")}
	v := p.view
	if !refserver.OperatorCSRFMatches(r) {
		return s.invalid(w, r, v, "ops_signin.html", p, errs.E(errs.KindInvalid, op, "the form has expired: please send it again"))
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	if err := s.srv.CheckAttempt(r, email); err != nil {
		return s.invalid(w, r, v, "ops_signin.html", p, err)
	}
	tok, _, err := s.engine.OperatorSignIn(r.Context(), email, r.PostFormValue("password"))
	if errs.Is(err, errs.KindUnauthenticated) {
		err = errs.Invalid(op, "password", v.T("ops.signin.refused"))
	}
	if err != nil {
		return s.invalid(w, r, v, "ops_signin.html", p, err)
	}
	refserver.SetOperatorCookies(w, r, tok, s.engine.Clock.Now().Add(carebook.OperatorSessionMax))
	return see(w, r, refserver.OperatorPath+"/")
}

func (s *pages) opsSignOut(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(refserver.OperatorCookie); err == nil {
		if err := s.engine.OperatorSignOut(r.Context(), c.Value); err != nil {
			return err
		}
	}
	refserver.ClearOperatorCookies(w, r)
	return see(w, r, refserver.OperatorSignInPath)
}

// tenantRow is one practice of the panel's table.
type tenantRow struct {
	Href, Name, Group, Plan, Status, Usage, Invoices string
}

// tenantsPage is the panel's table of practices.
type tenantsPage struct {
	opsPage
	Rows []tenantRow
	Next string
}

func (s *pages) showTenants(w http.ResponseWriter, r *http.Request) error {
	var after tenant.PracticeID
	if a := r.URL.Query().Get("after"); a != "" {
		id, err := refserver.ParseID("after", a)
		if err != nil {
			return err
		}
		after = id
	}
	ts, err := s.engine.SupportTenants(r.Context(), after)
	if err != nil {
		return err
	}
	p := &tenantsPage{opsPage: s.newOpsPage(w, r, "ops.tenants.title")}
	for _, t := range ts {
		f := s.tenantFacts(p.view, &t)
		p.Rows = append(p.Rows, tenantRow{Href: opsPracticePath(t.Practice.ID), Name: t.Practice.Name, Group: t.Group.Name,
			Plan: f.Plan, Status: f.Status, Usage: f.Usage, Invoices: f.Invoices})
	}
	if len(ts) == carebook.SupportPage {
		p.Next = refserver.OperatorPath + "/?after=" + url.QueryEscape(ts[len(ts)-1].Practice.ID.String())
	}
	return s.render(w, http.StatusOK, "ops_tenants.html", p)
}

// tenantFacts are a practice's plan, status, usage and invoices in words.
type tenantFacts struct {
	Plan, Status, Usage, Invoices, Period string
	// ReadOnly says why the practice is read-only; "" when it writes.
	ReadOnly string
}

func (s *pages) tenantFacts(v *view, t *carebook.SupportTenant) tenantFacts {
	f := tenantFacts{Plan: v.T("ops.no_plan"), Status: "—", Period: v.T("plan.period_range", v.date(t.PeriodStart), v.date(t.PeriodEnd))}
	if sub := t.Subscription; sub != nil {
		f.Plan, f.Status = string(sub.Plan), v.tf("plan.status.", string(sub.Status))
		if sub.Status == billing.SubscriptionTrialing && !sub.TrialEnd.IsZero() {
			f.Status += " (" + v.T("ops.trial_until", v.date(sub.TrialEnd)) + ")"
		}
	}
	var used []string
	for _, u := range t.Usage {
		used = append(used, v.tf("plan.meter.", string(u.Meter))+": "+strconv.FormatInt(u.Units, 10))
	}
	f.Usage = v.T("ops.usage_none")
	if len(used) > 0 {
		f.Usage = strings.Join(used, ", ")
	}
	f.Invoices = v.T("ops.invoices", t.InvoicesOpen, t.InvoicesPaid)
	var why []string
	for _, ro := range t.ReadOnly {
		why = append(why, v.tf("ops.ro.reason.", string(ro.Reason))+" ("+v.date(ro.Since)+")")
	}
	f.ReadOnly = strings.Join(why, "; ")
	return f
}

// opsPracticePath is a practice's page of the panel.
func opsPracticePath(id tenant.PracticeID) string {
	return refserver.OperatorPath + "/practices/" + id.String()
}

// opsPracticePage is a practice's page of the panel.
type opsPracticePage struct {
	opsPage
	Base  string
	Facts tenantFacts
	// TrialEnd is the current trial end as YYYY-MM-DD; "" without a trial.
	TrialEnd string
	Plans    []option
	Invoices []opsInvoice
	Actions  []opsAction
}

// opsInvoice is one invoice of the practice's page.
type opsInvoice struct {
	Period, Total, Status string
}

// opsAction is one support action of the practice's history.
type opsAction struct {
	At, Staff, Action, Detail, Reason string
}

func (s *pages) showOpsPractice(w http.ResponseWriter, r *http.Request) error {
	return s.renderOpsPractice(w, r, http.StatusOK, nil)
}

// renderOpsPractice shows the practice's page with formErr, a form's
// error, next to its field (nil: none; after a redirect, done says so).
func (s *pages) renderOpsPractice(w http.ResponseWriter, r *http.Request, status int, formErr error) error {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return errs.NotFound("web.opsPractice", "practice")
	}
	ctx := r.Context()
	t, err := s.engine.SupportPractice(ctx, id)
	if err != nil {
		return err
	}
	p := &opsPracticePage{opsPage: s.newOpsPage(w, r, "ops.practice.title", t.Practice.Name), Base: opsPracticePath(id)}
	v := p.view
	p.Facts = s.tenantFacts(v, &t.SupportTenant)
	var current billing.PlanID
	if sub := t.Subscription; sub != nil {
		current = sub.Plan
		if !sub.TrialEnd.IsZero() {
			p.TrialEnd = sub.TrialEnd.UTC().Format(time.DateOnly)
		}
	}
	plans, err := s.engine.Plans(ctx)
	if err != nil {
		return err
	}
	for _, pl := range plans {
		p.Plans = append(p.Plans, option{Value: string(pl.ID), Label: pl.Name + " (" + string(pl.ID) + ")", Selected: pl.ID == current})
	}
	for _, inv := range t.Invoices {
		p.Invoices = append(p.Invoices, opsInvoice{Period: v.T("plan.period_range", v.date(inv.PeriodStart), v.date(inv.PeriodEnd)),
			Total: inv.Total.String(), Status: v.tf("ops.invoice.", string(inv.Status))})
	}
	for _, a := range t.Actions {
		p.Actions = append(p.Actions, opsAction{At: a.At.UTC().Format("2006-01-02 15:04 UTC"), Staff: a.StaffEmail,
			Action: a.Action, Detail: a.Detail, Reason: a.Reason})
	}
	if r.URL.Query().Get("done") == "1" {
		v.Notice = v.T("ops.done")
	}
	if formErr != nil {
		return s.invalid(w, r, v, "ops_practice.html", p, formErr)
	}
	return s.render(w, status, "ops_practice.html", p)
}

// opsAct runs a support action posted by a form whose reason field is
// prefix+"reason", and shows the practice's page again: after a redirect
// when done, else with the error next to its field (the form's own).
func (s *pages) opsAct(w http.ResponseWriter, r *http.Request, prefix string, act func(id tenant.PracticeID, reason string) error) error {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return errs.NotFound("web.opsAct", "practice")
	}
	err = act(id, r.PostFormValue(prefix+"reason"))
	if err == nil {
		return see(w, r, opsPracticePath(id)+"?done=1")
	}
	if e, ok := errs.As(err); ok && e.Field != "" {
		c := *e
		switch e.Field {
		case "reason":
			c.Field = prefix + "reason" // the reason field of the form posted
		case "until", "plan":
		default:
			c.Field = "" // no field of the form: the page's notice says it
		}
		err = &c
	}
	return s.renderOpsPractice(w, r, http.StatusUnprocessableEntity, err)
}

func (s *pages) opsExtendTrial(w http.ResponseWriter, r *http.Request) error {
	return s.opsAct(w, r, "trial_", func(id tenant.PracticeID, reason string) error {
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(r.PostFormValue("until")))
		if err != nil {
			return errs.Invalid("web.opsExtendTrial", "until", catalogs[langOf(r)]["ops.bad_date"])
		}
		return s.engine.ExtendTrial(r.Context(), id, day.Add(24*time.Hour-time.Second), reason)
	})
}

func (s *pages) opsChangePlan(w http.ResponseWriter, r *http.Request) error {
	return s.opsAct(w, r, "plan_", func(id tenant.PracticeID, reason string) error {
		return s.engine.ChangePlan(r.Context(), id, billing.PlanID(strings.TrimSpace(r.PostFormValue("plan"))), reason)
	})
}

func (s *pages) opsLiftReadOnly(w http.ResponseWriter, r *http.Request) error {
	return s.opsAct(w, r, "ro_", func(id tenant.PracticeID, reason string) error {
		return s.engine.LiftReadOnly(r.Context(), id, reason)
	})
}
