package api

import (
	"context"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

func from(remote string) reqOpt { return func(r *http.Request) { r.RemoteAddr = remote } }

// TestSignInAttemptsAreRateLimited drives the limits on the server's
// clock: per account, per client address, through a trusted proxy, and on
// password changes; each refusal is a 429 with Retry-After. The limits
// are GCRA's (package ratelimit): a burst of the limit, then one attempt
// back every Window/limit (15 s an address, 30 s an account here).
func TestSignInAttemptsAreRateLimited(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	a.srv = newServer(a.engine, refserver.Options{Authenticate: refserver.SessionAuth(a.engine.Identity),
		RateLimit:      refserver.RateLimit{PerIP: 4, PerAccount: 2, Window: time.Minute},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	login := func(email string, opts ...reqOpt) resp {
		return a.do("POST", "/api/v1/auth/login", map[string]any{"email": email, "password": password}, append([]reqOpt{as("")}, opts...)...)
	}
	limited := func(res resp, retry string) {
		t.Helper()
		if p := a.problem(res, http.StatusTooManyRequests, ""); p.Kind != "rate_limited" {
			t.Errorf("problem = %+v", p)
		}
		if got := res.header.Get("Retry-After"); got != retry {
			t.Errorf("Retry-After = %q, want %q", got, retry)
		}
	}
	// Behind the trusted proxy, the client is the address it forwarded.
	client := withHeader("X-Forwarded-For", "203.0.113.7")
	if ip := str(a.ok(login("admin@example.com", client), 200)["session"].(map[string]any), "ip"); ip != "203.0.113.7" {
		t.Errorf("session ip = %q, want the forwarded client", ip)
	}
	a.ok(login("ADMIN@example.com ", client), 200)
	limited(login("admin@example.com", client), "30") // the account's third attempt
	// The address has made 3 attempts: a fourth, for another account, is
	// its last; a fifth is refused; from another address it is not.
	a.problem(login("nobody@example.com", client), 401, "")
	limited(login("nobody@example.com", client), "15")
	a.problem(login("other@example.com", withHeader("X-Forwarded-For", "203.0.113.8")), 401, "")
	// An untrusted peer's X-Forwarded-For is not believed.
	a.problem(login("other@example.com", from("198.51.100.9:1234"), client), 401, "")
	// 20 s on, the address has one attempt back, the account not yet.
	a.clock.Advance(20 * time.Second)
	limited(login("admin@example.com", client), "10")
	a.clock.Advance(10 * time.Second)
	s := a.ok(login("admin@example.com", client), 200)

	change := func() resp {
		return a.do("POST", "/api/v1/auth/password", map[string]any{"old_password": "wrong horse", "new_password": "a whole new horse"},
			bearer(str(s, "token")), from("198.51.100.10:1234"))
	}
	a.problem(change(), 401, "old_password")
	a.problem(change(), 401, "old_password")
	limited(change(), "30")
}

// wantRateHeaders checks the RateLimit-* fields of res.
func wantRateHeaders(t *testing.T, what string, res resp, limit, remaining, reset string) {
	t.Helper()
	for k, want := range map[string]string{refserver.RateLimitLimitHeader: limit, refserver.RateLimitRemainingHeader: remaining,
		refserver.RateLimitResetHeader: reset} {
		if got := res.header.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want)
		}
	}
}

// TestPracticeAPIRateLimit drives the API limit of a practice through the
// whole handler stack: every answer of a practice's route carries the
// RateLimit-* fields; past the limit the answer is a 429 problem with
// Retry-After; reads and writes (in their transaction) count alike; a
// request back after its interval; nobody outside the practice, nor an
// unauthenticated request, spends its allowance; another practice has
// its own.
func TestPracticeAPIRateLimit(t *testing.T) {
	ctx := context.Background()
	// 3 a minute: one back every 20 s.
	limits := carebook.FixedLimits{API: ratelimit.Limit{Rate: 3, Period: time.Minute}}
	a := newAuthEnvWith(t, sqltest.SQLite(t), testBucket(t), carebook.WithPracticeLimits(limits))
	admin := a.login("admin@example.com", password)

	// Another practice's administrator.
	g, err := a.engine.Tenants.CreateGroup(ctx, "Elsewhere Health")
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.engine.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Elsewhere Clinic"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.engine.Identity.CreateInvitation(ctx, other.ID, "outsider@example.com", "practice_admin", uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	a.ok(a.do("POST", "/api/v1/auth/invitations/accept", map[string]any{"token": tok, "password": password}, as("")), 201)
	outsider := a.login("outsider@example.com", password)

	// Outside the practice, and unauthenticated: 404 and 401, not counted.
	for range 5 {
		res := a.do("GET", a.base, nil, bearer(outsider.token))
		a.problem(res, 404, "")
		wantRateHeaders(t, "outsider", res, "", "", "")
		a.problem(a.do("GET", a.base, nil, as("")), 401, "")
	}

	res := a.do("GET", a.base, nil, bearer(admin.token))
	a.ok(res, 200)
	wantRateHeaders(t, "first read", res, "3", "2", "20")
	res = a.do("POST", a.base+"/patients", map[string]any{"given_name": "Grace", "family_name": "Hopper",
		"birth_date": "1906-12-09", "email": "grace@example.com"}, bearer(admin.token))
	a.ok(res, 201)
	wantRateHeaders(t, "a write", res, "3", "1", "40")
	res = a.do("GET", a.base+"/patients", nil, bearer(admin.token))
	a.ok(res, 200)
	wantRateHeaders(t, "third", res, "3", "0", "60")

	res = a.do("GET", a.base, nil, bearer(admin.token))
	if p := a.problem(res, http.StatusTooManyRequests, ""); p.Kind != "rate_limited" {
		t.Errorf("over the limit: problem %+v", p)
	}
	if got := res.header.Get("Retry-After"); got != "20" {
		t.Errorf("Retry-After = %q, want 20", got)
	}
	wantRateHeaders(t, "refused", res, "3", "0", "60")
	// A refused write writes nothing.
	res = a.do("POST", a.base+"/patients", map[string]any{"given_name": "Alan", "family_name": "Turing",
		"birth_date": "1912-06-23"}, bearer(admin.token))
	a.problem(res, http.StatusTooManyRequests, "")
	if n := len(a.entries("patient.create")); n != 1 {
		t.Errorf("patient.create entries = %d, want 1 (the refused write wrote nothing)", n)
	}

	// The other practice's allowance is its own.
	res = a.do("GET", "/api/v1/practices/"+other.ID.String(), nil, bearer(outsider.token))
	a.ok(res, 200)
	wantRateHeaders(t, "the other practice", res, "3", "2", "20")

	a.clock.Advance(20 * time.Second)
	res = a.do("GET", a.base, nil, bearer(admin.token))
	a.ok(res, 200)
	wantRateHeaders(t, "20 s later", res, "3", "0", "60")
	// Routes outside a practice are not limited by it.
	res = a.do("GET", "/api/v1/auth/sessions", nil, bearer(admin.token))
	a.ok(res, 200)
	wantRateHeaders(t, "a route of no practice", res, "", "", "")
}

// TestRateLimitsAcrossReplicas: two servers, each over its own engine and
// pool on one PostgreSQL database, share a practice's API limit and the
// sign-in limits, the requests alternating between them.
func TestRateLimitsAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := sqltest.PostgresDatabase(t)
	open := func() *sqlstore.Store {
		s, err := sqlstore.Open(ctx, dsn, sqlstore.WithMasterKey(sqltest.MasterKey()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	limits := carebook.WithPracticeLimits(carebook.FixedLimits{API: ratelimit.Limit{Rate: 4, Period: time.Minute}})
	a := newAuthEnvWith(t, open(), testBucket(t), limits)
	admin := a.login("admin@example.com", password)
	e2 := carebook.NewWithStore(open(), carebook.WithClock(a.clock), carebook.WithIdentityConfig(identity.Config{Argon2: fastArgon2}), limits)
	server := func(e *carebook.Engine) *refserver.Server {
		return newServer(e, refserver.Options{Authenticate: refserver.SessionAuth(e.Identity), RateLimit: refserver.RateLimit{PerAccount: 3}})
	}
	replicas := []*refserver.Server{server(a.engine), server(e2)}

	for i, want := range []int{200, 200, 200, 200, 429, 429} {
		a.srv = replicas[i%2]
		res := a.do("GET", a.base, nil, bearer(admin.token))
		if res.status != want {
			t.Errorf("request %d on replica %d: status %d, want %d", i+1, i%2, res.status, want)
		}
	}
	for i, want := range []int{401, 401, 401, 429} {
		a.srv = replicas[i%2]
		res := a.do("POST", "/api/v1/auth/login", map[string]any{"email": "nobody@example.com", "password": password}, as(""))
		if res.status != want {
			t.Errorf("sign-in %d on replica %d: status %d, want %d", i+1, i%2, res.status, want)
		}
	}
}
