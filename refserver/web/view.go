package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
)

//go:embed templates/*.html
var templateFS embed.FS

// shell is the partials every page is parsed with: the header, its
// navigation and the page's language (the layout's blocks), the form
// fields, and the pieces that several pages share (partial_*.html).
var shell = []string{"templates/shell.html", "templates/partial_*.html"}

// allPages are every page of the package, parsed once.
var allPages = func() refserver.Pages {
	names, err := fsGlob("templates/*.html")
	if err != nil {
		panic("web: " + err.Error())
	}
	p, err := refserver.ParsePagesWith(templateFS, nil, shell, names...)
	if err != nil {
		panic("web: the embedded pages do not parse: " + err.Error())
	}
	return p
}()

// view is what every page shows besides its own content: who is signed
// in, in which practice, the navigation with the count of new requests,
// the CSRF token its forms carry, the language, and a form's input and
// errors when it is shown again. Page data embed a *view.
type view struct {
	Lang  string
	cat   catalog
	Title string
	// CSRF is the token every form carries in its refserver.CSRFField.
	CSRF string
	// Who is the signed-in account's email or phone; "" when signed out.
	Who     string
	Patient bool
	// Practice is the practice the page is about, if any.
	Practice *tenant.Practice
	Nav      []navItem
	// Requests counts the practice's new requests (-1: not shown).
	Requests int
	// Notice is a message at the top of the page; Failed makes it an error.
	Notice string
	Failed bool
	// Errors are a form's messages by field; Form is what was typed.
	Errors map[string]string
	Form   url.Values
	// Wide lets the page use the whole width (the calendar).
	Wide bool
	// Here is the page's own path and query, for links that come back.
	Here string
	path string
}

// navItem is one link of the navigation.
type navItem struct {
	Label, Href string
	Current     bool
	// Count, when positive, is shown as a badge (new requests).
	Count int
}

// T is the string key of the page's language, formatted with args; a key
// the catalog lacks shows as itself between brackets (a test checks that
// none does).
func (v *view) T(key string, args ...any) string {
	s, ok := v.cat[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Val is what was typed in field, when a form is shown again.
func (v *view) Val(field string) string { return v.Form.Get(field) }

// Err is the message of field, "" when it has none.
func (v *view) Err(field string) string { return v.Errors[field] }

// Invalid is the aria-invalid of field.
func (v *view) Invalid(field string) string {
	if v.Errors[field] != "" {
		return "true"
	}
	return "false"
}

// newView is the view of r, titled by the catalog's key title. It reads
// the practice named by r's {practice} (already authorized) or else the
// session's home practice, and the navigation for the caller's grants in
// it.
func (s *pages) newView(r *http.Request, title string) *view {
	v := &view{Lang: langOf(r), Requests: -1, path: r.URL.Path}
	if r.Method == http.MethodGet {
		v.Here = r.URL.RequestURI()
	}
	v.cat = catalogs[v.Lang]
	v.Title = v.T(title)
	if c, err := r.Cookie(refserver.CSRFCookie); err == nil {
		v.CSRF = c.Value
	}
	c := refserver.CredentialsFrom(r.Context())
	if c == nil || c.Session == nil {
		return v
	}
	ctx := r.Context()
	v.Patient = c.Session.Kind == identity.Patient
	if a, err := s.engine.Identity.Account(ctx, c.Session.AccountID); err == nil {
		v.Who = a.Email
		if v.Who == "" {
			v.Who = a.Phone
		}
	}
	pid := c.Session.PracticeID
	if id, err := refserver.ParseID("practice", r.PathValue("practice")); err == nil {
		pid = id
	}
	p, err := s.engine.Tenants.Practice(ctx, pid)
	if err != nil {
		return v
	}
	v.Practice = p
	pr, err := s.srv.Principal(r, c)
	if err != nil {
		return v
	}
	v.Nav = s.nav(ctx, v, pr, p)
	return v
}

// navLink is a navigation entry shown to holders of perm ("" for every
// member), at path under the practice's pages.
type navLink struct {
	label, path string
	perm        rbac.Permission
	patient     bool // shown to patients only (else to staff only)
}

// navLinks are the navigation, in order.
var navLinks = []navLink{
	{label: "nav.book", path: "/book", perm: rbac.AppointmentBook, patient: true},
	{label: "nav.visits", path: "/visits", patient: true},
	{label: "nav.record", path: "/record", patient: true},
	{label: "nav.receipts", path: "/receipts", patient: true},
	{label: "nav.preferences", path: "/preferences", patient: true},
	{label: "nav.calendar", path: "/calendar", perm: rbac.CalendarRead},
	{label: "nav.requests", path: "/requests", perm: rbac.AppointmentConfirm},
	{label: "nav.book_for", path: "/desk/book", perm: rbac.AppointmentBook},
	{label: "nav.charts", path: "/charts", perm: rbac.PatientClinicalRead},
	{label: "nav.rights", path: "/rights/overdue", perm: rbac.PatientRightsManage},
	{label: "nav.setup", path: "/setup", perm: rbac.PracticeManage},
	{label: "nav.billing", path: "/billing", perm: rbac.BillingRead},
	{label: "nav.staff", path: "/staff", perm: rbac.StaffManage},
	{label: "nav.notifications", path: "/notifications", perm: rbac.NotifyManage},
	{label: "nav.activity", path: "/activity", perm: rbac.AuditRead},
	{label: "nav.glass", path: "/break-glass", perm: rbac.AuditRead},
}

// nav is the navigation of v's caller pr in practice p, with the count of
// new requests for those who confirm them.
func (s *pages) nav(ctx context.Context, v *view, pr rbac.Principal, p *tenant.Practice) []navItem {
	t := rbac.Target{GroupID: p.GroupID, PracticeID: p.ID}
	base := practicePath(p.ID)
	var out []navItem
	for _, l := range navLinks {
		// A patient's permissions cover their own record (a self grant),
		// not the practice: the patient pages check them over it.
		if l.patient != v.Patient || (l.perm != "" && !l.patient && !pr.Can(l.perm, t)) {
			continue
		}
		it := navItem{Label: v.T(l.label), Href: base + l.path}
		it.Current = v.path == it.Href || strings.HasPrefix(v.path, it.Href+"/")
		if l.path == "/requests" {
			v.Requests = s.countRequests(ctx, p.ID)
			it.Count = v.Requests
		}
		out = append(out, it)
	}
	return out
}

// maxCounted bounds the count of new requests a badge shows ("99+").
const maxCounted = 100

// countRequests counts practice's new requests, up to maxCounted; a
// failure shows no count rather than failing the page.
func (s *pages) countRequests(ctx context.Context, practice tenant.PracticeID) int {
	n, err := s.engine.Scheduling.CountRequests(ctx, practice, maxCounted)
	if err != nil {
		return -1
	}
	return n
}

// practicePath is the root of a practice's pages.
func practicePath(id tenant.PracticeID) string { return "/p/" + id.String() }

// render answers the page name filled with data, whose view is v, with
// status.
func (s *pages) render(w http.ResponseWriter, status int, name string, data any) error {
	return refserver.RenderPage(w, status, allPages, name, data)
}

// invalid shows a form's page again, with status 422 (or the error's own
// 4xx), the message of err next to its field and what was typed kept. An
// error that is no caller's mistake is returned to the renderer instead.
func (s *pages) invalid(w http.ResponseWriter, r *http.Request, v *view, name string, data any, err error) error {
	status := refserver.HTTPStatus(errs.KindOf(err))
	if status >= 500 || status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound {
		return err
	}
	v.Form = r.PostForm
	if v.Form == nil {
		v.Form = r.Form
	}
	field, msg := "", err.Error()
	var e *errs.Error
	if errors.As(err, &e) {
		field, msg = e.Field, e.Msg
		if msg == "" {
			msg = err.Error()
		}
	}
	if field != "" {
		v.Errors = map[string]string{field: msg}
	}
	v.Notice, v.Failed = v.T("form.fix"), true
	if field == "" {
		v.Notice = msg
	}
	if status == http.StatusBadRequest {
		status = http.StatusUnprocessableEntity
	}
	refserver.SetRetryAfter(w, err)
	return s.render(w, status, name, data)
}

// see answers 303 See Other to path: the page after a form's success.
func see(w http.ResponseWriter, r *http.Request, path string) error {
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

// field is one labelled input of a form, for the shell's "input" and
// "select" templates: its name (also its id), label, type, hint, whether
// it is required, its value (what was typed, else Value), its error, and
// a select's options.
type field struct {
	Name, Label, Type, Hint, Value, Error, Autocomplete string
	Required                                            bool
	Options                                             []option
}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// F is the input name labelled by the catalog's key label, of HTML type
// typ ("text" when ""), showing value unless a form is shown again. Flags
// in more: "required", "hint=<catalog key>", "auto=<autocomplete>".
func (v *view) F(name, label, typ, value string, more ...string) field {
	f := field{Name: name, Label: v.T(label), Type: typ, Value: value, Error: v.Errors[name]}
	if f.Type == "" {
		f.Type = "text"
	}
	if v.Form != nil {
		f.Value = v.Form.Get(name)
	}
	if f.Type == "password" {
		f.Value = "" // never sent back
	}
	for _, m := range more {
		switch k, val, _ := strings.Cut(m, "="); k {
		case "required":
			f.Required = true
		case "hint":
			f.Hint = v.T(val)
		case "auto":
			f.Autocomplete = val
		}
	}
	return f
}

// S is the select name labelled by label, with opts; the option whose
// value was typed (or is selected) is selected.
func (v *view) S(name, label string, opts []option, more ...string) field {
	f := v.F(name, label, "select", "", more...)
	chosen := f.Value
	out := make([]option, len(opts))
	for i, o := range opts {
		if v.Form != nil {
			o.Selected = o.Value == chosen
		}
		out[i] = o
	}
	f.Options = out
	return f
}

// viewRow is one row of a list with the view it is shown in, for a
// partial template that words the row: {{template "x" ($.Of .)}}, the
// row as .R and the catalog as .T.
type viewRow struct {
	*view
	R any
}

// Of pairs row with v.
func (v *view) Of(row any) viewRow { return viewRow{view: v, R: row} }
