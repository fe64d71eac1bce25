package web

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/google/uuid"
)

// Signing in and out, the root page and the language switch.

// signInRoutes are the pages before and around a session.
func (s *pages) signInRoutes() []refserver.Route {
	return []refserver.Route{
		route("GET", "/{$}", s.root, "The root: the search of the directory (find a doctor), or the signed-in account's home", refserver.Public()),
		route("GET", "/signin", s.showSignIn, "The sign-in page", refserver.Public()),
		route("POST", "/signin", s.signIn, "Sign in with email, password and a TOTP code when enrolled", refserver.Public()),
		route("POST", "/signout", s.signOut, "Sign out", refserver.SignedInOnly()),
		route("GET", "/lang/{lang}", s.setLang, "Show the pages in another language", refserver.Public()),
	}
}

// signInPage is the sign-in form.
type signInPage struct {
	*view
	Next    string
	Ended   bool
	AskCode bool
}

// Register is where a visitor without an account signs up on the way to
// Next: the registration of the practice Next is a page of, carrying Next
// along; "" when Next is no practice's page.
func (p *signInPage) Register() string {
	base := practiceOfPath(p.Next)
	if base == "" {
		return ""
	}
	return base + "/register?" + url.Values{"next": {p.Next}}.Encode()
}

// practiceOfPath is "/p/{practice}" when path is a page of that practice
// (under "/p/{practice}/"), else "".
func practiceOfPath(path string) string {
	rest, ok := strings.CutPrefix(path, "/p/")
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, "/")
	if _, err := uuid.Parse(id); !ok || err != nil || len(id) != 36 {
		return ""
	}
	return "/p/" + id
}

// root shows a visitor the search of the directory (find.go), a public
// page, and sends a signed-in account to its home.
func (s *pages) root(w http.ResponseWriter, r *http.Request) error {
	if c := refserver.CredentialsFrom(r.Context()); c != nil && c.Session != nil {
		return see(w, r, s.home(r, c))
	}
	return s.homeFind(w, r)
}

// home is where a signed-in account starts: a patient's visits, the front
// desk's calendar, or an administrator's setup.
func (s *pages) home(r *http.Request, c *refserver.Credentials) string {
	base := practicePath(c.Session.PracticeID)
	if c.Session.Kind == identity.Patient {
		return base + "/visits"
	}
	if c.Session.NeedsMFAEnrollment {
		return refserver.MFAEnrollPath
	}
	pr, err := s.srv.Principal(r, c)
	if err != nil {
		return "/account"
	}
	p, err := s.engine.Tenants.Practice(r.Context(), c.Session.PracticeID)
	if err != nil {
		return "/account"
	}
	t := rbac.Target{GroupID: p.GroupID, PracticeID: p.ID}
	switch {
	case pr.Can(rbac.CalendarRead, t):
		return base + "/calendar"
	case pr.Can(rbac.PracticeManage, t):
		return base + "/setup"
	}
	return "/account"
}

func (s *pages) showSignIn(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "signin.title")
	v.CSRF = preSessionCSRF(w, r)
	p := &signInPage{view: v, Next: localPath(r.URL.Query().Get("next")), Ended: r.URL.Query().Get("ended") == "1"}
	return s.render(w, http.StatusOK, "signin.html", p)
}

func (s *pages) signIn(w http.ResponseWriter, r *http.Request) error {
	const op = "web.signIn"
	v := s.newView(r, "signin.title")
	p := &signInPage{view: v, Next: localPath(r.PostFormValue("next"))}
	if err := checkFormCSRF(r); err != nil {
		v.CSRF = preSessionCSRF(w, r)
		return s.invalid(w, r, v, "signin.html", p, err)
	}
	email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
	code := strings.TrimSpace(r.PostFormValue("totp_code"))
	p.AskCode = code != ""
	var err error
	switch {
	case email == "":
		err = errs.Invalid(op, "email", v.T("signin.email_required"))
	case password == "":
		err = errs.Invalid(op, "password", v.T("signin.password_required"))
	default:
		err = s.srv.CheckAttempt(r, email)
	}
	if err != nil {
		return s.invalid(w, r, v, "signin.html", p, err)
	}
	req := identity.LoginRequest{Identifier: email, Password: password, Device: "browser", IP: refserver.ClientIP(r), UserAgent: r.UserAgent()}
	if isTOTPCode(code) {
		req.TOTPCode = strings.ReplaceAll(code, " ", "")
	} else {
		// The field takes a recovery code too, as its hint says.
		req.RecoveryCode = code
	}
	tok, sess, err := s.engine.Login(r.Context(), req)
	if err != nil {
		if errs.KindOf(err) == errs.KindUnauthenticated {
			// The same words whatever was wrong.
			if f := errs.FieldOf(err); f == "totp_code" || f == "recovery_code" {
				msg := v.T("signin.code_refused")
				if !p.AskCode {
					msg = v.T("signin.code_needed")
				}
				p.AskCode = true
				err = errs.Invalid(op, "totp_code", msg)
			} else {
				err = errs.Invalid(op, "password", v.T("signin.refused"))
			}
		}
		return s.invalid(w, r, v, "signin.html", p, err)
	}
	refserver.SetSessionCookies(w, r, tok, sess.ExpiresAt)
	if p.Next != "" {
		return see(w, r, p.Next)
	}
	return see(w, r, s.home(r, &refserver.Credentials{Session: sess, Token: tok}))
}

// isTOTPCode reports whether code is a TOTP code (6 digits, spaces
// allowed) rather than a recovery code; "" is neither and counts as one.
func isTOTPCode(code string) bool {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != 6 && code != "" {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (s *pages) signOut(w http.ResponseWriter, r *http.Request) error {
	c := refserver.CredentialsFrom(r.Context())
	if c == nil || c.Session == nil {
		return see(w, r, refserver.SignInPath)
	}
	if err := s.engine.Logout(r.Context(), c.Token, c.Session); err != nil {
		return err
	}
	refserver.ClearSessionCookies(w, r)
	return see(w, r, refserver.SignInPath)
}

// setLang keeps the visitor's language for a year and goes back to the
// page named by next.
func (s *pages) setLang(w http.ResponseWriter, r *http.Request) error {
	l := r.PathValue("lang")
	if _, ok := catalogs[l]; !ok {
		return &refserver.PageError{Status: http.StatusNotFound, Title: "Not found", Text: "There are no pages in that language.",
			Err: errs.NotFound("web.setLang", "lang")}
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
	back := localPath(r.URL.Query().Get("next"))
	if back == "" {
		back = "/"
	}
	return see(w, r, back)
}

// localPath is p when it is a path of this server ("/…", not "//…"), else
// "": where a form may send its visitor next.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return ""
	}
	return p
}

// preSessionCSRF is the CSRF token of a form shown before a session (sign
// in, registration): the CSRF cookie's, set now when the visitor has none.
func preSessionCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(refserver.CSRFCookie); err == nil && c.Value != "" {
		return c.Value
	}
	tok := refserver.NewCSRFToken()
	http.SetCookie(w, &http.Cookie{Name: refserver.CSRFCookie, Value: tok, Path: "/", SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	return tok
}

// checkFormCSRF refuses a form posted to a public page without the CSRF
// token of its cookie (pages behind a session are checked by SessionAuth).
func checkFormCSRF(r *http.Request) error {
	c, err := r.Cookie(refserver.CSRFCookie)
	f := r.PostFormValue(refserver.CSRFField)
	if err != nil || c.Value == "" || f == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(f)) != 1 {
		return errs.E(errs.KindInvalid, "web.csrf", "the form has expired: please send it again")
	}
	return nil
}
