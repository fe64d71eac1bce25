package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// fastArgon2 keeps password hashing cheap; hashes carry their parameters.
var fastArgon2 = identity.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const password = "correct horse battery"

// authEnv is a testEnv behind SessionAuth, with a practice, its practice
// administrator (signed up by invitation) and the tokens the server sent.
type authEnv struct {
	*testEnv
	group    tenant.GroupID
	practice tenant.PracticeID
	base     string
	admin    identity.AccountID

	mu     sync.Mutex
	tokens map[string]string // "kind to" => the last token sent
}

func newAuthEnv(t *testing.T, st *sqlstore.Store) *authEnv {
	t.Helper()
	return newAuthEnvWith(t, st, testBucket(t))
}

// newAuthEnvWith is newAuthEnv keeping patients' files in b, its engine
// built with opts too.
func newAuthEnvWith(t *testing.T, st *sqlstore.Store, b filesBucket, opts ...carebook.Option) *authEnv {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFixed(testNow)
	eng := carebook.NewWithStore(st, append([]carebook.Option{carebook.WithClock(clk), carebook.WithIdentityConfig(identity.Config{Argon2: fastArgon2}),
		carebook.WithFiles(b.bucket, files.Options{MaxSize: testMaxFileSize})}, opts...)...)
	a := &authEnv{tokens: map[string]string{}}
	a.testEnv = &testEnv{t: t, clock: clk, engine: eng, filesDir: b.dir, srv: newServer(eng, refserver.Options{
		Authenticate: refserver.SessionAuth(eng.Identity),
		DeliverToken: func(_ context.Context, m refserver.TokenMessage) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.tokens[m.Kind+" "+m.To] = m.Token
			return nil
		},
	})}
	g, err := eng.Tenants.CreateGroup(ctx, "Harbor Health")
	if err != nil {
		t.Fatal(err)
	}
	p, err := eng.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Pediatrics"})
	if err != nil {
		t.Fatal(err)
	}
	a.group, a.practice, a.base = g.ID, p.ID, "/api/v1/practices/"+p.ID.String()
	// The first administrator: invited by the system (no inviter), accepted
	// through the API, which grants the invited practice_admin role.
	tok, _, err := eng.Identity.CreateInvitation(ctx, p.ID, "admin@example.com", "practice_admin", uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	acct := a.ok(a.do("POST", "/api/v1/auth/invitations/accept", map[string]any{"token": tok, "password": password}, as("")), 201)
	a.admin = uuid.MustParse(str(acct, "id"))
	return a
}

// token returns the last token of kind sent to to.
func (a *authEnv) token(kind, to string) string {
	a.t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	tok, ok := a.tokens[kind+" "+to]
	if !ok {
		a.t.Fatalf("no %s token was sent to %s", kind, to)
	}
	return tok
}

// signedIn is a session opened through the API.
type signedIn struct {
	token, csrf string
	session     map[string]any
	cookies     []*http.Cookie
}

func (a *authEnv) login(email, pw string, opts ...reqOpt) signedIn {
	a.t.Helper()
	res := a.do("POST", "/api/v1/auth/login", map[string]any{"email": email, "password": pw, "device": "laptop"}, append([]reqOpt{as("")}, opts...)...)
	m := a.ok(res, 200)
	sess, _ := m["session"].(map[string]any)
	return signedIn{token: str(m, "token"), csrf: str(m, "csrf_token"), session: sess,
		cookies: (&http.Response{Header: res.header}).Cookies()}
}

func bearer(tok string) reqOpt {
	return func(r *http.Request) {
		r.Header.Del(refserver.ActorHeader)
		r.Header.Set("Authorization", "Bearer "+tok)
	}
}

// byCookie signs a request in with the session cookie and the CSRF cookie,
// echoing csrfHeader in X-CSRF-Token unless it is "".
func byCookie(s signedIn, csrfHeader string) reqOpt {
	return func(r *http.Request) {
		r.Header.Del(refserver.ActorHeader)
		r.AddCookie(&http.Cookie{Name: refserver.SessionCookie, Value: s.token})
		r.AddCookie(&http.Cookie{Name: refserver.CSRFCookie, Value: s.csrf})
		if csrfHeader != "" {
			r.Header.Set(refserver.CSRFHeader, csrfHeader)
		}
	}
}

// entries returns the activity log of the practice with action.
func (a *authEnv) entries(action string) []*audit.Entry {
	a.t.Helper()
	got, err := a.engine.Audit.Query(context.Background(), a.practice, audit.Filter{Action: action})
	if err != nil {
		a.t.Fatal(err)
	}
	return got
}

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestLoginSetsCookiesAndAnswersTheTokenOnce(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	s := a.login("admin@example.com", password)
	if s.token == "" || s.csrf == "" || str(s.session, "account_id") != a.admin.String() {
		t.Fatalf("login = %+v", s)
	}
	sc, cc := cookieNamed(s.cookies, refserver.SessionCookie), cookieNamed(s.cookies, refserver.CSRFCookie)
	if sc == nil || cc == nil {
		t.Fatalf("cookies = %v, want %s and %s", s.cookies, refserver.SessionCookie, refserver.CSRFCookie)
	}
	if sc.Value != s.token || !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie = %+v, want the token, HttpOnly, Secure, SameSite=Lax", sc)
	}
	if cc.Value != s.csrf || cc.HttpOnly || !cc.Secure || cc.SameSite != http.SameSiteLaxMode {
		t.Errorf("CSRF cookie = %+v, want the CSRF token, readable, Secure, SameSite=Lax", cc)
	}
	items := a.items(a.do("GET", "/api/v1/auth/sessions", nil, bearer(s.token)))
	if len(items) != 1 || items[0].(map[string]any)["current"] != true {
		t.Fatalf("sessions = %v, want this one, current", items)
	}
	if strings.Contains(string(a.do("GET", "/api/v1/auth/sessions", nil, bearer(s.token)).body), s.token) {
		t.Error("the session list shows the token")
	}

	// Plain http on loopback (development) gets cookies without Secure.
	local := a.login("admin@example.com", password, func(r *http.Request) { r.Host = "127.0.0.1:8080" })
	if c := cookieNamed(local.cookies, refserver.SessionCookie); c == nil || c.Secure || !c.HttpOnly {
		t.Errorf("session cookie on loopback = %+v, want HttpOnly without Secure", c)
	}
}

func TestLoginFailureIsTheSameForUnknownAccounts(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	wrong := a.problem(a.do("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.com", "password": "not the password"}, as("")), 401, "")
	unknown := a.problem(a.do("POST", "/api/v1/auth/login", map[string]any{"email": "nobody@example.com", "password": "not the password"}, as("")), 401, "")
	if wrong.Kind != unknown.Kind || wrong.Detail != unknown.Detail || wrong.Type != unknown.Type || wrong.Title != unknown.Title {
		t.Errorf("wrong password = %+v, unknown account = %+v; want the same problem", wrong, unknown)
	}
	// Without a session nothing but the open routes answers.
	a.problem(a.do("GET", "/api/v1/auth/sessions", nil, as("")), 401, "")
	a.problem(a.do("GET", a.base, nil, as(staff)), 401, "")
	a.problem(a.do("GET", a.base, nil, bearer("not-a-token")), 401, "")
	a.ok(a.do("GET", "/healthz", nil, as("")), 200)
}

func TestSessionExpiresOnTheClock(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	s := a.login("admin@example.com", password)
	a.clock.Advance(10 * time.Minute)
	a.ok(a.do("GET", "/api/v1/auth/sessions", nil, bearer(s.token)), 200)
	// Staff sessions go idle after 15 minutes by default.
	a.clock.Advance(16 * time.Minute)
	a.problem(a.do("GET", "/api/v1/auth/sessions", nil, bearer(s.token)), 401, "")
	a.problem(a.do("GET", "/api/v1/auth/sessions", nil, byCookie(s, "")), 401, "")
	// Login still works with the stale cookie.
	a.login("admin@example.com", password, byCookie(s, ""))
}

func TestLogoutEndsTheSessionAndIsAudited(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	a.problem(a.do("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.com", "password": "not the password"}, as("")), 401, "")
	a.problem(a.do("POST", "/api/v1/auth/login", map[string]any{"email": "nobody@example.com", "password": "not the password"}, as("")), 401, "")
	s := a.login("admin@example.com", password)
	other := a.login("admin@example.com", password)
	res := a.do("POST", "/api/v1/auth/logout", nil, bearer(s.token))
	if res.status != http.StatusNoContent {
		t.Fatalf("logout = %d: %s", res.status, res.body)
	}
	if c := cookieNamed((&http.Response{Header: res.header}).Cookies(), refserver.SessionCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout cookie = %+v, want it cleared", c)
	}
	a.problem(a.do("GET", "/api/v1/auth/sessions", nil, bearer(s.token)), 401, "")
	a.ok(a.do("GET", "/api/v1/auth/sessions", nil, bearer(other.token)), 200)

	logins, failed, logouts := a.entries("login"), a.entries("login.failed"), a.entries("logout")
	if len(logins) != 2 || len(failed) != 1 || len(logouts) != 1 {
		t.Fatalf("audit: %d logins, %d failed, %d logouts; want 2, 1 (the unknown account has no practice), 1", len(logins), len(failed), len(logouts))
	}
	if f := failed[0]; f.Actor != a.admin.String() || f.Outcome != audit.Failed {
		t.Errorf("failed login entry = %+v", f)
	}
	if l := logouts[0]; l.Actor != a.admin.String() || l.ResourceID != str(s.session, "id") || l.Outcome != audit.Allowed || l.RequestID == "" {
		t.Errorf("logout entry = %+v, want session %s", l, str(s.session, "id"))
	}
	if b, err := a.engine.Audit.Verify(context.Background(), a.practice); err != nil || b != nil {
		t.Errorf("Verify = %v, %v", b, err)
	}

	n := a.ok(a.do("POST", "/api/v1/auth/logout-everywhere", nil, bearer(other.token)), 200)
	if n["revoked"] != float64(1) {
		t.Errorf("logout-everywhere = %v, want 1 revoked", n)
	}
	a.problem(a.do("GET", "/api/v1/auth/sessions", nil, bearer(other.token)), 401, "")
}

func TestCookieSessionsNeedTheCSRFToken(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	s := a.login("admin@example.com", password)
	a.ok(a.do("GET", "/api/v1/auth/sessions", nil, byCookie(s, "")), 200) // reading needs none
	a.problem(a.do("POST", "/api/v1/auth/logout", nil, byCookie(s, "")), 403, refserver.CSRFHeader)
	a.problem(a.do("POST", "/api/v1/auth/logout", nil, byCookie(s, "forged")), 403, refserver.CSRFHeader)
	if res := a.do("POST", "/api/v1/auth/logout", nil, byCookie(s, s.csrf)); res.status != http.StatusNoContent {
		t.Fatalf("logout with the CSRF token = %d: %s", res.status, res.body)
	}
}

func TestAPIKeyAcceptedThenRevoked(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	s := a.login("admin@example.com", password)
	a.problem(a.do("POST", a.base+"/api-keys", map[string]any{"name": "x", "permissions": []string{"no.such"}}, bearer(s.token)), 400, "permissions")
	m := a.ok(a.do("POST", a.base+"/api-keys", map[string]any{"name": "front desk kiosk", "permissions": []string{"appointment.book"}}, bearer(s.token)), 201)
	key := str(m, "key")
	if !strings.HasPrefix(key, identity.APIKeyPrefix) {
		t.Fatalf("key = %q", key)
	}
	a.ok(a.do("GET", a.base, nil, bearer(key)), 200)
	// An API key is not an account.
	a.problem(a.do("GET", "/api/v1/auth/sessions", nil, bearer(key)), 401, "")
	id := str(m["api_key"].(map[string]any), "id")
	if res := a.do("DELETE", a.base+"/api-keys/"+id, nil, bearer(s.token)); res.status != http.StatusNoContent {
		t.Fatalf("revoke = %d: %s", res.status, res.body)
	}
	a.problem(a.do("GET", a.base, nil, bearer(key)), 401, "")
	if len(a.entries("apikey.create")) != 1 || len(a.entries("apikey.revoke")) != 1 {
		t.Error("API key issue and revocation are not both in the activity log")
	}
}

func TestInvitationAccepted(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	s := a.login("admin@example.com", password)
	inv := a.ok(a.do("POST", a.base+"/invitations", map[string]any{"email": "Desk@Example.com", "role": "front_desk"}, bearer(s.token)), 201)
	if str(inv, "invited_by") != a.admin.String() || str(inv, "email") != "desk@example.com" {
		t.Fatalf("invitation = %v", inv)
	}
	tok := a.token(refserver.TokenInvitation, "desk@example.com")
	if strings.Contains(string(a.do("GET", "/api/v1/auth/sessions", nil, bearer(s.token)).body), tok) {
		t.Error("the token leaked")
	}
	acct := a.ok(a.do("POST", "/api/v1/auth/invitations/accept", map[string]any{"token": tok, "password": password}, as("")), 201)
	if str(acct, "kind") != "staff" || str(acct, "practice_id") != a.practice.String() || str(acct, "email_verified_at") == "" {
		t.Fatalf("account = %v", acct)
	}
	a.problem(a.do("POST", "/api/v1/auth/invitations/accept", map[string]any{"token": tok, "password": password}, as("")), 422, "token")
	desk := a.login("desk@example.com", password)
	// Without staff.manage the new account may not invite.
	a.problem(a.do("POST", a.base+"/invitations", map[string]any{"email": "x@example.com", "role": "front_desk"}, bearer(desk.token)), 403, "")
}

func TestRegistrationAndVerification(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	acct := a.ok(a.do("POST", a.base+"/registrations", map[string]any{"email": "grace@example.com", "password": password}, as("")), 201)
	if str(acct, "kind") != "patient" || str(acct, "email_verified_at") != "" {
		t.Fatalf("account = %v", acct)
	}
	a.problem(a.do("POST", a.base+"/registrations", map[string]any{"email": "grace@example.com", "password": password}, as("")), 409, "email")
	a.problem(a.do("POST", a.base+"/registrations", map[string]any{"email": "short@example.com", "password": "short"}, as("")), 400, "password")
	tok := a.token(refserver.TokenEmailVerification, "grace@example.com")
	v := a.ok(a.do("POST", "/api/v1/auth/verify-email", map[string]any{"token": tok}, as("")), 200)
	if str(v, "email_verified_at") == "" {
		t.Fatalf("verified account = %v", v)
	}
	a.problem(a.do("POST", "/api/v1/auth/verify-email", map[string]any{"token": tok}, as("")), 422, "token")
	a.problem(a.do("POST", "/api/v1/auth/verify-email", map[string]any{"token": "unknown"}, as("")), 404, "token")
	p := a.login("grace@example.com", password)
	if str(p.session, "kind") != "patient" {
		t.Errorf("session = %v", p.session)
	}
	// A patient may not issue API keys.
	a.problem(a.do("POST", a.base+"/api-keys", map[string]any{"name": "mine"}, bearer(p.token)), 403, "")
}

func TestTOTPEnrollmentThenLogin(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	s := a.login("admin@example.com", password)
	en := a.ok(a.do("POST", "/api/v1/auth/mfa/totp", nil, bearer(s.token)), 200)
	code, err := identity.TOTPCode(str(en, "secret"), a.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	rc := a.ok(a.do("POST", "/api/v1/auth/mfa/totp/confirm", map[string]any{"code": code}, bearer(s.token)), 200)
	var codes []string
	b, _ := json.Marshal(rc["recovery_codes"])
	_ = json.Unmarshal(b, &codes)
	if len(codes) != identity.RecoveryCodeCount {
		t.Fatalf("recovery codes = %v", rc)
	}
	a.problem(a.do("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.com", "password": password}, as("")), 401, "totp_code")
	a.clock.Advance(time.Minute)
	code, _ = identity.TOTPCode(str(en, "secret"), a.clock.Now())
	a.ok(a.do("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.com", "password": password, "totp_code": code}, as("")), 200)
	a.ok(a.do("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.com", "password": password, "recovery_code": codes[0]}, as("")), 200)
}
