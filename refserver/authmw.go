package refserver

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

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
	// authenticated by the session cookie.
	CSRFHeader = "X-CSRF-Token"
)

// APIKeyActorPrefix starts the actor.Actor ID of a request made with an API
// key: "apikey:<key id>", of kind actor.System.
const APIKeyActorPrefix = "apikey:"

// credentials is who a request proved to be: a session (with its token) or
// an API key.
type credentials struct {
	session *identity.Session
	token   string
	key     *identity.APIKey
	cookie  bool // the session came in the cookie, not the Authorization header
	// principal is read once per request (Server.principal) and shared by
	// the route's authorization and its handler.
	principal *rbac.Principal
}

// actor is the actor.Actor the credentials act as.
func (c *credentials) actor() actor.Actor {
	if c.key != nil {
		return actor.Actor{Kind: actor.System, ID: APIKeyActorPrefix + c.key.ID.String()}
	}
	k := actor.Patient
	if c.session.Kind == identity.Staff {
		k = actor.Staff
	}
	return actor.Actor{Kind: k, ID: c.session.AccountID.String()}
}

type credentialsKey struct{}

// credentialsFrom returns the credentials SessionAuth put in ctx, or nil.
func credentialsFrom(ctx context.Context) *credentials {
	c, _ := ctx.Value(credentialsKey{}).(*credentials)
	return c
}

// SessionFrom returns the session a request served behind SessionAuth was
// authenticated with, if it was one.
func SessionFrom(ctx context.Context) (*identity.Session, bool) {
	if c := credentialsFrom(ctx); c != nil && c.session != nil {
		return c.session, true
	}
	return nil, false
}

// APIKeyFrom returns the API key a request served behind SessionAuth was
// authenticated with, if it was one.
func APIKeyFrom(ctx context.Context) (*identity.APIKey, bool) {
	if c := credentialsFrom(ctx); c != nil && c.key != nil {
		return c.key, true
	}
	return nil, false
}

// authenticateRequest reads the credentials of r: "Authorization: Bearer"
// with a session token or an API key (cbk_…), else the session cookie. It
// returns nil and no error when r carries none. Unknown, expired and
// revoked credentials are KindUnauthenticated; a state-changing request
// authenticated by the cookie whose CSRFHeader does not equal CSRFCookie is
// KindForbidden.
func authenticateRequest(r *http.Request, ids *identity.Service) (*credentials, error) {
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
			return &credentials{key: k}, nil
		}
		sess, err := ids.Authenticate(ctx, tok)
		if err != nil {
			return nil, err
		}
		return &credentials{session: sess, token: tok}, nil
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
	return &credentials{session: sess, token: c.Value, cookie: true}, nil
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

// csrfMatches reports whether r's CSRFHeader equals its CSRFCookie, both
// present.
func csrfMatches(r *http.Request) bool {
	c, err := r.Cookie(CSRFCookie)
	h := r.Header.Get(CSRFHeader)
	if err != nil || c.Value == "" || h == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(h)) == 1
}

// publicRoutes are the routes SessionAuth lets through without credentials:
// the operational ones, the auth endpoints that come before a session, and
// the signed ones (webhooks and email links).
var publicRoutes = []string{
	"POST /webhooks/twilio/{practice}/sms",
	"POST /webhooks/twilio/{practice}/status",
	"POST /webhooks/sendgrid/events",
	"GET /l/{token}",
	"POST /l/{token}",
	"GET /healthz",
	"GET /readyz",
	"GET /metrics",
	"GET /api/openapi.json",
	"POST /api/v1/auth/login",
	"POST " + practicePrefix + "/registrations",
	"POST /api/v1/auth/verify-email",
	"POST /api/v1/auth/invitations/accept",
}

// mfaEnrollmentRoutes are the routes a session that must enroll in MFA may
// reach before it has.
var mfaEnrollmentRoutes = []string{
	"POST /api/v1/auth/mfa/totp",
	"POST /api/v1/auth/mfa/totp/confirm",
	"POST /api/v1/auth/logout",
	"POST /api/v1/auth/logout-everywhere",
	"GET /api/v1/auth/sessions",
	"DELETE /api/v1/auth/sessions/{session}",
	"POST /api/v1/auth/password",
}

// matcher tells whether a request matches one of a few route patterns.
type matcher struct{ mux *http.ServeMux }

func newMatcher(patterns []string) matcher {
	m := matcher{http.NewServeMux()}
	for _, p := range patterns {
		m.mux.Handle(p, http.NotFoundHandler())
	}
	return m
}

func (m matcher) match(r *http.Request) bool {
	_, pattern := m.mux.Handler(r)
	return pattern != ""
}

// SessionAuth returns a middleware for Options.Authenticate that
// authenticates each request against ids: "Authorization: Bearer <session
// token>", "Authorization: Bearer cbk_…" (an API key), or the session
// cookie, in which case state-changing methods must echo the CSRF cookie in
// X-CSRF-Token (else 403). It puts the actor in the context: staff or
// patient with the account ID for a session, actor.System with
// "apikey:<id>" for an API key. Unknown, expired and revoked credentials,
// and requests without any, get 401, except on the operational routes and
// the auth endpoints that come before a session (login, registration,
// email verification, invitation acceptance), which pass with the actor of
// valid credentials or with none. A session that must still enroll in MFA
// reaches only the MFA, logout and session routes (else 403).
func SessionAuth(ids *identity.Service) func(http.Handler) http.Handler {
	public, enrolling := newMatcher(publicRoutes), newMatcher(mfaEnrollmentRoutes)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			open := public.match(r)
			c, err := authenticateRequest(r, ids)
			switch {
			case open && (err != nil || c == nil):
				next.ServeHTTP(w, r)
				return
			case err != nil:
				problemWithoutServer(w, r, err)
				return
			case c == nil:
				problemWithoutServer(w, r, errs.E(errs.KindUnauthenticated, "refserver.SessionAuth", "sign in, or send a session token or API key"))
				return
			case c.session != nil && c.session.NeedsMFAEnrollment && !open && !enrolling.match(r):
				problemWithoutServer(w, r, &errs.Error{Kind: errs.KindForbidden, Op: "refserver.SessionAuth", Field: "totp_code",
					Msg: "your practice requires two-factor authentication: enroll first"})
				return
			}
			ctx := context.WithValue(r.Context(), credentialsKey{}, c)
			next.ServeHTTP(w, r.WithContext(actor.With(ctx, c.actor())))
		})
	}
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
