package web

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/refserver"
)

// TestOpsSignInLimits: the panel's sign-in page is held to the sign-in
// rate limits as the staff's is (past 3 attempts for one account, a 429
// page with Retry-After, even for the right password), and with the limits
// off, 5 wrong passwords in a row lock the support staff member out as an
// account is, until the lock ends on the engine's clock.
func TestOpsSignInLimits(t *testing.T) {
	a := newSQLiteApp(t)
	signIn := func(c *client, password string) page {
		c.get(refserver.OperatorSignInPath).want(t, http.StatusOK)
		return c.opsPost(refserver.OperatorSignInPath, url.Values{"email": {demo.OperatorEmail}, "password": {password}})
	}
	limited := refserver.New(a.engine, refserver.Options{Authenticate: refserver.SessionAuth(a.engine.Identity),
		RateLimit: refserver.RateLimit{PerIP: -1, PerAccount: 3, Window: time.Minute}}, Module)
	open := a.http.Config.Handler
	a.http.Config.Handler = limited
	c := a.client()
	for range 3 {
		signIn(c, "guess").want(t, http.StatusUnprocessableEntity)
	}
	res := signIn(c, a.demo.OperatorPassword)
	res.want(t, http.StatusTooManyRequests, "<h1>")
	if got := res.header.Get("Retry-After"); got != "20" {
		t.Fatalf("Retry-After = %q, want 20", got)
	}

	a.http.Config.Handler = open
	a.clock.Advance(time.Hour)
	for range 2 {
		signIn(c, "guess").want(t, http.StatusUnprocessableEntity)
	}
	signIn(c, a.demo.OperatorPassword).want(t, http.StatusTooManyRequests, "<h1>")
	a.clock.Advance(15 * time.Minute)
	if res := signIn(c, a.demo.OperatorPassword); res.status != http.StatusSeeOther {
		t.Fatalf("after the lock: %d\n%s", res.status, res.body)
	}
}
