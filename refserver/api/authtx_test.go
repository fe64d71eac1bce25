package api

import (
	"context"
	"testing"

	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// breakAuditLog makes every append to the activity log of st fail, with a
// trigger, until the function it returns is called.
func breakAuditLog(t *testing.T, st *sqlstore.Store) (repair func()) {
	t.Helper()
	down := []string{`CREATE TRIGGER audit_down BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'the activity log is down'); END`}
	up := []string{`DROP TRIGGER audit_down`}
	if st.Dialect() == sqlstore.Postgres {
		down = []string{
			`CREATE FUNCTION audit_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the activity log is down'; END $$`,
			`CREATE TRIGGER audit_down BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION audit_down()`,
		}
		up = []string{`DROP TRIGGER audit_down ON audit_entries`, `DROP FUNCTION audit_down()`}
	}
	exec := func(qs []string) {
		t.Helper()
		for _, q := range qs {
			if _, err := st.DB().ExecContext(context.Background(), q); err != nil {
				t.Fatal(err)
			}
		}
	}
	exec(down)
	return func() { exec(up) }
}

// rows counts the rows of table that match where ("" for all).
func rows(t *testing.T, st *sqlstore.Store, table, where string) int {
	t.Helper()
	q := st.DB().NewSelect().Table(table)
	if where != "" {
		q = q.Where(where)
	}
	n, err := q.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestAuthChangesAndEntriesShareATransaction sends each request that
// changes credentials, sessions, roles or grants twice: first while
// appending to the activity log fails, when it must answer 500 and change
// nothing; then with the log working, when the change and its entry are
// both written.
func TestAuthChangesAndEntriesShareATransaction(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newAuthEnv(t, st)
		ctx := context.Background()
		admin := a.login("admin@example.com", password)
		live := func(account identity.AccountID) func() int {
			return func() int {
				t.Helper()
				ss, err := st.Identity.LiveSessions(ctx, account, a.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				return len(ss)
			}
		}
		count := func(table, where string) func() int {
			return func() int { t.Helper(); return rows(t, st, table, where) }
		}
		failedLogins := func() int {
			t.Helper()
			acct, err := st.Identity.GetAccount(ctx, a.admin)
			if err != nil {
				t.Fatal(err)
			}
			return acct.FailedLogins
		}
		// atomic checks one change: send answers want with the log up, and
		// changes state by delta, adding one entry of action; with the log
		// down it answers 500 and changes neither.
		atomic := func(action string, state func() int, delta int, want int, send func() resp) resp {
			t.Helper()
			before, logged := state(), len(a.entries(action))
			repair := breakAuditLog(t, st)
			a.problem(send(), 500, "")
			repair()
			if got := state(); got != before {
				t.Errorf("%s with the activity log down: state %d, want %d", action, got, before)
			}
			res := send()
			if res.status != want {
				t.Fatalf("%s: status %d, want %d: %s", action, res.status, want, res.body)
			}
			if got := state(); got != before+delta {
				t.Errorf("%s: state %d, want %d", action, got, before+delta)
			}
			if got := len(a.entries(action)); got != logged+1 {
				t.Errorf("%s: %d entries, want %d", action, got, logged+1)
			}
			return res
		}
		post := func(path string, body any, opts ...reqOpt) func() resp {
			return func() resp { return a.do("POST", path, body, opts...) }
		}
		del := func(path string, opts ...reqOpt) func() resp {
			return func() resp { return a.do("DELETE", path, nil, opts...) }
		}
		loginBody := map[string]any{"email": "admin@example.com", "password": password, "device": "phone"}

		t.Run("login", func(t *testing.T) {
			atomic("login", live(a.admin), 1, 200, post("/api/v1/auth/login", loginBody, as("")))
		})
		t.Run("failed login", func(t *testing.T) {
			atomic("login.failed", failedLogins, 1, 401, post("/api/v1/auth/login",
				map[string]any{"email": "admin@example.com", "password": "wrong horse battery"}, as("")))
			if e := a.entries("login.failed"); e[len(e)-1].Actor != a.admin.String() {
				t.Errorf("login.failed entry = %+v", e[len(e)-1])
			}
		})
		t.Run("session revoke", func(t *testing.T) {
			other := a.login("admin@example.com", password)
			atomic("session.revoke", live(a.admin), -1, 204, del("/api/v1/auth/sessions/"+str(other.session, "id"), bearer(admin.token)))
		})
		t.Run("logout", func(t *testing.T) {
			s := a.login("admin@example.com", password)
			atomic("logout", live(a.admin), -1, 204, post("/api/v1/auth/logout", nil, bearer(s.token)))
		})
		t.Run("registration", func(t *testing.T) {
			atomic("account.register", count("accounts", "kind = 'patient'"), 1, 201, post(a.base+"/registrations",
				map[string]any{"email": "pat@example.com", "password": password}, as("")))
		})
		t.Run("invitation and acceptance", func(t *testing.T) {
			atomic("invitation.create", count("invitations", ""), 1, 201, post(a.base+"/invitations",
				map[string]any{"email": "desk@example.com", "role": "front_desk"}, bearer(admin.token)))
			grants := len(a.entries("grant.create"))
			accept := map[string]any{"token": a.token(refserver.TokenInvitation, "desk@example.com"), "password": password}
			atomic("invitation.accept", count("accounts", "kind = 'staff'"), 1, 201, post("/api/v1/auth/invitations/accept", accept, as("")))
			if got := rows(t, st, "rbac_grants", "role_id = '"+rbac.FrontDeskID.String()+"'"); got != 1 {
				t.Errorf("front_desk grants = %d, want 1", got)
			}
			if got := len(a.entries("grant.create")); got != grants+1 {
				t.Errorf("grant.create entries = %d, want %d", got, grants+1)
			}
		})
		t.Run("API keys", func(t *testing.T) {
			res := atomic("apikey.create", count("api_keys", ""), 1, 201, post(a.base+"/api-keys",
				map[string]any{"name": "sync", "permissions": []string{"calendar.read"}}, bearer(admin.token)))
			k, _ := a.ok(res, 201)["api_key"].(map[string]any)
			atomic("apikey.revoke", count("api_keys", "revoked_at IS NULL"), -1, 204, del(a.base+"/api-keys/"+str(k, "id"), bearer(admin.token)))
		})
		t.Run("roles and grants", func(t *testing.T) {
			res := atomic("role.create", count("rbac_roles", ""), 1, 201, post(a.base+"/roles",
				map[string]any{"name": "scheduler", "permissions": []string{"calendar.read"}}, bearer(admin.token)))
			role := str(a.ok(res, 201), "id")
			desk, err := st.Identity.AccountByEmail(ctx, "desk@example.com")
			if err != nil {
				t.Fatal(err)
			}
			res = atomic("grant.create", count("rbac_grants", ""), 1, 201, post(a.base+"/grants",
				map[string]any{"account_id": desk.ID.String(), "role_id": role, "scope": "practice"}, bearer(admin.token)))
			grant := str(a.ok(res, 201), "id")
			atomic("grant.delete", count("rbac_grants", ""), -1, 204, del(a.base+"/grants/"+grant, bearer(admin.token)))
			atomic("role.delete", count("rbac_roles", ""), -1, 204, del(a.base+"/roles/"+role, bearer(admin.token)))
		})
		t.Run("password change", func(t *testing.T) {
			s := a.login("admin@example.com", password)
			atomic("password.change", live(a.admin), 1-live(a.admin)(), 204, post("/api/v1/auth/password",
				map[string]any{"old_password": password, "new_password": "a whole new horse"}, bearer(s.token)))
		})
		t.Run("logout everywhere", func(t *testing.T) {
			s := a.login("admin@example.com", "a whole new horse")
			atomic("logout.everywhere", live(a.admin), -live(a.admin)(), 200, post("/api/v1/auth/logout-everywhere", nil, bearer(s.token)))
		})
		t.Run("TOTP enable", func(t *testing.T) {
			s := a.login("admin@example.com", "a whole new horse")
			en := a.ok(a.do("POST", "/api/v1/auth/mfa/totp", nil, bearer(s.token)), 200)
			code, err := identity.TOTPCode(str(en, "secret"), a.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			atomic("mfa.totp.enable", count("recovery_codes", ""), identity.RecoveryCodeCount, 200,
				post("/api/v1/auth/mfa/totp/confirm", map[string]any{"code": code}, bearer(s.token)))
		})
		if b, err := a.engine.Audit.Verify(ctx, a.practice); err != nil || b != nil {
			t.Errorf("Verify = %v, %v", b, err)
		}
	})
}
