package refserver

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
)

// Cookie and header names of session authentication.
const (
	// SessionCookie carries the session token of a browser; HttpOnly.
	SessionCookie = "carebook_session"
	// CSRFCookie carries the CSRF token, readable by the page's scripts,
	// which echo it in CSRFHeader (double submit).
	CSRFCookie = "carebook_csrf"
	// CSRFHeader must equal CSRFCookie on every state-changing request
	// authenticated by the session cookie...
	CSRFHeader = "X-CSRF-Token"
	// CSRFField is the form field that may carry it instead, for HTML forms
	// posted without JavaScript.
	CSRFField = "csrf_token"
	// SignInPath is the page a signed-out visitor of a page is sent to.
	SignInPath = "/signin"
	// MFAEnrollPath is the page a staff session that must still enroll
	// in two-factor authentication is sent to from every other page.
	MFAEnrollPath = "/account/mfa"
)

// APIKeyActorPrefix starts the actor.Actor ID of a request made with an API
// key: "apikey:<key id>", of kind actor.System.
const APIKeyActorPrefix = "apikey:"

// Credentials are who a request proved to be: a session (with its token)
// or an API key.
type Credentials struct {
	Session *identity.Session
	Token   string
	Key     *identity.APIKey
	Cookie  bool // the session came in the cookie, not the Authorization header
	// principal is read once per request (Server.principal) and shared by
	// the route's authorization and its handler.
	principal *rbac.Principal
}

// Actor is the actor.Actor the credentials act as.
func (c *Credentials) Actor() actor.Actor {
	if c.Key != nil {
		return actor.Actor{Kind: actor.System, ID: APIKeyActorPrefix + c.Key.ID.String()}
	}
	k := actor.Patient
	if c.Session.Kind == identity.Staff {
		k = actor.Staff
	}
	return actor.Actor{Kind: k, ID: c.Session.AccountID.String()}
}

type credentialsKey struct{}

// CredentialsFrom returns the credentials SessionAuth put in ctx, or nil.
func CredentialsFrom(ctx context.Context) *Credentials {
	c, _ := ctx.Value(credentialsKey{}).(*Credentials)
	return c
}

// SessionFrom returns the session a request served behind SessionAuth was
// authenticated with, if it was one.
func SessionFrom(ctx context.Context) (*identity.Session, bool) {
	if c := CredentialsFrom(ctx); c != nil && c.Session != nil {
		return c.Session, true
	}
	return nil, false
}

// APIKeyFrom returns the API key a request served behind SessionAuth was
// authenticated with, if it was one.
func APIKeyFrom(ctx context.Context) (*identity.APIKey, bool) {
	if c := CredentialsFrom(ctx); c != nil && c.Key != nil {
		return c.Key, true
	}
	return nil, false
}

// authenticateRequest reads the credentials of r: "Authorization: Bearer"
// with a session token or an API key (cbk_…), else the session cookie. It
// returns nil and no error when r carries none. Unknown, expired and
// revoked credentials are KindUnauthenticated; a state-changing request
// authenticated by the cookie whose CSRFHeader does not equal CSRFCookie is
// KindForbidden.
func authenticateRequest(r *http.Request, ids *identity.Service) (*Credentials, error) {
	const op = "refserver.authenticate"
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return nil, &errs.Error{Kind: errs.KindUnauthenticated, Op: op, Field: "Authorization", Msg: "want Bearer <session token or API key>"}
		}
		if strings.HasPrefix(tok, identity.APIKeyPrefix) {
			k, err := ids.AuthenticateAPIKey(ctx, tok)
			if err != nil {
				return nil, err
			}
			return &Credentials{Key: k}, nil
		}
		sess, err := ids.Authenticate(ctx, tok)
		if err != nil {
			return nil, err
		}
		return &Credentials{Session: sess, Token: tok}, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	sess, err := ids.Authenticate(ctx, c.Value)
	if err != nil {
		return nil, err
	}
	if !safeMethod(r.Method) && !csrfMatches(r) {
		return nil, &errs.Error{Kind: errs.KindForbidden, Op: op, Field: CSRFHeader,
			Msg: "a request signed in by cookie must echo the " + CSRFCookie + " cookie in " + CSRFHeader}
	}
	return &Credentials{Session: sess, Token: c.Value, Cookie: true}, nil
}

// safeMethod reports whether method changes nothing, so that it needs no
// CSRF token.
func safeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// csrfMatches reports whether r's CSRFHeader (or, in a posted form, its
// CSRFField) equals its CSRFCookie, both present.
func csrfMatches(r *http.Request) bool {
	c, err := r.Cookie(CSRFCookie)
	h := r.Header.Get(CSRFHeader)
	if h == "" && isForm(r) {
		h = r.PostFormValue(CSRFField)
	}
	if err != nil || c.Value == "" || h == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(h)) == 1
}

// isForm reports whether r's body is an HTML form. Its body is bounded
// (1 MiB) before anything parses it.
func isForm(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" && ct != "multipart/form-data" {
		return false
	}
	if r.PostForm == nil {
		r.Body = http.MaxBytesReader(nil, r.Body, DefaultMaxBodyBytes)
	}
	return true
}

// routeOpen reports whether the route r matches is open without
// credentials (its access is public or signed), and whether a session
// that must still enroll in MFA may reach it (signed-in routes: the MFA,
// logout, session and password routes). Both are read from the route
// table, which the Server put in r's context; outside a Server no route is
// open.
func routeOpen(r *http.Request) (open, enrolling bool) {
	i := infoFrom(r.Context())
	if i == nil || !i.matched {
		return false, false
	}
	k := i.access.kind
	return k == accessPublic || k == accessSigned || k == accessOperator, k == accessSignedIn
}

// SessionAuth returns a middleware for Options.Authenticate that
// authenticates each request against ids: "Authorization: Bearer <session
// token>", "Authorization: Bearer cbk_…" (an API key), or the session
// cookie, in which case state-changing methods must echo the CSRF cookie in
// X-CSRF-Token (else 403). It puts the actor in the context: staff or
// patient with the account ID for a session, actor.System with
// "apikey:<id>" for an API key. Unknown, expired and revoked credentials,
// and requests without any, get 401, except on the routes the route table
// marks Public or Signed (the operational routes, the auth endpoints that
// come before a session: login, registration, email verification,
// invitation acceptance; webhooks and email links), which pass with the
// actor of valid credentials or with none. A session that must still
// enroll in MFA reaches only the routes marked SignedInOnly (the MFA,
// logout, session and password routes; else 403). It must run inside a
// Server (as Options.Authenticate), which tells it the route.
func SessionAuth(ids *identity.Service) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			open, enrolling := routeOpen(r)
			c, err := authenticateRequest(r, ids)
			switch {
			case open && (err != nil || c == nil):
				next.ServeHTTP(w, r)
				return
			case onPage(r) && (c == nil || errs.KindOf(err) == errs.KindUnauthenticated):
				toSignIn(w, r, err != nil)
				return
			case err != nil:
				problemWithoutServer(w, r, err)
				return
			case c == nil:
				problemWithoutServer(w, r, errs.E(errs.KindUnauthenticated, "refserver.SessionAuth", "sign in, or send a session token or API key"))
				return
			case c.Session != nil && c.Session.NeedsMFAEnrollment && !open && !enrolling && onPage(r):
				http.Redirect(w, r, MFAEnrollPath, http.StatusSeeOther)
				return
			case c.Session != nil && c.Session.NeedsMFAEnrollment && !open && !enrolling:
				problemWithoutServer(w, r, &errs.Error{Kind: errs.KindForbidden, Op: "refserver.SessionAuth", Field: "totp_code",
					Msg: "your practice requires two-factor authentication: enroll first"})
				return
			}
			ctx := context.WithValue(r.Context(), credentialsKey{}, c)
			next.ServeHTTP(w, r.WithContext(actor.With(ctx, c.Actor())))
		})
	}
}

// onPage reports whether r is for a page route.
func onPage(r *http.Request) bool {
	i := infoFrom(r.Context())
	return i != nil && i.matched && i.kind == pageRoute
}

// toSignIn sends the visitor of a page who is not signed in to the
// sign-in page, which brings them back to where they were going (a GET's
// own path; a form's page is not replayed). ended tells that their
// session cookie no longer signs in (it expired after inactivity, or was
// revoked): the cookies are cleared and the page says so.
func toSignIn(w http.ResponseWriter, r *http.Request, ended bool) {
	q := url.Values{}
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		q.Set("next", r.URL.RequestURI())
	}
	if ended {
		ClearSessionCookies(w, r)
		q.Set("ended", "1")
	}
	to := SignInPath
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// SignedIn returns the session r was authenticated with: from SessionAuth,
// or (behind another Authenticate) from r's own credentials. API keys do
// not do here (KindUnauthenticated).
func (s *Server) SignedIn(r *http.Request) (*Credentials, error) {
	const op = "refserver.signedIn"
	c := CredentialsFrom(r.Context())
	if c == nil {
		var err error
		if c, err = authenticateRequest(r, s.engine.Identity); err != nil {
			return nil, err
		}
	}
	switch {
	case c == nil:
		return nil, errs.E(errs.KindUnauthenticated, op, "sign in first")
	case c.Session == nil:
		return nil, errs.E(errs.KindUnauthenticated, op, "this route needs a signed-in account, not an API key")
	}
	return c, nil
}

// SetSessionCookies sets the session cookie (HttpOnly) carrying token and
// a new CSRF cookie (readable by scripts, echoed in CSRFHeader or a form's
// CSRFField), both SameSite=Lax, expiring at expires, and Secure unless r
// is plain http to the loopback interface. It returns the CSRF token.
func SetSessionCookies(w http.ResponseWriter, r *http.Request, token string, expires time.Time) string {
	csrf := NewCSRFToken()
	secure := secureCookies(r)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: csrf, Path: "/", Expires: expires,
		Secure: secure, SameSite: http.SameSiteLaxMode})
	return csrf
}

// ClearSessionCookies tells the browser to forget both cookies.
func ClearSessionCookies(w http.ResponseWriter, r *http.Request) {
	secure := secureCookies(r)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Path: "/", MaxAge: -1, Secure: secure, SameSite: http.SameSiteLaxMode})
}

// NewCSRFToken returns a new random CSRF token (256 bits, base64url).
func NewCSRFToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// loopbackHost reports whether host (a Host header, with or without port)
// names the loopback interface.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// secureCookies reports whether cookies set in answer to r must be Secure:
// always, except for plain http to the loopback interface (development).
func secureCookies(r *http.Request) bool {
	return r.TLS != nil || !loopbackHost(r.Host)
}
