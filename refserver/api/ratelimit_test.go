package api

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore/sqltest"
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
