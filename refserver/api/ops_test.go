package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/billingtest"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestSupportAPI walks the support staff's JSON API on both stores: sign
// in for a token, list the practices with their plan, status, usage and
// invoices, then on a practice whose trial ended (read-only) extend the
// trial, change the plan, and lift a read-only state again, each through
// the Engine's support operations, audited with the reason. A practice's
// staff token is 403 on every support route, and nothing answered names a
// patient.
func TestSupportAPI(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		m := newMatrixEnvOn(t, st)
		ctx := context.Background()
		for _, id := range []billing.PlanID{"basic", "plus"} {
			if err := m.engine.PutPlan(ctx, billingtest.SamplePlan(id)); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Billing.PutSubscription(ctx, &billing.Subscription{Practice: m.practice, Plan: "basic", Status: billing.SubscriptionTrialing,
			TrialEnd: testNow.Add(-time.Hour), PeriodStart: testNow.AddDate(0, 0, -14), UpdatedAt: testNow.AddDate(0, 0, -14)}); err != nil {
			t.Fatal(err)
		}
		if n, err := m.engine.EndTrials(ctx); err != nil || n != 1 {
			t.Fatalf("EndTrials = %d, %v", n, err)
		}
		staff, pw, err := m.engine.AddOperator(ctx, "support@operator.example")
		if err != nil {
			t.Fatal(err)
		}

		login := func(password string) resp {
			return m.do("POST", refserver.OperatorAPILoginPath, map[string]any{"email": staff.Email, "password": password}, as(""))
		}
		m.problem(login("not the password"), http.StatusUnauthorized, "password")
		s := m.ok(login(pw), http.StatusCreated)
		ops := bearer(str(s, "token"))
		if s["staff"] != staff.Email {
			t.Fatalf("session = %v", s)
		}

		// An account's credentials never reach the support routes.
		for _, role := range matrixRoles {
			m.problem(m.do("GET", "/api/v1/ops/practices", nil, bearer(m.token(role))), http.StatusForbidden, "")
		}
		m.problem(m.do("GET", "/api/v1/ops/practices", nil, as("")), http.StatusUnauthorized, "")
		m.problem(m.do("GET", "/api/v1/ops/practices", nil, bearer("not-a-token")), http.StatusUnauthorized, "")

		res := m.do("GET", "/api/v1/ops/practices", nil, ops)
		list := m.ok(res, http.StatusOK)["practices"].([]any)
		if len(list) != 2 {
			t.Fatalf("practices = %v", list)
		}
		var a map[string]any
		for _, p := range list {
			if p := p.(map[string]any); p["id"] == m.a.practice {
				a = p
			}
		}
		if a == nil || a["plan"] != "basic" || a["status"] != "read_only" || len(a["read_only"].([]any)) != 1 {
			t.Fatalf("practice A = %v", a)
		}
		for _, patient := range []string{m.a.patient, m.a.otherPatient, m.b.patient, "p1@example.com"} {
			if strings.Contains(string(res.body), patient) {
				t.Fatalf("the support list names patient %s: %s", patient, res.body)
			}
		}

		base := "/api/v1/ops/practices/" + m.a.practice
		until := testNow.AddDate(0, 0, 14).Format(time.RFC3339)
		m.problem(m.do("POST", base+"/trial", map[string]any{"until": until}, ops), http.StatusBadRequest, "reason")
		m.problem(m.do("POST", base+"/trial", map[string]any{"until": "soon", "reason": "x"}, ops), http.StatusBadRequest, "until")
		before := sqltest.RowCounts(t, st)
		m.problem(m.do("POST", base+"/trial", map[string]any{"until": testNow.Add(-time.Minute).Format(time.RFC3339), "reason": "late"}, ops),
			http.StatusBadRequest, "until")
		if after := sqltest.RowCounts(t, st); len(after) != len(before) || after["support_actions"] != before["support_actions"] {
			t.Fatalf("a refused action wrote: %v, then %v", before, after)
		}
		got := m.ok(m.do("POST", base+"/trial", map[string]any{"until": until, "reason": "onboarding call on Monday"}, ops), http.StatusOK)
		if got["status"] != "trialing" || got["trial_end"] != until || len(got["read_only"].([]any)) != 0 {
			t.Fatalf("after the extension = %v", got)
		}

		m.problem(m.do("PUT", base+"/plan", map[string]any{"plan": "gold", "reason": "upgrade"}, ops), http.StatusNotFound, "plan")
		got = m.ok(m.do("PUT", base+"/plan", map[string]any{"plan": "plus", "reason": "asked for more SMS"}, ops), http.StatusOK)
		if got["plan"] != "plus" {
			t.Fatalf("after the plan change = %v", got)
		}

		m.problem(m.do("POST", base+"/read-only/lift", map[string]any{"reason": "goodwill"}, ops), http.StatusUnprocessableEntity, "practice_id")
		m.clock.Advance(15 * 24 * time.Hour)
		if n, err := m.engine.EndTrials(ctx); err != nil || n != 1 {
			t.Fatalf("EndTrials = %d, %v", n, err)
		}
		// The support session ended with the days gone by: sign in again.
		m.problem(m.do("GET", base, nil, ops), http.StatusUnauthorized, "")
		ops = bearer(str(m.ok(login(pw), http.StatusCreated), "token"))
		got = m.ok(m.do("POST", base+"/read-only/lift", map[string]any{"reason": "card is on its way"}, ops), http.StatusOK)
		if got["status"] == "read_only" || len(got["read_only"].([]any)) != 0 {
			t.Fatalf("after the lift = %v", got)
		}
		actions := got["actions"].([]any)
		if len(actions) != 3 || actions[0].(map[string]any)["staff"] != staff.Email {
			t.Fatalf("support actions = %v", actions)
		}
		for _, action := range []string{carebook.ActionSupportExtendTrial, carebook.ActionSupportChangePlan, carebook.ActionSupportLiftReadOnly} {
			es := m.entriesOf(action, audit.Allowed)
			if len(es) != 1 || es[0].Role != carebook.OperatorRole || es[0].Actor != staff.Actor() {
				t.Errorf("%s: entries %+v", action, es)
			}
		}

		m.ok(m.do("POST", "/api/v1/ops/logout", nil, ops), http.StatusNoContent)
		m.problem(m.do("GET", base, nil, ops), http.StatusUnauthorized, "")
	})
}

// TestSupportSignInIsRateLimited: the support staff's sign-in, over the
// API as on the panel's page, is counted by the sign-in limits of every
// sign-in: past them, a 429 with Retry-After, even with the right
// password.
func TestSupportSignInIsRateLimited(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	a.srv = newServer(a.engine, refserver.Options{Authenticate: refserver.SessionAuth(a.engine.Identity),
		RateLimit: refserver.RateLimit{PerIP: 10, PerAccount: 3, Window: time.Minute}})
	staff, pw, err := a.engine.AddOperator(context.Background(), "support@operator.example")
	if err != nil {
		t.Fatal(err)
	}
	login := func(password string) resp {
		return a.do("POST", refserver.OperatorAPILoginPath, map[string]any{"email": staff.Email, "password": password}, as(""))
	}
	for range 3 {
		a.problem(login("guess"), http.StatusUnauthorized, "password")
	}
	res := login(pw)
	if p := a.problem(res, http.StatusTooManyRequests, ""); p.Kind != "rate_limited" {
		t.Fatalf("problem = %+v", p)
	}
	if got := res.header.Get("Retry-After"); got != "20" {
		t.Fatalf("Retry-After = %q, want 20", got)
	}
	a.clock.Advance(20 * time.Second)
	a.ok(login(pw), http.StatusCreated)
}

// TestSupportSignInLocksOut: with the rate limits off, 5 wrong passwords
// in a row lock the support staff member out as they lock an account: the
// right password is a 429 with Retry-After until the lock ends.
func TestSupportSignInLocksOut(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	a.srv = newServer(a.engine, refserver.Options{Authenticate: refserver.SessionAuth(a.engine.Identity),
		RateLimit: refserver.RateLimit{PerIP: -1, PerAccount: -1}})
	staff, pw, err := a.engine.AddOperator(context.Background(), "support@operator.example")
	if err != nil {
		t.Fatal(err)
	}
	login := func(password string) resp {
		return a.do("POST", refserver.OperatorAPILoginPath, map[string]any{"email": staff.Email, "password": password}, as(""))
	}
	for range 5 {
		a.problem(login("guess"), http.StatusUnauthorized, "password")
	}
	res := login(pw)
	a.problem(res, http.StatusTooManyRequests, "")
	if got := res.header.Get("Retry-After"); got != "900" {
		t.Fatalf("Retry-After = %q, want 900", got)
	}
	a.clock.Advance(15 * time.Minute)
	a.ok(login(pw), http.StatusCreated)
}
