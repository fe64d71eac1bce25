package refserver

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func TestClientAddr(t *testing.T) {
	trusted, err := ParseTrustedProxies("trusted_proxies", "10.0.0.0/8, 192.168.1.5, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies trusted: the peer", "203.0.113.7:4000", []string{"198.51.100.1"}, nil, "203.0.113.7"},
		{"untrusted peer: header ignored", "203.0.113.7:4000", []string{"198.51.100.1"}, trusted, "203.0.113.7"},
		{"trusted peer, no header", "10.1.2.3:4000", nil, trusted, "10.1.2.3"},
		{"trusted peer: the client it saw", "10.1.2.3:4000", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"right-most untrusted, past trusted hops", "10.1.2.3:4000", []string{"6.6.6.6, 198.51.100.1, 192.168.1.5"}, trusted, "198.51.100.1"},
		{"several header lines", "10.1.2.3:4000", []string{"6.6.6.6", "198.51.100.1", "10.9.9.9"}, trusted, "198.51.100.1"},
		{"every hop trusted: the left-most", "10.1.2.3:4000", []string{"10.0.0.1, 10.0.0.2"}, trusted, "10.0.0.1"},
		{"garbage stops the walk at the trusted hop", "10.1.2.3:4000", []string{"198.51.100.1, not-an-ip, 10.0.0.2"}, trusted, "10.0.0.2"},
		{"garbage right behind the peer", "10.1.2.3:4000", []string{"nonsense"}, trusted, "10.1.2.3"},
		{"hop with a port", "10.1.2.3:4000", []string{"198.51.100.1:5555"}, trusted, "198.51.100.1"},
		{"IPv6 peer and hop", "[fd00::1]:4000", []string{"[2001:db8::7]:80"}, trusted, "2001:db8::7"},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:4000", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"peer without a port", "10.1.2.3", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"peer that is no address", "@unix", []string{"198.51.100.1"}, trusted, "@unix"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := clientAddr(c.remote, c.xff, c.trusted); got != c.want {
				t.Errorf("clientAddr(%q, %q) = %q, want %q", c.remote, c.xff, got, c.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies("trusted_proxies", " 10.1.2.3/8 ,, 2001:db8::1 ")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::1/128")}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ParseTrustedProxies = %v, want %v", got, want)
	}
	_, err = ParseTrustedProxies("trusted_proxies", "10.0.0.0/8,proxy.example")
	if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || e.Field != "trusted_proxies" {
		t.Errorf("ParseTrustedProxies(bad) = %v, want KindInvalid naming trusted_proxies", err)
	}
}

func from(remote string) reqOpt { return func(r *http.Request) { r.RemoteAddr = remote } }

// TestSignInAttemptsAreRateLimited drives the limits on the server's
// clock: per account, per client address, through a trusted proxy, and on
// password changes; each refusal is a 429 with Retry-After.
func TestSignInAttemptsAreRateLimited(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	a.srv = New(a.engine, Options{Authenticate: SessionAuth(a.engine.Identity),
		RateLimit:      RateLimit{PerIP: 4, PerAccount: 2, Window: time.Minute},
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
	limited(login("admin@example.com", client), "60") // the account's third attempt
	a.clock.Advance(20 * time.Second)
	limited(login("admin@example.com", client), "40")
	// The address has made 4 attempts: a fifth, for another account, is
	// refused too; from another address it is not.
	limited(login("nobody@example.com", client), "40")
	a.problem(login("nobody@example.com", withHeader("X-Forwarded-For", "203.0.113.8")), 401, "")
	// An untrusted peer's X-Forwarded-For is not believed.
	a.problem(login("nobody@example.com", from("198.51.100.9:1234"), client), 401, "")
	a.clock.Advance(40 * time.Second)
	s := a.ok(login("admin@example.com", client), 200)

	change := func() resp {
		return a.do("POST", "/api/v1/auth/password", map[string]any{"old_password": "wrong horse", "new_password": "a whole new horse"},
			bearer(str(s, "token")), from("198.51.100.10:1234"))
	}
	a.problem(change(), 401, "old_password")
	a.problem(change(), 401, "old_password")
	limited(change(), "60")
}
