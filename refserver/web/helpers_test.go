package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/refserver/api"
	"github.com/carebook/carebook/refserver/internal/openapicheck"
	"github.com/carebook/carebook/sqlstore"
)

// testNow is the fixed time of every test: Monday 4 March 2030, 10:00 in New York.
var testNow = time.Date(2030, 3, 4, 15, 0, 0, 0, time.UTC)

const testPublicURL = "https://clinic.example"

// testLinkKey signs the links of the tests.
var testLinkKey = bytes.Repeat([]byte{7}, 32)

// testEnv is the reference server (the core, the API and these pages)
// over an Engine that signs links, on a fresh database with a fixed clock.
// The API, as staff, sets the practice up; the pages are what is tested.
type testEnv struct {
	t      *testing.T
	clock  *clock.Fixed
	engine *carebook.Engine
	srv    *refserver.Server
	links  *notify.Links
}

func newEnv(t *testing.T, st *sqlstore.Store) *testEnv {
	t.Helper()
	clk := clock.NewFixed(testNow)
	e := carebook.NewWithStore(st, carebook.WithClock(clk), carebook.WithLinks(testLinkKey, testPublicURL))
	links, err := notify.NewLinks(testLinkKey, testPublicURL)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, clock: clk, engine: e, srv: refserver.New(e, refserver.Options{}, api.Module, Module), links: links}
}

// resp is an answer, read in full.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends a JSON request to the API as staff.
func (e *testEnv) do(method, path string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	r := httptest.NewRequest(method, path, rd)
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set(refserver.ActorHeader, "staff:desk-1")
	return e.serve(r)
}

// post sends a link request as a mail reader would: no actor, no body.
// (Named after the API tests' helper, it sends any method.)
func (e *testEnv) post(method, target, contentType string, body []byte, header http.Header) resp {
	e.t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for k, vs := range header {
		r.Header[k] = vs
	}
	res := e.serve(r)
	if err := e.validate(r, res); err != nil {
		e.t.Fatalf("%v\nbody: %s", err, res.body)
	}
	return res
}

// The OpenAPI document the server serves, loaded once per test binary.
var doc struct {
	once sync.Once
	d    *openapicheck.Document
	err  error
}

// validate checks an answer (status, content type, body) against the
// operation of the document the server serves (package api's), as the
// API's tests check theirs.
func (e *testEnv) validate(r *http.Request, res resp) error {
	doc.once.Do(func() {
		got := e.serve(httptest.NewRequest("GET", "/api/openapi.json", nil))
		doc.d, doc.err = openapicheck.Load(got.body)
	})
	if doc.err != nil {
		return doc.err
	}
	return doc.d.Check(r, res.status, res.header, res.body)
}

func (e *testEnv) serve(r *http.Request) resp {
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	return resp{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// ok decodes a successful answer, failing unless its status is want.
func (e *testEnv) ok(res resp, want int) map[string]any {
	e.t.Helper()
	if res.status != want {
		e.t.Fatalf("status = %d, want %d; body: %s", res.status, want, res.body)
	}
	var m map[string]any
	if err := json.Unmarshal(res.body, &m); err != nil {
		e.t.Fatalf("answer is not a JSON object: %v: %s", err, res.body)
	}
	return m
}

// str reads a string member of a decoded answer.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// fixture is a practice set up through the API: a provider working
// Tuesdays and Thursdays 09:00 to 12:00 in New York, a visit type of 30
// minutes and a patient.
type fixture struct {
	practice, provider, visitType, patient string
	base                                   string
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
	pr := e.ok(e.do("POST", f.base+"/providers", map[string]any{"npi": "1234567893", "given_name": "Ada", "family_name": "Lovelace",
		"location_ids": []string{str(l, "id")}}), 201)
	f.provider = str(pr, "id")
	v := e.ok(e.do("POST", f.base+"/visit-types", map[string]any{"name": "Check-up", "duration_minutes": 30}), 201)
	f.visitType = str(v, "id")
	e.ok(e.do("POST", f.base+"/blocks", map[string]any{"provider_id": f.provider, "location_id": str(l, "id"),
		"start": "2030-03-05T09:00:00-05:00", "end": "2030-03-05T12:00:00-05:00", "rrule": "FREQ=WEEKLY;BYDAY=TU,TH"}), 201)
	pt := e.ok(e.do("POST", f.base+"/patients", map[string]any{"given_name": "Grace", "family_name": "Hopper",
		"birth_date": "1980-12-09", "phone": "+12025550143", "email": "grace@example.com"}), 201)
	f.patient = str(pt, "id")
	return f
}

// bookBody is a booking of the fixture's patient with its provider.
func (f fixture) bookBody(start string) map[string]any {
	return map[string]any{"patient_id": f.patient, "provider_id": f.provider, "visit_type_id": f.visitType, "start": start}
}
