package api

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/carebook/carebook/sqlstore/sqltest"
)

// auditItems lists the activity log of the practice with the query q, as
// admin, and returns the actions of the page and its next_after ("" on the
// last page).
func (a *authEnv) auditItems(tok string, q url.Values) (entries []map[string]any, next string) {
	a.t.Helper()
	m := a.ok(a.do("GET", a.base+"/audit?"+q.Encode(), nil, bearer(tok)), http.StatusOK)
	for _, it := range m["items"].([]any) {
		entries = append(entries, it.(map[string]any))
	}
	if n, ok := m["next_after"].(float64); ok {
		next = fmt.Sprint(int64(n))
	}
	return entries, next
}

func actions(entries []map[string]any) []string {
	var out []string
	for _, e := range entries {
		out = append(out, str(e, "action"))
	}
	return out
}

// TestActivityLogListsFiltersAndPages reads back, over the API, the entries
// that earlier requests wrote, by each filter and a page at a time, and
// checks the chain.
func TestActivityLogListsFiltersAndPages(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	admin := a.login("admin@example.com", password).token
	a.problem(a.do("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.com", "password": "wrong password!"}, as("")), 401, "")
	pt := a.ok(a.do("POST", a.base+"/patients", map[string]any{"given_name": "Grace", "family_name": "Hopper",
		"birth_date": "1980-12-09", "phone": "+12025550143"}, bearer(admin)), 201)
	a.ok(a.do("POST", a.base+"/patients", map[string]any{"given_name": "Alan", "family_name": "Turing",
		"birth_date": "1982-06-23", "phone": "+12025550144"}, bearer(admin)), 201)
	patient := str(pt, "id")
	a.ok(a.do("GET", a.base+"/patients/"+patient, nil, bearer(admin)), 200)

	all, next := a.auditItems(admin, nil)
	if next != "" {
		t.Errorf("one page of %d entries has next_after %s", len(all), next)
	}
	want := []string{"invitation.accept", "grant.create", "login", "login.failed", "patient.create", "patient.create", "patient.read"}
	if got := actions(all); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("actions = %v, want %v", got, want)
	}
	for i, e := range all {
		if e["seq"].(float64) != float64(i+1) || str(e, "hash") == "" || str(e, "practice_id") != a.practice.String() {
			t.Errorf("entry %d = %v", i, e)
		}
	}

	for _, c := range []struct {
		q    url.Values
		want []string
	}{
		{url.Values{"action": {"patient.create"}}, []string{"patient.create", "patient.create"}},
		{url.Values{"outcome": {"failed"}}, []string{"login.failed"}},
		{url.Values{"patient_id": {patient}}, []string{"patient.read"}},
		{url.Values{"actor": {a.admin.String()}, "action": {"login"}}, []string{"login"}},
		{url.Values{"actor": {"system:nobody"}}, nil},
		{url.Values{"from": {testNow.Format(time.RFC3339)}}, want},
		{url.Values{"to": {testNow.Format(time.RFC3339)}}, nil},
		{url.Values{"after": {"5"}}, want[5:]},
	} {
		got, _ := a.auditItems(admin, c.q)
		if fmt.Sprint(actions(got)) != fmt.Sprint(c.want) {
			t.Errorf("%s: actions = %v, want %v", c.q.Encode(), actions(got), c.want)
		}
	}

	// Two at a time, following next_after, gives the same entries. The page
	// requests are not audited, so the log does not grow meanwhile.
	var paged []map[string]any
	q := url.Values{"limit": {"2"}}
	for pages := 0; ; pages++ {
		if pages > len(all) {
			t.Fatal("paging does not end")
		}
		got, next := a.auditItems(admin, q)
		paged = append(paged, got...)
		if next == "" {
			break
		}
		q.Set("after", next)
	}
	if len(paged) != len(all) {
		t.Fatalf("paged %d entries, want %d", len(paged), len(all))
	}
	for i := range all {
		if str(paged[i], "id") != str(all[i], "id") {
			t.Errorf("paged entry %d = %s, want %s", i, str(paged[i], "id"), str(all[i], "id"))
		}
	}

	for _, c := range []struct{ q, field string }{
		{"outcome=maybe", "outcome"},
		{"after=-1", "after"},
		{"after=x", "after"},
		{"limit=0", "limit"},
		{"patient_id=nope", "patient_id"},
		{"from=2030-03-05T00:00:00Z&to=2030-03-04T00:00:00Z", "to"},
	} {
		a.problem(a.do("GET", a.base+"/audit?"+c.q, nil, bearer(admin)), 400, c.field)
	}

	v := a.ok(a.do("GET", a.base+"/audit/verify", nil, bearer(admin)), 200)
	if v["ok"] != true || len(v) != 1 {
		t.Errorf("verify = %v, want {ok: true}", v)
	}
}

// TestPasswordChangeEndsOtherSessions changes the password over HTTP: a
// wrong old password changes nothing, a right one ends every other session
// (which then gets 401) but the one making the change, and both attempts
// are in the activity log.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	s1 := a.login("admin@example.com", password)
	s2 := a.login("admin@example.com", password)
	const newPassword = "a brand new passphrase"

	a.problem(a.do("POST", "/api/v1/auth/password", map[string]any{"old_password": "not my password", "new_password": newPassword},
		bearer(s1.token)), 401, "old_password")
	a.ok(a.do("GET", "/api/v1/auth/sessions", nil, bearer(s2.token)), 200)

	a.problem(a.do("POST", "/api/v1/auth/password", map[string]any{"old_password": password, "new_password": "short"},
		bearer(s1.token)), 400, "new_password")

	if res := a.do("POST", "/api/v1/auth/password", map[string]any{"old_password": password, "new_password": newPassword},
		bearer(s1.token)); res.status != http.StatusNoContent {
		t.Fatalf("change: status %d, body %s", res.status, res.body)
	}
	a.problem(a.do("GET", "/api/v1/auth/sessions", nil, bearer(s2.token)), 401, "")
	if got := a.items(a.do("GET", "/api/v1/auth/sessions", nil, bearer(s1.token))); len(got) != 1 {
		t.Errorf("sessions left = %d, want 1 (this one)", len(got))
	}
	a.problem(a.do("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.com", "password": password}, as("")), 401, "")
	a.login("admin@example.com", newPassword)

	got := a.entries("password.change")
	if len(got) != 2 || got[0].Outcome != "failed" || got[1].Outcome != "allowed" ||
		got[1].Actor != a.admin.String() || got[1].ResourceID != a.admin.String() {
		t.Errorf("password.change entries = %+v", got)
	}
}
