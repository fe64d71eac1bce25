package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
)

// The OpenAPI walk: every operation of the served document, sent with
// mutated requests (garbage and wrong-typed bodies, NUL, invalid UTF-8 and
// huge strings, bad UUIDs and query values: per path parameter, per query
// parameter and per body member, as the document describes them) as a
// practice administrator behind SessionAuth. No answer may be a 5xx, and
// every answer must be one the document allows.

// walkOp is one operation of the document.
type walkOp struct {
	method, path string // path is the document's template
	pathParams   []string
	query        []*openapi3.Parameter
	body         *openapi3.Schema // the JSON body's schema, nil without one
}

// walker sends mutated requests for the operations of the served document.
type walker struct {
	a     *authEnv
	ops   []walkOp
	ids   map[string]string // path parameter or body member => a valid value
	token string            // the administrator's session
	// opsLogin signs the walk's support staff member in: the support
	// routes (refserver.OperatorAPIPrefix) are walked with its token.
	opsLogin func() string
	opsToken string
	n        int  // requests sent, for their client addresses
	full     bool // every mutation at every slot (see pick)
	// fail reports an answer that breaks the rules; the test's t.Errorf.
	fail func(format string, args ...any)
}

// sessionEnders end the session they are sent with (or all of the
// account's, or its others): each gets a fresh session, and the walker
// signs in again after.
var sessionEnders = map[string]bool{
	"POST /api/v1/auth/logout":               true,
	"POST /api/v1/auth/logout-everywhere":    true,
	"DELETE /api/v1/auth/sessions/{session}": true,
	"POST /api/v1/auth/password":             true,
}

// newWalker sets a practice up behind SessionAuth on st, signs its
// administrator in and reads the served document.
func newWalker(t *testing.T, st *sqlstore.Store) *walker {
	t.Helper()
	return newWalkerWith(t, st, testBucket(t))
}

// newWalkerWith is newWalker keeping patients' files in b.
func newWalkerWith(t *testing.T, st *sqlstore.Store, b filesBucket) *walker {
	t.Helper()
	ctx := context.Background()
	a := newAuthEnvWith(t, st, b)
	// Session-ending operations sign in afresh each time: the walk would
	// soon be rate limited.
	opts := a.srv.Options()
	opts.RateLimit = refserver.RateLimit{PerIP: -1, PerAccount: -1}
	a.srv = newServer(a.engine, opts)
	w := &walker{a: a, fail: t.Errorf, full: os.Getenv("CAREBOOK_WALK") == "full"}
	w.token = a.login("admin@example.com", password).token
	f := (&matrixEnv{authEnv: a, st: st}).fixture(a.practice.String(), bearer(w.token), false)
	_, key, err := a.engine.Identity.CreateAPIKey(ctx, a.practice, "walk", nil, a.admin)
	if err != nil {
		t.Fatal(err)
	}
	role := &rbac.Role{ID: uuid.New(), Owner: rbac.PracticeOwner(a.group, a.practice), Name: "walk",
		Permissions: []rbac.Permission{rbac.CalendarRead}, CreatedAt: testNow, CreatedBy: "system:test", UpdatedAt: testNow}
	if err := st.RBAC.CreateRole(ctx, role); err != nil {
		t.Fatal(err)
	}
	grant := &rbac.Grant{ID: uuid.New(), AccountID: a.admin, RoleID: role.ID, Scope: rbac.PracticeScope(a.group, a.practice),
		CreatedAt: testNow, CreatedBy: "system:test"}
	if err := st.RBAC.CreateGrant(ctx, grant); err != nil {
		t.Fatal(err)
	}
	if _, err := a.engine.Notify.PutTemplate(ctx, notify.Template{PracticeID: a.practice, Kind: notify.KindReminder,
		Channel: notify.SMS, Language: "en", Text: "See you {{.When}}"}); err != nil {
		t.Fatal(err)
	}
	staff, opsPassword, err := a.engine.AddOperator(ctx, "walk@operator.example")
	if err != nil {
		t.Fatal(err)
	}
	w.opsLogin = func() string {
		return str(a.ok(a.do("POST", refserver.OperatorAPILoginPath, map[string]any{"email": staff.Email, "password": opsPassword}, as("")), 201), "token")
	}
	w.opsToken = w.opsLogin()
	w.ids = map[string]string{
		"id": f.practice, "practice": f.practice, "location": f.location, "provider": f.provider, "visit_type": f.visitType,
		"block": f.block, "patient": f.patient, "appointment": f.appointment, "message": f.message,
		"key": key.ID.String(), "role": role.ID.String(), "grant": grant.ID.String(),
		"kind": "reminder", "channel": "sms", "language": "en", "token": "not-a-link",
		"group_id": a.group.String(), "patient_id": f.patient, "provider_id": f.provider, "location_id": f.location,
		"visit_type_id": f.visitType, "to_block_id": f.block, "appointment_id": f.appointment, "account_id": a.admin.String(),
		"role_id": role.ID.String(), "file": f.file, "amendment": uuid.NewString(), "record_request": uuid.NewString(),
		"payment": f.payment, "invoice": f.invoice,
	}

	res := a.do("GET", "/api/openapi.json", nil, as(""))
	if res.status != http.StatusOK {
		t.Fatalf("GET /api/openapi.json: %d", res.status)
	}
	d, err := openapi3.NewLoader().LoadFromData(res.body)
	if err != nil {
		t.Fatal(err)
	}
	paths := d.Paths.InMatchingOrder()
	slices.Sort(paths)
	for _, path := range paths {
		item := d.Paths.Find(path)
		ops := item.Operations()
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		slices.Sort(methods)
		for _, m := range methods {
			op := ops[m]
			wo := walkOp{method: m, path: path}
			for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
				switch p.Value.In {
				case openapi3.ParameterInPath:
					wo.pathParams = append(wo.pathParams, p.Value.Name)
				case openapi3.ParameterInQuery:
					wo.query = append(wo.query, p.Value)
				}
			}
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
					wo.body = mt.Schema.Value
				}
			}
			w.ops = append(w.ops, wo)
		}
	}
	if len(w.ops) < len(documented(a.srv)) {
		t.Fatalf("the document has %d operations, the route table %d", len(w.ops), len(documented(a.srv)))
	}
	return w
}

// walkReq is one request of the walk. path overrides path parameters
// (unescaped values); body is sent as it is, with contentType.
type walkReq struct {
	path        map[string]string
	query       url.Values
	rawQuery    string // appended to the encoded query as it is
	body        []byte
	contentType string
	what        string // the mutation, for failure messages
}

// send sends req for op and reports a 5xx, or an answer the document does
// not allow, with the request and the answer.
func (w *walker) send(op walkOp, req walkReq) resp {
	w.a.t.Helper()
	key := op.method + " " + op.path
	token := w.token
	vals := map[string]string{}
	for k, v := range w.ids {
		vals[k] = v
	}
	if sessionEnders[key] {
		s := w.a.login("admin@example.com", password)
		token, vals["session"] = s.token, str(s.session, "id")
		defer func() { w.token = w.a.login("admin@example.com", password).token }()
	}
	if strings.HasPrefix(op.path, refserver.OperatorAPIPrefix+"/") {
		token = w.opsToken
		if key == "POST "+refserver.OperatorAPIPrefix+"/logout" {
			token = w.opsLogin()
		}
	}
	for k, v := range req.path {
		vals[k] = v
	}
	path := op.path
	for _, name := range op.pathParams {
		path = strings.Replace(path, "{"+name+"}", url.PathEscape(vals[name]), 1)
	}
	target := path
	q := req.query.Encode()
	if req.rawQuery != "" {
		q = strings.TrimPrefix(q+"&"+req.rawQuery, "&")
	}
	if q != "" {
		target += "?" + q
	}
	var r *http.Request
	if req.body != nil {
		r = httptest.NewRequest(op.method, target, bytes.NewReader(req.body))
		r.Header.Set("Content-Type", req.contentType)
	} else {
		r = httptest.NewRequest(op.method, target, nil)
	}
	r.Header.Set("Authorization", "Bearer "+token)
	// A client address per request, so that the sign-in limits of one
	// address do not stop the walk at the door.
	w.n++
	r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:4000", w.n>>16&255, w.n>>8&255, w.n&255)
	rec := httptest.NewRecorder()
	w.a.srv.ServeHTTP(rec, r)
	res := resp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if res.status >= 500 {
		w.fail("%s %s (%s) answered %d\nrequest body: %s\nanswer: %s", op.method, target, req.what, res.status, clip(req.body), clip(res.body))
	} else if err := validateAnswer(r, res); err != nil {
		w.fail("%s %s (%s): %v\nrequest body: %s\nanswer: %s", op.method, target, req.what, err, clip(req.body), clip(res.body))
	}
	return res
}

// clip shortens b for a failure message.
func clip(b []byte) string {
	if len(b) > 300 {
		return fmt.Sprintf("%q… (%d bytes)", b[:300], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// rawMark stands, in a value to encode, for rawValue: encoding/json would
// replace invalid UTF-8 in a string, so it is put in after encoding.
const (
	rawMark  = "\x01raw\x01"
	rawValue = "\"caf\xe9 \xff\xfe\""
)

// encode encodes v as JSON, putting rawValue in place of rawMark.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	mark, _ := json.Marshal(rawMark)
	return bytes.ReplaceAll(b, mark, []byte(rawValue))
}

// huge is a string far longer than any field takes, well inside the body limit.
var huge = strings.Repeat("é", 100_000)

// The mutations. Each list starts with the ones every slot gets; a full
// walk (CAREBOOK_WALK=full, make fuzz) tries the rest everywhere too, the
// quick one (make test) a few of the rest, different ones at each slot
// (see pick), so that each is tried somewhere.

// badValues replace one body member at a time.
var badValues = []any{
	"a\x00b",
	rawMark, huge, map[string]any{}, -1, nil, true, 0, 1.5, 1e300, json.Number("123456789012345678901234567890"), "", "x",
	[]any{}, []any{nil}, []any{"a\x00b"}, []any{huge}, []any{map[string]any{}},
	"not-a-uuid", "00000000-0000-0000-0000-000000000000", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2030-13-45T99:99:99Z",
}

// badQueryValues replace one query parameter at a time.
var badQueryValues = []string{
	"\x00", "\xff",
	strings.Repeat("x", 10_000), "x", "-1", "", "0", "1e999", "99999999999999999999", "not-a-uuid", "00000000-0000-0000-0000-000000000000",
	"0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2030-13-45T99:99:99Z", "true", ",,,",
}

// badPathValues replace one path parameter at a time.
var badPathValues = []string{
	"\x00", "not-a-uuid",
	"\xff", strings.Repeat("a", 10_000), "00000000-0000-0000-0000-000000000000", "..",
	"{0190f0c2-8e3a-7c4d-9b1e-2f3a4b5c6d7e}", "0190F0C2-8E3A-7C4D-9B1E-2F3A4B5C6D7E", " ",
}

// garbageBodies replace the whole body.
var garbageBodies = []string{
	"", "{", "\xff\xfe",
	"[]", `{"a":1}`, "null", `"x"`, " ", "}", "[{}]", "0", `{"":1}`, "\xef\xbb\xbf{}", `{"x":1e999}`, "\x00",
	strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000),
	strings.Repeat(`{"a":`, 20_000) + "1" + strings.Repeat("}", 20_000), `{"a":"` + strings.Repeat("x", 2<<20) + `"}`,
}

// Core is how many of each list every slot gets; the quick walk sends
// every stride-th of the rest.
const (
	coreValues, corePathValues, coreQueryValues, coreBodies = 1, 2, 2, 3
	stride                                                  = 16
)

// pick returns the mutations of vals to send at the i-th slot of the walk.
func pick[T any](full bool, vals []T, core, i int) []T {
	if full {
		return vals
	}
	out := slices.Clone(vals[:core])
	for j := core; j < len(vals); j++ {
		if (j+i)%stride == 0 {
			out = append(out, vals[j])
		}
	}
	return out
}

// plausibleStrings are plausible values of string members by name.
var plausibleStrings = map[string]string{
	"kind": "reminder", "channel": "sms", "language": "en", "role": "front_desk", "npi": "1234567893",
	"text": "See you soon", "password": password, "new_password": "a much longer password", "rrule": "FREQ=WEEKLY;BYDAY=WE",
}

// value is a plausible value of schema for the member name, so that a
// request mutated elsewhere gets past the members it does not mutate.
func (w *walker) value(name string, s *openapi3.Schema, depth int) any {
	switch {
	case s == nil:
		return "x"
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Type.Includes("object"):
		m := map[string]any{}
		if depth < 4 {
			for _, p := range slices.Sorted(maps.Keys(s.Properties)) {
				m[p] = w.value(p, s.Properties[p].Value, depth+1)
			}
		}
		return m
	case s.Type.Includes("array"):
		return []any{}
	case s.Type.Includes("integer"), s.Type.Includes("number"):
		if s.Min != nil {
			return *s.Min
		}
		return 30
	case s.Type.Includes("boolean"):
		return false
	case s.Format == "uuid":
		if id, ok := w.ids[name]; ok {
			return id
		}
		return uuid.NewString()
	case s.Format == "date-time" && name == "end":
		return "2030-03-05T16:00:00Z"
	case s.Format == "date-time":
		return "2030-03-05T14:00:00Z"
	}
	if v, ok := plausibleStrings[name]; ok {
		return v
	}
	switch {
	case strings.Contains(name, "email"):
		return "walk@example.com"
	case strings.Contains(name, "phone"):
		return "+12025550199"
	case name == "time_zone":
		return "America/New_York"
	case name == "birth_date":
		return "1980-12-09"
	}
	return "x"
}

// members lists the JSON paths of the members of s (nested objects and the
// objects of arrays included, to a small depth), each with its schema.
func members(s *openapi3.Schema, prefix []string, depth int, out *[][]string) {
	if s == nil || depth > 2 {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		p := append(slices.Clone(prefix), name)
		*out = append(*out, p)
		ps := s.Properties[name].Value
		if ps != nil && ps.Type.Includes("array") && ps.Items != nil {
			members(ps.Items.Value, append(p, "[]"), depth+1, out)
		} else {
			members(ps, p, depth+1, out)
		}
	}
}

// with returns a copy of body with the member at path set to v; an array
// on the way ("[]" in path) keeps its first element only, or gets one.
func with(body any, path []string, v any) any {
	if len(path) == 0 {
		return v
	}
	switch b := body.(type) {
	case map[string]any:
		c := make(map[string]any, len(b)+1)
		for k, x := range b {
			c[k] = x
		}
		next := c[path[0]]
		if next == nil && len(path) > 1 {
			if path[1] == "[]" {
				next = []any{}
			} else {
				next = map[string]any{}
			}
		}
		c[path[0]] = with(next, path[1:], v)
		return c
	case []any:
		var item any = map[string]any{}
		if len(b) > 0 {
			item = b[0]
		}
		return []any{with(item, path[1:], v)}
	}
	return v
}

// walk sends every mutation of op.
func (w *walker) walk(op walkOp) {
	slot := 0
	next := func() int { slot++; return slot }
	for _, p := range op.pathParams {
		vals := pick(w.full, badPathValues, corePathValues, next())
		if p == "practice" && !w.full {
			// Every route of a practice reads {practice} alike.
			vals = badPathValues[:1]
		}
		for _, v := range vals {
			w.send(op, walkReq{path: map[string]string{p: v}, what: "path " + p + "=" + clip([]byte(v))})
		}
	}
	for _, p := range op.query {
		for _, v := range pick(w.full, badQueryValues, coreQueryValues, next()) {
			w.send(op, walkReq{query: url.Values{p.Name: {v}}, what: fmt.Sprintf("query %s=%s", p.Name, clip([]byte(v)))})
		}
		w.send(op, walkReq{query: url.Values{p.Name: {"a", "b"}}, what: "query " + p.Name + " twice"})
	}
	if slices.ContainsFunc(op.query, func(p *openapi3.Parameter) bool { return p.Name == "from" }) {
		// Time ranges as wide as RFC 3339 goes, and reversed.
		w.send(op, walkReq{query: url.Values{"from": {"0000-01-01T00:00:00Z"}, "to": {"9999-12-31T23:59:59Z"}}, what: "the widest range"})
		w.send(op, walkReq{query: url.Values{"from": {"9999-12-31T23:59:59Z"}, "to": {"0000-01-01T00:00:00Z"}}, what: "a reversed range"})
	}
	if op.body == nil {
		return
	}
	base := w.value("", op.body, 0)
	sendJSON := func(b []byte, what string) resp {
		return w.send(op, walkReq{body: b, contentType: "application/json", what: what})
	}
	plausible := sendJSON(encode(base), "the plausible body")
	for _, g := range pick(w.full, garbageBodies, coreBodies, next()) {
		sendJSON([]byte(g), "body "+clip([]byte(g)))
	}
	// Unless authorization refuses it before the body is read, a body that
	// is not JSON is 415.
	refused := plausible.status == http.StatusForbidden || plausible.status == http.StatusNotFound
	if res := w.send(op, walkReq{body: encode(base), contentType: "text/plain", what: "a text/plain body"}); res.status != http.StatusUnsupportedMediaType && !refused {
		w.fail("%s %s with a text/plain body answered %d, want 415: %s", op.method, op.path, res.status, clip(res.body))
	}
	var paths [][]string
	members(op.body, nil, 0, &paths)
	for _, p := range paths {
		for _, v := range pick(w.full, badValues, coreValues, next()) {
			sendJSON(encode(with(base, p, v)), "member "+strings.Join(p, ".")+" = "+clip(encode(v)))
		}
		if len(p) == 1 && (w.full || p[0] == paths[0][0]) {
			// The member twice.
			b := encode(with(base, p, "x"))
			dup := append([]byte(`{"`+p[0]+`":null,`), b[1:]...)
			if len(b) == 2 {
				dup = []byte(`{"` + p[0] + `":null}`)
			}
			sendJSON(dup, "member "+p[0]+" twice")
		}
	}
}

// TestOpenAPIWalk walks every operation of the served OpenAPI document with
// mutated requests as a practice administrator, on SQLite and PostgreSQL:
// no answer may be a 5xx, nor one the document does not allow.
func TestOpenAPIWalk(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		t.Parallel() // SQLite works the CPU, PostgreSQL mostly waits
		w := newWalker(t, st)
		for _, op := range w.ops {
			w.walk(op)
		}
		t.Logf("%d operations, %d requests", len(w.ops), w.n)
	})
}

// fuzz sends op with value in its slot-th slot (modulo their number): a
// path parameter, a query parameter, a body member (as a string) or, last,
// the whole body.
func (w *walker) fuzz(op walkOp, slot int, value string) {
	var paths [][]string
	members(op.body, nil, 0, &paths)
	n := len(op.pathParams) + len(op.query) + len(paths)
	if op.body != nil {
		n++
	}
	if n == 0 {
		w.send(op, walkReq{what: "no input"})
		return
	}
	i := slot % n
	what := fmt.Sprintf("slot %d = %s", i, clip([]byte(value)))
	switch {
	case i < len(op.pathParams):
		w.send(op, walkReq{path: map[string]string{op.pathParams[i]: value}, what: what})
		return
	case i < len(op.pathParams)+len(op.query):
		w.send(op, walkReq{query: url.Values{op.query[i-len(op.pathParams)].Name: {value}}, what: what})
		return
	}
	i -= len(op.pathParams) + len(op.query)
	body := []byte(value)
	if i < len(paths) {
		body = encode(with(w.value("", op.body, 0), paths[i], value))
	}
	w.send(op, walkReq{body: body, contentType: "application/json", what: what})
}

// FuzzOpenAPIWalk is the walk with fuzzed values, on SQLite: the operation
// op (modulo their number) with value in one of its slots (see fuzz), as
// the practice administrator. No answer may be a 5xx, nor one the document
// does not allow. make fuzz runs it.
func FuzzOpenAPIWalk(f *testing.F) {
	st := sqltest.SQLite(f)
	b := testBucket(f) // the walker's, which outlives its first input
	for _, seed := range []struct {
		op    uint16
		slot  uint8
		value string
	}{
		{0, 0, "\x00"}, {17, 1, "not-a-uuid"}, {33, 2, `{"a":1}`}, {50, 3, "9999-12-31T23:59:59-10:00"}, {64, 4, "\xff"},
	} {
		f.Add(seed.op, seed.slot, seed.value)
	}
	var w *walker // set up once per process, by its first input
	f.Fuzz(func(t *testing.T, op uint16, slot uint8, value string) {
		if w == nil {
			w = newWalkerWith(t, st, b)
		}
		w.a.t, w.fail = t, t.Errorf
		w.fuzz(w.ops[int(op)%len(w.ops)], int(slot), value)
	})
}
