package web

import (
	"net/http"
	"strings"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
)

// Onboarding: a new clinic signs up (its first administrator's email and
// password, and its name), is signed in, and is led through its first
// steps: a location, a provider, a visit type and a weekly block, and then
// the link of its patients' booking page.

// onboardingPage is the sign-up form; InviteOnly asks for the operator's
// invitation code too.
type onboardingPage struct {
	*view
	InviteOnly bool
}

func (s *pages) showOnboarding(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.onboarding.title")
	v.CSRF = preSessionCSRF(w, r)
	return s.render(w, http.StatusOK, "admin_onboarding.html", &onboardingPage{view: v, InviteOnly: s.engine.SignUpMode() == carebook.SignUpInvite})
}

func (s *pages) onboard(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.onboarding.title")
	p := &onboardingPage{view: v, InviteOnly: s.engine.SignUpMode() == carebook.SignUpInvite}
	if err := checkFormCSRF(r); err != nil {
		v.CSRF = preSessionCSRF(w, r)
		return s.invalid(w, r, v, "admin_onboarding.html", p, err)
	}
	email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
	out, err := s.engine.SignUpClinic(r.Context(), carebook.ClinicSignUp{Email: email, Password: password, ClinicName: r.PostFormValue("clinic_name"),
		Invitation: r.PostFormValue("invitation")})
	if err != nil {
		return s.invalid(w, r, v, "admin_onboarding.html", p, err)
	}
	tok, sess, err := s.engine.Login(r.Context(), identity.LoginRequest{Identifier: email, Password: password,
		Device: "browser", IP: refserver.ClientIP(r), UserAgent: r.UserAgent()})
	if err != nil {
		// The clinic exists: its administrator signs in as usual.
		return see(w, r, refserver.SignInPath)
	}
	refserver.SetSessionCookies(w, r, tok, sess.ExpiresAt)
	return see(w, r, practicePath(out.Practice.ID)+"/setup/start")
}

// startStep is one of a new practice's first steps.
type startStep struct {
	Label, Text, Href string
	Done, Next        bool
}

// startPage is the first steps, and the booking link once they are done.
type startPage struct {
	*view
	Steps []startStep
	// BookPath and BookURL are the patients' booking page, once bookable.
	BookPath, BookURL string
	Ready             bool
}

// showStart shows the first steps, each done or not, the next one first to
// do, and the booking page's link once the practice has open times.
func (s *pages) showStart(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.start.title")
	if v.Practice == nil {
		return errs.NotFound("web.showStart", "practice")
	}
	ctx, pid := r.Context(), v.Practice.ID
	base := practicePath(pid) + "/setup"
	locs, err := s.engine.Tenants.Locations(ctx, pid)
	if err != nil {
		return err
	}
	provs, err := s.engine.Scheduling.Providers(ctx, pid, scheduling.ProviderFilter{Limit: 1})
	if err != nil {
		return err
	}
	vts, err := s.engine.Scheduling.VisitTypes(ctx, pid)
	if err != nil {
		return err
	}
	blocks, err := s.engine.Scheduling.Blocks(ctx, pid, scheduling.BlockFilter{})
	if err != nil {
		return err
	}
	p := &startPage{view: v, Steps: []startStep{
		{v.T("admin.start.location"), v.T("admin.start.location_text"), base + "/locations?flow=start", len(locs) > 0, false},
		{v.T("admin.start.provider"), v.T("admin.start.provider_text"), base + "/providers?flow=start", len(provs) > 0, false},
		{v.T("admin.start.visit_type"), v.T("admin.start.visit_type_text"), base + "/visit-types?flow=start", len(vts) > 0, false},
		{v.T("admin.start.block"), v.T("admin.start.block_text"), base + "/blocks/new?flow=start", len(blocks) > 0, false},
	}}
	p.Ready = true
	for i := range p.Steps {
		if !p.Steps[i].Done {
			p.Steps[i].Next, p.Ready = p.Ready, false
		}
	}
	p.BookPath = practicePath(pid) + "/book"
	p.BookURL = publicBase(r, s.opts) + p.BookPath
	return s.render(w, http.StatusOK, "admin_start.html", p)
}

// publicBase is the server's address as patients reach it: the configured
// public URL, else the scheme and host r came to.
func publicBase(r *http.Request, o refserver.Options) string {
	if o.PublicURL != "" {
		return strings.TrimSuffix(o.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
