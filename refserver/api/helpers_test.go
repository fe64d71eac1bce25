package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/refserver/internal/openapicheck"
	"github.com/carebook/carebook/refserver/web"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"gocloud.dev/blob"
)

// testNow is the fixed time of every test: Monday 4 March 2030, 10:00 in New York.
var testNow = time.Date(2030, 3, 4, 15, 0, 0, 0, time.UTC)

const (
	staff   = "staff:desk-1"
	patient = "patient:p-1"
)

// testEnv is a Server over an Engine on a fresh database, with a fixed clock
// and every answer checked against the OpenAPI document.
type testEnv struct {
	t      *testing.T
	clock  *clock.Fixed
	engine *carebook.Engine
	srv    *refserver.Server
	// filesDir is the directory of the engine's bucket of patients' files.
	filesDir string
}

func newEnv(t *testing.T, st *sqlstore.Store) *testEnv {
	t.Helper()
	clk := clock.NewFixed(testNow)
	b := testBucket(t)
	e := carebook.NewWithStore(st, carebook.WithClock(clk), carebook.WithFiles(b.bucket, files.Options{}))
	return &testEnv{t: t, clock: clk, engine: e, srv: newServer(e, refserver.Options{}), filesDir: b.dir}
}

// filesBucket is a bucket of patients' files and the directory it keeps
// its objects in.
type filesBucket struct {
	bucket *blob.Bucket
	dir    string
}

// testBucket is a bucket of patients' files in a fresh directory, closed
// at the end of the test.
func testBucket(t testing.TB) filesBucket {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "files")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(dir), RawQuery: "create_dir=1"}
	b, err := files.OpenBucket(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return filesBucket{b, dir}
}

// resp is an answer, read in full.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// reqOpt changes a request before it is sent.
type reqOpt func(*http.Request)

// as sets the acting actor; "" sends none.
func as(a string) reqOpt {
	return func(r *http.Request) {
		if a == "" {
			r.Header.Del(refserver.ActorHeader)
		} else {
			r.Header.Set(refserver.ActorHeader, a)
		}
	}
}

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// raw is a request body sent as it is.
type raw string

// do sends a request through the whole handler stack as staff (unless an
// option says otherwise). A body that is not raw is encoded as JSON.
func (e *testEnv) do(method, path string, body any, opts ...reqOpt) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case raw:
		rd = strings.NewReader(string(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	r := httptest.NewRequest(method, path, rd)
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set(refserver.ActorHeader, staff)
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	res := resp{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	checkAgainstDocument(e.t, r, res)
	return res
}

// ok decodes a successful answer into a map, failing unless its status is want.
func (e *testEnv) ok(res resp, want int) map[string]any {
	e.t.Helper()
	if res.status != want {
		e.t.Fatalf("status = %d, want %d; body: %s", res.status, want, res.body)
	}
	var m map[string]any
	if len(res.body) > 0 {
		if err := json.Unmarshal(res.body, &m); err != nil {
			e.t.Fatalf("answer is not a JSON object: %v: %s", err, res.body)
		}
	}
	return m
}

// problem checks that res is a problem document with status and field, and
// returns it.
func (e *testEnv) problem(res resp, status int, field string) refserver.Problem {
	e.t.Helper()
	if res.status != status {
		e.t.Fatalf("status = %d, want %d; body: %s", res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
		e.t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p refserver.Problem
	if err := json.Unmarshal(res.body, &p); err != nil {
		e.t.Fatalf("problem: %v: %s", err, res.body)
	}
	if p.Status != status || p.Field != field || p.Title == "" || !strings.HasPrefix(p.Type, refserver.ProblemTypePrefix+p.Kind) {
		e.t.Fatalf("problem = %+v, want status %d and field %q", p, status, field)
	}
	return p
}

// items returns the items of a list answer.
func (e *testEnv) items(res resp) []any {
	e.t.Helper()
	m := e.ok(res, http.StatusOK)
	it, ok := m["items"].([]any)
	if !ok {
		e.t.Fatalf("no items in %s", res.body)
	}
	return it
}

// count returns how many items a GET of path lists.
func (e *testEnv) count(path string) int {
	e.t.Helper()
	return len(e.items(e.do("GET", path, nil)))
}

// The OpenAPI document, loaded once per test binary.
var doc struct {
	once sync.Once
	d    *openapicheck.Document
	err  error
}

func loadDocument() (*openapicheck.Document, error) {
	doc.once.Do(func() { doc.d, doc.err = openapicheck.Load(openAPIDocument()) })
	return doc.d, doc.err
}

// checkAgainstDocument fails t unless validateAnswer accepts the answer.
func checkAgainstDocument(t *testing.T, r *http.Request, res resp) {
	t.Helper()
	if err := validateAnswer(r, res); err != nil {
		t.Fatalf("%v\nbody: %s", err, res.body)
	}
}

// validateAnswer validates an answer (status, content type, body) against
// the operation the OpenAPI document gives for the request. An answer to a
// route the document lacks must be a 404 or 405.
func validateAnswer(r *http.Request, res resp) error {
	d, err := loadDocument()
	if err != nil {
		return err
	}
	err = d.Check(r, res.status, res.header, res.body)
	if errors.Is(err, openapicheck.ErrNoRoute) && (res.status == http.StatusNotFound || res.status == http.StatusMethodNotAllowed) {
		return nil
	}
	return err
}

// npi makes a valid NPI from nine digits.
func npi(t testing.TB, nine string) string {
	for d := '0'; d <= '9'; d++ {
		if s := nine + string(d); scheduling.ValidNPI(s) {
			return s
		}
	}
	t.Fatalf("no check digit for %s", nine)
	return ""
}

// str reads a string member of a decoded answer.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// fixture is a practice set up through the API: a location in New York, a
// provider working there on Tuesdays and Thursdays 09:00 to 12:00, a visit
// type of 30 minutes and a patient.
type fixture struct {
	practice, location, provider, visitType, block, patient string
	base                                                    string // /api/v1/practices/{practice}
}

func (e *testEnv) setup(name string) fixture {
	e.t.Helper()
	var f fixture
	g := e.ok(e.do("POST", "/api/v1/groups", map[string]any{"name": name + " group"}), 201)
	p := e.ok(e.do("POST", "/api/v1/practices", map[string]any{"group_id": g["id"], "name": name}), 201)
	f.practice = str(p, "id")
	f.base = "/api/v1/practices/" + f.practice
	l := e.ok(e.do("POST", f.base+"/locations", map[string]any{"name": "Main street", "time_zone": "America/New_York",
		"address": map[string]any{"line1": "1 Main St", "city": "New York", "region": "NY", "country": "US"},
		"geo":     map[string]any{"lat": 40.7, "lng": -74.0}}), 201)
	f.location = str(l, "id")
	pr := e.ok(e.do("POST", f.base+"/providers", map[string]any{"npi": "1234567893", "given_name": "Ada", "family_name": "Lovelace",
		"specialties": []string{"family-medicine"}, "location_ids": []string{f.location}}), 201)
	f.provider = str(pr, "id")
	v := e.ok(e.do("POST", f.base+"/visit-types", map[string]any{"name": "Check-up", "duration_minutes": 30}), 201)
	f.visitType = str(v, "id")
	b := e.ok(e.do("POST", f.base+"/blocks", map[string]any{"provider_id": f.provider, "location_id": f.location,
		"start": "2030-03-05T09:00:00-05:00", "end": "2030-03-05T12:00:00-05:00", "rrule": "FREQ=WEEKLY;BYDAY=TU,TH"}), 201)
	f.block = str(b, "id")
	pt := e.ok(e.do("POST", f.base+"/patients", map[string]any{"given_name": "Grace", "family_name": "Hopper",
		"birth_date": "1980-12-09", "phone": "+12025550143", "email": "grace@example.com"}), 201)
	f.patient = str(pt, "id")
	return f
}

// bookBody is a booking of the fixture's patient with its provider.
func (f fixture) bookBody(start string) map[string]any {
	return map[string]any{"patient_id": f.patient, "provider_id": f.provider, "visit_type_id": f.visitType, "start": start}
}

// calendarPath is the calendar of the fixture's first week.
func (f fixture) calendarPath() string {
	return f.base + "/calendar?from=2030-03-04T00:00:00Z&to=2030-03-11T00:00:00Z"
}

func newRequest(method, path string) *http.Request { return httptest.NewRequest(method, path, nil) }

// newServer is the reference server over e: the core, the API and the
// pages, as cmd/refserver composes them.
func newServer(e *carebook.Engine, opts refserver.Options) *refserver.Server {
	return refserver.New(e, opts, Module, web.Module)
}

// documented are the routes of srv that the OpenAPI document describes and
// these tests walk: the JSON API's, and the pages of email links (part of
// the notification contract). The web app's pages are tested in
// refserver/web, with their own authorization matrix.
func documented(srv *refserver.Server) []refserver.Route {
	var out []refserver.Route
	for _, rt := range srv.Routes() {
		if !srv.IsPage(rt) || strings.HasPrefix(rt.Pattern, "/l/") {
			out = append(out, rt)
		}
	}
	return out
}
