package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
)

// The signed-in account's own pages: who it is, its sessions and devices,
// its password and its second factor (mfa.go). They need a session and no
// permission, so that a staff session that must still enroll in MFA
// reaches them too.

// accountRoutes are the account's pages; they need a session and no
// permission.
func (s *pages) accountRoutes() []refserver.Route {
	return []refserver.Route{
		route("GET", "/account", s.showAccount, "The signed-in account: sessions, password, two-factor authentication", refserver.SignedInOnly()),
		route("POST", "/account/sessions/revoke", s.revokeSession, "End one of the account's sessions", refserver.SignedInOnly()),
		route("POST", "/account/signout-everywhere", s.signOutEverywhere, "End every session of the account, this one too", refserver.SignedInOnly()),
		route("POST", "/account/password", s.changePassword, "Change the account's password, ending its other sessions", refserver.SignedInOnly()),
		route("GET", refserver.MFAEnrollPath, s.showMFA, "Two-factor authentication: its state, and enrolment", refserver.SignedInOnly()),
		route("POST", refserver.MFAEnrollPath, s.enrollMFA, "Start TOTP enrolment (the QR code), or confirm it with a first code", refserver.SignedInOnly()),
	}
}

// accountPage is the account's page.
type accountPage struct {
	*view
	Home     string
	Sessions []sessionRow
	TOTP     bool
	// MustEnroll: the practice requires two-factor authentication of its
	// staff, and this account has none yet.
	MustEnroll bool
}

// sessionRow is one live session, in words.
type sessionRow struct {
	ID, Device, Where, Since, LastUsed string
	Current                            bool
}

// accountDone are the notices of the account page after a change.
var accountDone = map[string]string{"revoked": "account.session_revoked", "password": "account.password_changed"}

func (s *pages) showAccount(w http.ResponseWriter, r *http.Request) error {
	p, err := s.accountPage(r)
	if err != nil {
		return err
	}
	if k, ok := accountDone[r.URL.Query().Get("done")]; ok {
		p.Notice = p.T(k)
	}
	return s.render(w, http.StatusOK, "account.html", p)
}

// accountPage reads what the account page shows.
func (s *pages) accountPage(r *http.Request) (*accountPage, error) {
	ctx := r.Context()
	c, err := s.srv.SignedIn(r)
	if err != nil {
		return nil, err
	}
	v := s.newView(r, "account.title")
	p := &accountPage{view: v, Home: s.home(r, c), MustEnroll: c.Session.NeedsMFAEnrollment}
	a, err := s.engine.Identity.Account(ctx, c.Session.AccountID)
	if err != nil {
		return nil, err
	}
	p.TOTP = a.TOTPEnabled
	live, err := s.engine.Identity.ListSessions(ctx, c.Session.AccountID)
	if err != nil {
		return nil, err
	}
	loc := s.zoneOf(ctx, c.Session.PracticeID)
	for _, x := range live {
		row := sessionRow{ID: x.ID.String(), Device: deviceWords(v, x), Where: x.IP,
			Since: v.when(x.CreatedAt, loc), LastUsed: v.when(x.LastUsedAt, loc), Current: x.ID == c.Session.ID}
		p.Sessions = append(p.Sessions, row)
	}
	return p, nil
}

// deviceWords names a session's device for its owner: its browser, as
// its user agent tells, else the device it named.
func deviceWords(v *view, x *identity.Session) string {
	ua := x.UserAgent
	for _, b := range []string{"Edg/", "Firefox/", "Chrome/", "Safari/"} {
		if strings.Contains(ua, b) {
			name := strings.TrimSuffix(b, "/")
			if name == "Edg" {
				name = "Edge"
			}
			return v.T("account.browser", name)
		}
	}
	if x.Device != "" {
		return x.Device
	}
	return v.T("account.unknown_device")
}

// zoneOf is the time zone of practice's first location, else UTC: the
// clock the practice's staff read.
func (s *pages) zoneOf(ctx context.Context, practice tenant.PracticeID) *time.Location {
	locs, err := s.engine.Tenants.Locations(ctx, practice)
	if err != nil || len(locs) == 0 {
		return time.UTC
	}
	if l, err := time.LoadLocation(locs[0].TimeZone); err == nil {
		return l
	}
	return time.UTC
}

// when is t in loc, as the page's language writes a date and time.
func (v *view) when(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(v.T("staff.time_layout"))
}

func (s *pages) revokeSession(w http.ResponseWriter, r *http.Request) error {
	c, err := s.srv.SignedIn(r)
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("session_id", r.PostFormValue("session_id"))
	if err == nil {
		err = errs.WithField(s.engine.RevokeSession(r.Context(), c.Session, id), "session_id")
	}
	if err != nil {
		return s.accountInvalid(w, r, err)
	}
	if id == c.Session.ID {
		refserver.ClearSessionCookies(w, r)
		return see(w, r, refserver.SignInPath)
	}
	return see(w, r, "/account?done=revoked")
}

func (s *pages) signOutEverywhere(w http.ResponseWriter, r *http.Request) error {
	c, err := s.srv.SignedIn(r)
	if err != nil {
		return err
	}
	if _, err := s.engine.LogoutEverywhere(r.Context(), c.Session); err != nil {
		return err
	}
	refserver.ClearSessionCookies(w, r)
	return see(w, r, refserver.SignInPath)
}

// changePassword replaces the account's password (Engine.ChangePassword,
// which ends the account's other sessions), within the attempts
// CheckAttempt allows, as the API's does.
func (s *pages) changePassword(w http.ResponseWriter, r *http.Request) error {
	const op = "web.changePassword"
	c, err := s.srv.SignedIn(r)
	if err != nil {
		return err
	}
	old, next := r.PostFormValue("old_password"), r.PostFormValue("new_password")
	switch {
	case old == "":
		err = errs.Invalid(op, "old_password", "account.old_required")
	case next != r.PostFormValue("new_password_again"):
		err = errs.Invalid(op, "new_password_again", "account.passwords_differ")
	default:
		if err = s.srv.CheckAttempt(r, c.Session.AccountID.String()); err == nil {
			err = s.engine.ChangePassword(r.Context(), c.Session, old, next)
		}
	}
	if errs.KindOf(err) == errs.KindUnauthenticated {
		err = errs.Invalid(op, "old_password", "account.old_refused")
	}
	if err != nil {
		return s.accountInvalid(w, r, err)
	}
	return see(w, r, "/account?done=password")
}

// accountInvalid shows the account page again with err next to its
// field; a message that is a catalog key is shown in the page's language.
func (s *pages) accountInvalid(w http.ResponseWriter, r *http.Request, err error) error {
	p, perr := s.accountPage(r)
	if perr != nil {
		return perr
	}
	return s.invalid(w, r, p.view, "account.html", p, translated(p.view, fieldRefusal(err)))
}

// translated is err with its message in v's language when the message is
// a key of the catalog.
func translated(v *view, err error) error {
	e, ok := err.(*errs.Error)
	if !ok {
		return err
	}
	if _, known := v.cat[e.Msg]; known {
		c := *e
		c.Msg = v.T(e.Msg)
		return &c
	}
	return err
}
