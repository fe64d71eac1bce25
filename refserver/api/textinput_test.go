package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

// unwritten are the tables a refused request may still write: the activity
// log records the failed attempt, and a session notes its last use.
var unwritten = map[string]bool{"audit_entries": true, "audit_heads": true, "sessions": true}

// fingerprint renders every row of every table of st but the unwritten
// ones, so that two fingerprints differ when anything was written between
// them.
func fingerprint(t *testing.T, st *sqlstore.Store) string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if st.Dialect() == sqlstore.Postgres {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`
	}
	var tables []string
	if err := st.DB().NewRaw(q).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, table := range tables {
		if unwritten[table] {
			continue
		}
		rs, err := st.DB().QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rs.Columns()
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("%q", vals))
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		rs.Close()
		slices.Sort(lines)
		fmt.Fprintf(&b, "%s: %s\n", table, strings.Join(lines, " "))
	}
	return b.String()
}

// badInput is a request that must be refused with status, naming field,
// writing nothing.
type badInput struct {
	name, method, path string
	body               any // raw, or nil
	status             int
	field              string
}

// refuseAll sends each case as who and checks the answer and that the
// database did not change.
func (e *testEnv) refuseAll(t *testing.T, st *sqlstore.Store, who reqOpt, cases []badInput) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			before := fingerprint(t, st)
			e.problem(e.do(c.method, c.path, c.body, who), c.status, c.field)
			if after := fingerprint(t, st); after != before {
				t.Errorf("the database changed:\nbefore: %s\nafter:  %s", before, after)
			}
		})
	}
}

// TestTextInputsRefused sends NUL characters, invalid UTF-8 and unpaired
// surrogates in JSON strings, query parameters and path segments to the
// routes where PostgreSQL refused them with a 500 (issue 8), as a practice
// administrator behind SessionAuth, on SQLite and PostgreSQL: each answers
// 400 naming the input, and nothing is written.
func TestTextInputsRefused(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newAuthEnv(t, st)
		admin := bearer(a.login("admin@example.com", password).token)
		f := (&matrixEnv{authEnv: a, st: st}).fixture(a.practice.String(), admin, false)
		p := a.base
		const nul = `\u0000`
		cases := []badInput{
			{"group name", "POST", "/api/v1/groups", raw(`{"name":"Harbor` + nul + `"}`), 400, "name"},
			{"API key name", "POST", p + "/api-keys", raw(`{"name":"k` + nul + `","permissions":[]}`), 400, "name"},
			{"location address", "POST", p + "/locations", raw(`{"name":"Annex","time_zone":"UTC","address":{"line1":"1` + nul + `"}}`), 400, "address.line1"},
			{"location name, unpaired surrogate", "POST", p + "/locations", raw(`{"name":"Annex \ud800","time_zone":"UTC"}`), 400, "name"},
			{"location name, reversed surrogates", "POST", p + "/locations", raw(`{"name":"\udc00\ud800","time_zone":"UTC"}`), 400, "name"},
			{"patient given name", "POST", p + "/patients", raw(`{"given_name":"Al` + nul + `","family_name":"Turing","birth_date":"1912-06-23"}`), 400, "given_name"},
			{"patient family name, not UTF-8", "POST", p + "/patients", raw("{\"given_name\":\"Al\",\"family_name\":\"Tur\xffing\",\"birth_date\":\"1912-06-23\"}"), 400, "family_name"},
			{"provider specialty", "POST", p + "/providers", raw(`{"npi":"1234567893","given_name":"A","family_name":"B","specialties":["cardi` + nul + `logy"]}`), 400, "specialties"},
			{"resource name", "POST", p + "/resources", raw(`{"location_id":"` + f.location + `","name":"Room` + nul + `","kind":"room"}`), 400, "name"},
			{"visit type name", "POST", p + "/visit-types", raw(`{"name":"Long` + nul + `","duration_minutes":60}`), 400, "name"},
			{"patient update", "PUT", p + "/patients/" + f.patient, raw(`{"given_name":"Gr` + nul + `ace","family_name":"Hopper","birth_date":"1980-12-09"}`), 400, "given_name"},
			{"notify settings", "PUT", p + "/notify/settings", raw(`{"email_from_name":"Harbor` + nul + `"}`), 400, "email_from_name"},
			{"preferences", "PATCH", p + "/patients/" + f.patient + "/preferences", raw(`{"language":"e` + nul + `n"}`), 400, "language"},
			{"campaign", "POST", p + "/notify/campaigns", raw(`{"id":"` + uuid.NewString() + `","channel":"sms","text":"Flu shots` + nul + `","time_zone":"UTC"}`), 400, "text"},
			{"status reason", "POST", p + "/appointments/" + f.appointment + "/status", raw(`{"status":"canceled","reason":"ill` + nul + `"}`), 400, "reason"},
			{"move reason", "POST", p + "/blocks/" + f.block + "/move-appointments", raw(`{"to_block_id":"` + f.block + `","reason":"` + nul + `"}`), 400, "reason"},
			{"template text", "PUT", p + "/notify/templates/reminder/sms/en", raw(`{"text":"See you` + nul + `"}`), 400, "text"},
			{"member name", "POST", "/api/v1/groups", raw(`{"na` + nul + `me":"Harbor"}`), 400, `na\u0000me`},
			{"patients by name", "GET", p + "/patients?name=Gr%00ace", nil, 400, "name"},
			{"patients by phone", "GET", p + "/patients?phone=%2B1202%FF", nil, 400, "phone"},
			{"patients by email", "GET", p + "/patients?email=%00", nil, 400, "email"},
			{"patients by birth date, not ISO", "GET", p + "/patients?birth_date=12/01/1980", nil, 400, "birth_date"},
			{"patients by birth date, no such day", "GET", p + "/patients?birth_date=1980-02-30", nil, 400, "birth_date"},
			{"patients by family name, too long", "GET", p + "/patients?family_name=" + strings.Repeat("a", 101), nil, 400, "family_name"},
			{"providers by specialty", "GET", p + "/providers?specialty=cardiology%00", nil, 400, "specialty"},
			{"audit by actor", "GET", p + "/audit?actor=%00", nil, 400, "actor"},
			{"audit by action", "GET", p + "/audit?action=patient.%FF", nil, 400, "action"},
			{"query parameter name", "GET", p + "/providers?%00=1", nil, 400, `\u0000`},
			{"template language", "DELETE", p + "/notify/templates/reminder/sms/%00", nil, 400, "language"},
			{"message ID", "GET", p + "/notify/messages/%00", nil, 400, "message"},
			{"patient ID, not UTF-8", "GET", p + "/patients/%FF", nil, 400, "patient"},
		}
		a.refuseAll(t, st, admin, cases)
		a.t = t
		// The same strings without the faults are taken.
		a.ok(a.do("GET", p+"/patients?name=Grace", nil, admin), 200)
		a.ok(a.do("POST", p+"/locations", raw(`{"name":"Annex \ud83c\udfe5 \u00e9","time_zone":"UTC"}`), admin), 201)
	})
}

// TestDuplicateMembersRefused refuses a JSON body that names a member
// twice, at any depth and in any case, naming the member.
func TestDuplicateMembersRefused(t *testing.T) {
	st := sqltest.SQLite(t)
	e := newEnv(t, st)
	f := e.setup("Clinic")
	appt := e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-05T14:00:00Z")), 201)
	e.refuseAll(t, st, as(staff), []badInput{
		{"top level", "POST", "/api/v1/groups", raw(`{"name":"A","name":"B"}`), 400, "name"},
		{"nested", "POST", f.base + "/locations", raw(`{"name":"Annex","time_zone":"UTC","address":{"city":"A","city":"B"}}`), 400, "address.city"},
		{"in an array", "POST", f.base + "/blocks", raw(`{"provider_id":"` + f.provider + `","location_id":"` + f.location + `",` +
			`"start":"2030-03-06T09:00:00-05:00","end":"2030-03-06T12:00:00-05:00",` +
			`"overrides":[{"date":"2030-03-06","start":"10:00","end":"11:00","end":"12:00"}]}`), 400, "overrides.end"},
		{"other case", "POST", f.base + "/appointments/" + str(appt, "id") + "/status", raw(`{"status":"confirmed","Status":"canceled"}`), 400, "Status"},
		{"escaped", "POST", "/api/v1/groups", raw(`{"name":"A","n\u0061me":"B"}`), 400, "name"},
	})
	e.t = t
	// The same key in two objects is no duplicate.
	e.ok(e.do("POST", f.base+"/locations", raw(`{"name":"Annex","time_zone":"UTC","address":{"line1":"1 Main St","city":"Annex"}}`)), 201)
}

// TestBodyMediaType answers a body that is not application/json (UTF-8)
// with 415 naming Content-Type, and a request with no body and no
// Content-Type with 400.
func TestBodyMediaType(t *testing.T) {
	st := sqltest.SQLite(t)
	e := newEnv(t, st)
	for _, c := range []struct {
		ct     string
		body   any
		status int
		field  string
	}{
		{"text/plain", raw(`{"name":"A"}`), 415, "Content-Type"},
		{"application/x-www-form-urlencoded", raw(`name=A`), 415, "Content-Type"},
		{"application/json; charset=iso-8859-1", raw(`{"name":"A"}`), 415, "Content-Type"},
		{"", raw(`{"name":"A"}`), 415, "Content-Type"},
		{"", nil, 400, ""},
	} {
		t.Run(c.ct, func(t *testing.T) {
			e.t = t
			before := fingerprint(t, st)
			e.problem(e.do("POST", "/api/v1/groups", c.body, func(r *http.Request) {
				if c.ct == "" {
					r.Header.Del("Content-Type")
				} else {
					r.Header.Set("Content-Type", c.ct)
				}
			}), c.status, c.field)
			if fingerprint(t, st) != before {
				t.Error("the database changed")
			}
		})
	}
	e.t = t
	e.ok(e.do("POST", "/api/v1/groups", raw(`{"name":"A"}`), withHeader("Content-Type", "application/json; charset=UTF-8")), 201)
}

// TestUnauthenticatedAnswersChallenge checks that every 401 carries a
// Bearer challenge: behind SessionAuth, without credentials and with bad
// ones, and from a service that finds no actor.
func TestUnauthenticatedAnswersChallenge(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	const challenge = `Bearer realm="carebook"`
	for _, c := range []struct {
		name string
		opt  reqOpt
	}{
		{"no credentials", as("")},
		{"unknown token", bearer("not-a-session")},
		{"other scheme", withHeader("Authorization", "Basic YTpi")},
		{"unknown cookie", func(r *http.Request) {
			r.Header.Del(refserver.ActorHeader)
			r.AddCookie(&http.Cookie{Name: refserver.SessionCookie, Value: "stale"})
		}},
	} {
		res := a.do("GET", a.base, nil, c.opt)
		if got := res.header.Get("WWW-Authenticate"); res.status != http.StatusUnauthorized || got != challenge {
			t.Errorf("%s: %d with WWW-Authenticate %q, want 401 with %q", c.name, res.status, got, challenge)
		}
	}
	res := a.do("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.com", "password": "wrong"}, as(""))
	if res.status != http.StatusUnauthorized || res.header.Get("WWW-Authenticate") != challenge {
		t.Errorf("failed sign-in: %d, WWW-Authenticate %q", res.status, res.header.Get("WWW-Authenticate"))
	}
	// A 403 is no challenge.
	if res := a.do("GET", "/api/v1/practices/"+uuid.NewString()+"/audit", nil, bearer(a.login("admin@example.com", password).token)); res.header.Get("WWW-Authenticate") != "" {
		t.Errorf("%d carries WWW-Authenticate %q", res.status, res.header.Get("WWW-Authenticate"))
	}

	e := newEnv(t, sqltest.SQLite(t))
	f := e.setup("Clinic")
	res = e.do("POST", f.base+"/appointments", f.bookBody("2030-03-05T14:00:00Z"), as(""))
	e.problem(res, http.StatusUnauthorized, "")
	if got := res.header.Get("WWW-Authenticate"); got != challenge {
		t.Errorf("no actor: WWW-Authenticate = %q, want %q", got, challenge)
	}
}

// TestTimesOutOfRange refuses times outside the years 1 to 9999 (UTC),
// which PostgreSQL (no year 0) or JSON (no year past 9999) cannot carry,
// naming the field, on SQLite and PostgreSQL.
func TestTimesOutOfRange(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		f := e.setup("Clinic")
		book := f.bookBody("9999-12-31T23:59:59-10:00")
		e.refuseAll(t, st, as(staff), []badInput{
			{"blocks from the year 0", "GET", f.base + "/blocks?from=0000-01-01T00:00:00Z&to=9999-12-31T23:59:59Z", nil, 400, "from"},
			{"usage from the year 0", "GET", f.base + "/notify/usage?from=0000-06-01T00:00:00Z&to=2030-01-01T00:00:00Z", nil, 400, "from"},
			{"audit from before the year 1 in UTC", "GET", f.base + "/audit?from=0001-01-01T00:00:00%2B01:00", nil, 400, "from"},
			{"booking past 9999 in UTC", "POST", f.base + "/appointments", book, 400, "start"},
		})
	})
}
