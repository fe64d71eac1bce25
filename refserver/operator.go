package refserver

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/errs"
)

// The operator's support panel authenticates on its own: the support
// staff member's session token rides in OperatorCookie and its CSRF token
// in OperatorCSRFCookie, both scoped to OperatorPath so that a browser
// never sends them to a practice's pages or the API, and neither is an
// account's. A route of the panel (Operator) gets carebook.WithOperator
// in its context and nothing of an account's; an account's session gets
// nothing there.

// The support panel's paths and cookies.
const (
	// OperatorPath is the prefix of the panel's pages and its cookies' Path.
	OperatorPath = "/ops"
	// OperatorSignInPath is the panel's sign-in page.
	OperatorSignInPath = OperatorPath + "/signin"
	// OperatorCookie carries a support session's token; HttpOnly.
	OperatorCookie = "carebook_ops_session"
	// OperatorCSRFCookie carries the panel's CSRF token, echoed by every
	// form in CSRFField (double submit).
	OperatorCSRFCookie = "carebook_ops_csrf"
	// OperatorAPIPrefix is the prefix of the support staff's JSON API,
	// whose routes take a support session's token as a bearer token.
	OperatorAPIPrefix = "/api/v1/ops"
	// OperatorAPILoginPath is where the support staff sign in to the
	// JSON API, for a token.
	OperatorAPILoginPath = OperatorAPIPrefix + "/login"
)

// operatorOnly wraps next, a route of the panel, with the support
// session's check: a page visited without a live one goes to the panel's
// sign-in page; a form whose CSRFField does not echo OperatorCSRFCookie is
// KindForbidden. An API route takes the session's token in
// "Authorization: Bearer" instead (operatorAPI). next runs with the
// Operator in its context.
func (s *Server) operatorOnly(next func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		const op = "refserver.operatorOnly"
		if !onPage(r) {
			return s.operatorAPI(w, r, next)
		}
		c, err := r.Cookie(OperatorCookie)
		if err != nil || c.Value == "" {
			return s.toOperatorSignIn(w, r, false)
		}
		o, err := s.engine.OperatorAuthenticate(r.Context(), c.Value)
		if errs.Is(err, errs.KindUnauthenticated) {
			return s.toOperatorSignIn(w, r, true)
		}
		if err != nil {
			return err
		}
		if !safeMethod(r.Method) && !OperatorCSRFMatches(r) {
			return &errs.Error{Kind: errs.KindForbidden, Op: op, Field: CSRFField,
				Msg: "a form of the support panel must echo the " + OperatorCSRFCookie + " cookie in " + CSRFField}
		}
		return next(w, r.WithContext(carebook.WithOperator(r.Context(), *o)))
	}
}

// operatorAPI runs next, an API route of the support staff, with the
// Operator of the support session whose token r carries in
// "Authorization: Bearer" (from POST OperatorAPILoginPath). An account's
// valid credentials (a practice's staff, a patient, an API key) are
// KindForbidden: they never reach the support routes, whatever their
// grants. No token, or one that is not a live support session's, is
// KindUnauthenticated. A bearer token needs no CSRF token: a browser
// never sends it on its own.
func (s *Server) operatorAPI(w http.ResponseWriter, r *http.Request, next func(http.ResponseWriter, *http.Request) error) error {
	const op = "refserver.operatorAPI"
	if CredentialsFrom(r.Context()) != nil {
		return errs.E(errs.KindForbidden, op, "only the operator's support staff may do this; sign in at "+OperatorAPILoginPath)
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return errs.E(errs.KindUnauthenticated, op, "send a support session's token (POST "+OperatorAPILoginPath+") in Authorization: Bearer")
	}
	o, err := s.engine.OperatorAuthenticate(r.Context(), strings.TrimSpace(tok))
	if err != nil {
		return err
	}
	return next(w, r.WithContext(carebook.WithOperator(r.Context(), *o)))
}

// toOperatorSignIn sends a visitor of the panel without a live support
// session to its sign-in page (a page's GET), or answers 401; ended
// clears the cookies of a session that no longer signs in.
func (s *Server) toOperatorSignIn(w http.ResponseWriter, r *http.Request, ended bool) error {
	if ended {
		ClearOperatorCookies(w, r)
	}
	if r.Method != http.MethodGet {
		return errs.E(errs.KindUnauthenticated, "refserver.operatorOnly", "sign in to the support panel")
	}
	to := OperatorSignInPath
	if ended {
		to += "?ended=1"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// OperatorCSRFMatches reports whether r's posted CSRFField (or
// CSRFHeader) equals its OperatorCSRFCookie, both present.
func OperatorCSRFMatches(r *http.Request) bool {
	c, err := r.Cookie(OperatorCSRFCookie)
	h := r.Header.Get(CSRFHeader)
	if h == "" && isForm(r) {
		h = r.PostFormValue(CSRFField)
	}
	return err == nil && c.Value != "" && h != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(h)) == 1
}

// OperatorCSRF returns the panel's CSRF token of r, setting a new
// OperatorCSRFCookie when r carries none (the sign-in page, before any
// session).
func OperatorCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(OperatorCSRFCookie); err == nil && c.Value != "" {
		return c.Value
	}
	tok := NewCSRFToken()
	http.SetCookie(w, &http.Cookie{Name: OperatorCSRFCookie, Value: tok, Path: OperatorPath,
		Secure: secureCookies(r), SameSite: http.SameSiteStrictMode})
	return tok
}

// SetOperatorCookies sets the support session's cookie (HttpOnly) carrying
// token and a new CSRF cookie, both on OperatorPath, SameSite=Strict,
// expiring at expires. It returns the CSRF token.
func SetOperatorCookies(w http.ResponseWriter, r *http.Request, token string, expires time.Time) string {
	csrf, secure := NewCSRFToken(), secureCookies(r)
	http.SetCookie(w, &http.Cookie{Name: OperatorCookie, Value: token, Path: OperatorPath, Expires: expires,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: OperatorCSRFCookie, Value: csrf, Path: OperatorPath, Expires: expires,
		Secure: secure, SameSite: http.SameSiteStrictMode})
	return csrf
}

// ClearOperatorCookies tells the browser to forget the panel's cookies.
func ClearOperatorCookies(w http.ResponseWriter, r *http.Request) {
	secure := secureCookies(r)
	http.SetCookie(w, &http.Cookie{Name: OperatorCookie, Path: OperatorPath, MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: OperatorCSRFCookie, Path: OperatorPath, MaxAge: -1, Secure: secure, SameSite: http.SameSiteStrictMode})
}
