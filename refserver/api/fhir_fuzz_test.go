package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// everythingEnv is the practice administrator's view of one patient's
// $everything, set up once per fuzzing process.
type everythingEnv struct {
	a     *authEnv
	token string
	path  string
	total int // the export's resources, which the fuzzing does not change
}

// FuzzEverythingPage sends Patient/$everything with fuzzed _count and
// cursor parameters, as the practice administrator, on SQLite. The answer
// is 200 or a 400 problem naming the parameter at fault, never anything
// else: _count must be an integer from 1 to MaxEverythingPage (absent:
// DefaultEverythingPage), cursor an offset from 0 to the export's total
// (absent: 0); when both are at fault, either may be named. A page holds the resources from the cursor on, as many as
// _count asks for and the export still has, says the whole export's total,
// and links a next page exactly when resources remain, its cursor just
// past the page and its _count the same.
func FuzzEverythingPage(f *testing.F) {
	st := sqltest.SQLite(f)
	b := testBucket(f) // the environment's, which outlives its first input
	for _, s := range [][2]string{
		{"2", ""}, {"", "3"}, {"1", "5"}, {"1000", "0"}, {"0", ""}, {"1001", ""}, {"-1", ""}, {"", "-1"}, {"", "x"},
		{"+3", "+1"}, {" 2", ""}, {"", "99999999999999999999"}, {"3", "9223372036854775807"}, {"2", "1e3"}, {"\x00", "\xff"},
	} {
		f.Add(s[0], s[1])
	}
	var env *everythingEnv // set up by the first input
	f.Fuzz(func(t *testing.T, count, cursor string) {
		if env == nil {
			env = newEverythingEnv(t, st, b)
		}
		env.a.t = t
		env.check(t, count, cursor)
	})
}

// newEverythingEnv builds the practice of the API tests (a patient with a
// visit and a file) behind session authentication without rate limits,
// and counts the patient's export.
func newEverythingEnv(t *testing.T, st *sqlstore.Store, b filesBucket) *everythingEnv {
	t.Helper()
	a := newAuthEnvWith(t, st, b)
	opts := a.srv.Options()
	opts.RateLimit = refserver.RateLimit{PerIP: -1, PerAccount: -1}
	a.srv = newServer(a.engine, opts)
	env := &everythingEnv{a: a, token: a.login("admin@example.com", password).token}
	ids := (&matrixEnv{authEnv: a, st: st}).fixture(a.practice.String(), bearer(env.token), false)
	env.path = a.base + "/patients/" + ids.patient + "/$everything"
	res := a.do("GET", env.path, nil, bearer(env.token))
	var bundle struct{ Total int }
	if res.status != http.StatusOK || json.Unmarshal(res.body, &bundle) != nil || bundle.Total < 3 {
		t.Fatalf("the patient's export: %d %s", res.status, res.body)
	}
	env.total = bundle.Total
	return env
}

// check sends one page's request and checks its answer.
func (env *everythingEnv) check(t *testing.T, count, cursor string) {
	t.Helper()
	q := url.Values{}
	if count != "" {
		q.Set("_count", count)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	res := env.a.do("GET", env.path+"?"+q.Encode(), nil, bearer(env.token))
	// What the parameters ask for, by their documented rules.
	n, cerr := carebook.DefaultEverythingPage, error(nil)
	if count != "" {
		if n, cerr = strconv.Atoi(count); cerr == nil && (n < 1 || n > carebook.MaxEverythingPage) {
			cerr = strconv.ErrRange
		}
	}
	offset, oerr := 0, error(nil)
	if cursor != "" {
		if offset, oerr = strconv.Atoi(cursor); oerr == nil && (offset < 0 || offset > env.total) {
			oerr = strconv.ErrRange
		}
	}

	switch res.status {
	case http.StatusBadRequest:
		var p struct{ Field string }
		if err := json.Unmarshal(res.body, &p); err != nil {
			t.Fatalf("_count %q, cursor %q: 400 that is no problem: %s", count, cursor, res.body)
		}
		// Either parameter at fault may be named: the server checks every
		// parameter's text (UTF-8) before the handler reads its value.
		switch {
		case p.Field == "_count" && cerr != nil:
		case p.Field == "cursor" && oerr != nil:
		default:
			t.Fatalf("_count %q, cursor %q: 400 naming %q (the count's fault: %v, the cursor's: %v): %s", count, cursor, p.Field, cerr, oerr, res.body)
		}
		return
	case http.StatusOK:
	default:
		t.Fatalf("_count %q, cursor %q: %d %s", count, cursor, res.status, res.body)
	}
	if cerr != nil || oerr != nil {
		t.Fatalf("_count %q, cursor %q: 200 for a bad parameter (the count's fault: %v, the cursor's: %v)", count, cursor, cerr, oerr)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/fhir+json" {
		t.Fatalf("_count %q, cursor %q: Content-Type %q", count, cursor, ct)
	}
	var bundle struct {
		ResourceType string
		Total        int
		Entry        []json.RawMessage
		Link         []struct{ Relation, URL string }
	}
	if err := json.Unmarshal(res.body, &bundle); err != nil || bundle.ResourceType != "Bundle" {
		t.Fatalf("_count %q, cursor %q: not a Bundle (%v): %.300s", count, cursor, err, res.body)
	}
	want := min(n, env.total-offset)
	if bundle.Total != env.total || len(bundle.Entry) != want {
		t.Fatalf("_count %q, cursor %q: %d entries of total %d, want %d of %d", count, cursor, len(bundle.Entry), bundle.Total, want, env.total)
	}
	var next *url.URL
	for _, l := range bundle.Link {
		if l.Relation == "next" {
			u, err := url.Parse(l.URL)
			if err != nil {
				t.Fatalf("_count %q, cursor %q: next link %q: %v", count, cursor, l.URL, err)
			}
			next = u
		}
	}
	switch {
	case offset+want < env.total && next == nil:
		t.Fatalf("_count %q, cursor %q: %d resources remain and no next link", count, cursor, env.total-offset-want)
	case offset+want == env.total && next != nil:
		t.Fatalf("_count %q, cursor %q: a next link (%s) after the last page", count, cursor, next)
	case next != nil:
		nq := next.Query()
		if nq.Get("cursor") != strconv.Itoa(offset+want) || nq.Get("_count") != strconv.Itoa(n) {
			t.Fatalf("_count %q, cursor %q: next link %s, want cursor %d and _count %d", count, cursor, next, offset+want, n)
		}
	}
}
