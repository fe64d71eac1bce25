package api

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

// testMaxFileSize is the largest file of the test servers behind
// SessionAuth: more than two of the 1 MiB segments files are sealed in.
const testMaxFileSize = 3 << 20

// marker is in the content of the test files, never in the bytes at rest.
const marker = "PLAINTEXT-MARKER-7f3a"

// filePaths are the paths of a matrixEnv's practice A.
type filePaths struct{ base string }

func (p filePaths) upload(patient, name string) string {
	return p.base + "/patients/" + patient + "/files?name=" + url.QueryEscape(name)
}
func (p filePaths) list(patient string) string { return p.base + "/patients/" + patient + "/files" }
func (p filePaths) file(id string) string      { return p.base + "/files/" + id }

// noContentType sends a body without a Content-Type.
func noContentType(r *http.Request) { r.Header.Del("Content-Type") }

// objects returns the objects of the bucket in dir: every file but the
// attributes beside them.
func objects(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".attrs") {
			return err
		}
		b, err := os.ReadFile(path)
		out[path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPatientFilesAPI walks patients' files through the API behind
// SessionAuth, on SQLite and PostgreSQL: a practice administrator uploads,
// lists, downloads (an attachment with its name, never sniffed or cached)
// and deletes, each access logged once; the bytes at rest hold no
// plaintext; the front desk is refused (403), the patient sees their own
// files only and may not upload; another practice's caller gets 404; bad
// input is a 4xx naming its field, and leaves nothing behind.
func TestPatientFilesAPI(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) { testPatientFilesAPI(t, newMatrixEnvOn(t, st)) })
}

func testPatientFilesAPI(t *testing.T, m *matrixEnv) {
	ctx := context.Background()
	a := filePaths{"/api/v1/practices/" + m.a.practice}
	b := filePaths{"/api/v1/practices/" + m.b.practice}
	admin, desk, self := bearer(m.token("practice_admin_A")), bearer(m.token("front_desk_A")), bearer(m.token("patient_P1"))
	content := []byte(strings.Repeat(marker+" Dear colleague, please see Grace. ", 1200)) // past the first chunk
	const name = `Überweisung "Dr. Müller"; März.pdf`

	res := m.do("POST", a.upload(m.a.patient, name), raw(content), admin, withHeader("Content-Type", "application/pdf"))
	f := m.ok(res, http.StatusCreated)
	id := str(f, "id")
	if res.header.Get("Location") != a.file(id) || f["name"] != name || f["content_type"] != "application/pdf" ||
		f["size"] != float64(len(content)) || f["patient_id"] != m.a.patient || f["practice_id"] != m.a.practice {
		t.Fatalf("upload: Location %q, %v", res.header.Get("Location"), f)
	}
	if items := m.items(m.do("GET", a.list(m.a.patient), nil, admin)); len(items) != 2 || str(items[1].(map[string]any), "id") != id {
		t.Fatalf("list = %v, want the fixture's letter and the upload", items)
	}

	// The download: the bytes, as an attachment with the file's name.
	res = m.do("GET", a.file(id), nil, admin)
	if res.status != http.StatusOK || !bytes.Equal(res.body, content) {
		t.Fatalf("download: %d, %d bytes", res.status, len(res.body))
	}
	h := res.header
	disp, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || params["filename"] != name || !strings.Contains(h.Get("Content-Disposition"), `filename="`) {
		t.Errorf("Content-Disposition = %q: %v %v", h.Get("Content-Disposition"), params, err)
	}
	for k, want := range map[string]string{"Content-Type": "application/pdf", "Content-Length": strconv.Itoa(len(content)),
		"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Location": ""} {
		if got := h.Get(k); got != want {
			t.Errorf("download: %s = %q, want %q", k, got, want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
		t.Errorf("download: Content-Security-Policy = %q, want a sandbox", csp)
	}

	// At rest: the objects hold neither the content nor the name.
	at := objects(t, m.filesDir)
	if len(at) != 4 { // the fixture's three letters and the upload
		t.Fatalf("%d objects in the bucket, want 4", len(at))
	}
	for path, b := range at {
		for _, clear := range []string{marker, "Dear colleague", "Müller", "letter"} {
			if bytes.Contains(b, []byte(clear)) {
				t.Errorf("%s holds %q in clear", path, clear)
			}
		}
	}

	// Each access is logged once, by the Engine's guard: no second entry
	// of the route's.
	logged := func(action, resource string, out audit.Outcome) int {
		n := 0
		for _, en := range m.entriesOf(action, out) {
			if en.ResourceID == resource {
				n++
			}
		}
		return n
	}
	if u, r, l := logged("file.upload", id, audit.Allowed), logged("file.read", id, audit.Allowed), logged("file.list", m.a.patient, audit.Allowed); u != 1 || r != 1 || l != 1 {
		t.Errorf("allowed entries: %d file.upload, %d file.read, %d file.list; want one each", u, r, l)
	}

	// The front desk sees no clinical data; every refusal is logged.
	m.problem(m.do("POST", a.upload(m.a.patient, "x.txt"), raw("x"), desk, withHeader("Content-Type", "text/plain")), 403, "")
	m.problem(m.do("GET", a.list(m.a.patient), nil, desk), 403, "")
	m.problem(m.do("GET", a.file(id), nil, desk), 403, "")
	m.problem(m.do("DELETE", a.file(id), nil, desk), 403, "")
	if n := logged("file.read", id, audit.Denied); n != 1 {
		t.Errorf("%d denied file.read entries, want 1", n)
	}

	// The patient reads their own files, not another patient's, and
	// changes none.
	if n := len(m.items(m.do("GET", a.list(m.a.patient), nil, self))); n != 2 {
		t.Errorf("the patient lists %d files, want 2", n)
	}
	if res := m.do("GET", a.file(id), nil, self); res.status != http.StatusOK || !bytes.Equal(res.body, content) {
		t.Errorf("the patient's download: %d", res.status)
	}
	m.problem(m.do("GET", a.list(m.a.otherPatient), nil, self), 403, "")
	m.problem(m.do("GET", a.file(m.a.otherFile), nil, self), 403, "")
	m.problem(m.do("POST", a.upload(m.a.patient, "x.txt"), raw("x"), self, withHeader("Content-Type", "text/plain")), 403, "")
	m.problem(m.do("DELETE", a.file(id), nil, self), 403, "")

	// Another practice: not found, and logged there as denied.
	m.problem(m.do("GET", b.list(m.b.patient), nil, admin), 404, "")
	m.problem(m.do("GET", b.file(m.b.file), nil, admin), 404, "")
	m.problem(m.do("GET", b.file(id), nil, admin), 404, "")
	m.problem(m.do("POST", b.upload(m.b.patient, "x.txt"), raw("x"), admin, withHeader("Content-Type", "text/plain")), 404, "")
	inB, err := m.engine.Audit.Query(ctx, uuid.MustParse(m.b.practice), audit.Filter{Action: "file.list"})
	if err != nil || len(inB) != 1 || inB[0].Outcome != audit.Denied {
		t.Errorf("file.list entries in B = %+v (%v), want one denied", inB, err)
	}
	// A member of both (the group administrator) finds A's file only under A.
	m.problem(m.do("GET", b.file(id), nil, bearer(m.token("group_admin"))), 404, "")

	// Bad input names its field and leaves nothing behind.
	for _, c := range []struct {
		name   string
		path   string
		body   any
		opts   []reqOpt
		status int
		field  string
	}{
		{"no name", a.base + "/patients/" + m.a.patient + "/files", raw("x"), []reqOpt{withHeader("Content-Type", "text/plain")}, 400, "name"},
		{"empty name", a.upload(m.a.patient, ""), raw("x"), []reqOpt{withHeader("Content-Type", "text/plain")}, 400, "name"},
		{"blank name", a.upload(m.a.patient, "   "), raw("x"), []reqOpt{withHeader("Content-Type", "text/plain")}, 400, "name"},
		{"long name", a.upload(m.a.patient, strings.Repeat("n", 256)), raw("x"), []reqOpt{withHeader("Content-Type", "text/plain")}, 400, "name"},
		{"control character in the name", a.upload(m.a.patient, "a\x01b"), raw("x"), []reqOpt{withHeader("Content-Type", "text/plain")}, 400, "name"},
		{"no Content-Type", a.upload(m.a.patient, "x.txt"), raw("x"), []reqOpt{noContentType}, 400, "Content-Type"},
		{"bad Content-Type", a.upload(m.a.patient, "x.txt"), raw("x"), []reqOpt{withHeader("Content-Type", "application/")}, 400, "Content-Type"},
		{"Content-Type without a subtype", a.upload(m.a.patient, "x.txt"), raw("x"), []reqOpt{withHeader("Content-Type", "pdf")}, 400, "Content-Type"},
		{"a form", a.upload(m.a.patient, "x.txt"), raw("a=b"), []reqOpt{withHeader("Content-Type", "application/x-www-form-urlencoded")}, 415, "Content-Type"},
		{"a multipart form", a.upload(m.a.patient, "x.txt"), raw("--x--"), []reqOpt{withHeader("Content-Type", "multipart/form-data; boundary=x")}, 415, "Content-Type"},
		{"too large", a.upload(m.a.patient, "big.bin"), raw(strings.Repeat("b", testMaxFileSize+1)), []reqOpt{withHeader("Content-Type", "application/octet-stream")}, 413, ""},
		{"unknown patient", a.upload(uuid.NewString(), "x.txt"), raw("x"), []reqOpt{withHeader("Content-Type", "text/plain")}, 404, ""},
		{"bad patient ID", a.upload("grace", "x.txt"), raw("x"), []reqOpt{withHeader("Content-Type", "text/plain")}, 400, "patient"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m.t = t
			defer func() { m.t = t }()
			m.problem(m.do("POST", c.path, c.body, append([]reqOpt{admin}, c.opts...)...), c.status, c.field)
		})
	}
	m.t = t
	m.problem(m.do("GET", a.list(uuid.NewString()), nil, admin), 404, "")
	m.problem(m.do("GET", a.file(uuid.NewString()), nil, admin), 404, "")
	m.problem(m.do("DELETE", a.file(uuid.NewString()), nil, admin), 404, "")
	m.problem(m.do("GET", a.file("letter"), nil, admin), 400, "file")
	if n := len(m.items(m.do("GET", a.list(m.a.patient), nil, admin))); n != 2 {
		t.Errorf("after bad input the patient has %d files, want 2", n)
	}
	if n := len(objects(t, m.filesDir)); n != 4 {
		t.Errorf("after bad input the bucket holds %d objects, want 4", n)
	}

	// Delete: the record and the object go.
	if res := m.do("DELETE", a.file(id), nil, admin); res.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	m.problem(m.do("GET", a.file(id), nil, admin), 404, "")
	if n := len(m.items(m.do("GET", a.list(m.a.patient), nil, admin))); n != 1 {
		t.Errorf("after the delete the patient has %d files, want 1", n)
	}
	if n := len(objects(t, m.filesDir)); n != 3 {
		t.Errorf("after the delete the bucket holds %d objects, want 3", n)
	}
	if n := logged("file.delete", id, audit.Allowed); n != 1 {
		t.Errorf("%d allowed file.delete entries, want 1", n)
	}
}

// TestFileDownloadOfTamperedObject: an object altered in the bucket (or
// gone from it) is a 409 when its first segment does not decrypt, and a
// download cut short
// of its Content-Length (never a complete-looking file) when a later one
// does not, on SQLite and PostgreSQL.
func TestFileDownloadOfTamperedObject(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		m := newMatrixEnvOn(t, st)
		a := filePaths{"/api/v1/practices/" + m.a.practice}
		admin := bearer(m.token("practice_admin_A"))
		object := func(id string) string {
			t.Helper()
			f, err := m.engine.Files.Get(context.Background(), uuid.MustParse(m.a.practice), uuid.MustParse(id))
			if err != nil {
				t.Fatal(err)
			}
			return filepath.Join(m.filesDir, f.ObjectKey)
		}
		flip := func(id string, at int64) {
			t.Helper()
			path := object(id)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[at] ^= 0xff
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		upload := func(content []byte) string {
			t.Helper()
			return str(m.ok(m.do("POST", a.upload(m.a.patient, "scan.bin"), raw(content), admin,
				withHeader("Content-Type", "application/octet-stream")), 201), "id")
		}

		small := upload([]byte(marker))
		flip(small, 60)
		p := m.problem(m.do("GET", a.file(small), nil, admin), 409, "")
		if p.Kind != "conflict" {
			t.Errorf("problem = %+v", p)
		}

		gone := upload([]byte(marker))
		if err := os.Remove(object(gone)); err != nil {
			t.Fatal(err)
		}
		if p := m.problem(m.do("GET", a.file(gone), nil, admin), 409, ""); p.Kind != "conflict" {
			t.Errorf("missing object: problem = %+v", p)
		}

		big := bytes.Repeat([]byte(marker), (5<<20/2)/len(marker)) // 2.5 MiB: three segments
		id := upload(big)
		flip(id, 2<<20+100) // in the third segment
		ts := httptest.NewServer(m.srv)
		defer ts.Close()
		r, err := http.NewRequest("GET", ts.URL+a.file(id), nil)
		if err != nil {
			t.Fatal(err)
		}
		admin(r)
		res, err := ts.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		got, err := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || err == nil || len(got) >= len(big) || res.ContentLength != int64(len(big)) {
			t.Fatalf("download of an object altered in its third segment: %d, Content-Length %d, %d bytes read, error %v; want a cut body",
				res.StatusCode, res.ContentLength, len(got), err)
		}
	})
}

// TestFileHead: HEAD of a download answers its headers without its bytes.
func TestFileHead(t *testing.T) {
	m := newMatrixEnv(t)
	r := httptest.NewRequest("HEAD", "/api/v1/practices/"+m.a.practice+"/files/"+m.a.file, nil)
	bearer(m.token("practice_admin_A"))(r)
	w := httptest.NewRecorder()
	m.srv.ServeHTTP(w, r)
	if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Length") != strconv.Itoa(len("A scanned letter")) ||
		w.Header().Get("Content-Type") != "text/plain" {
		t.Fatalf("HEAD: %d, %d bytes, %v", w.Code, w.Body.Len(), w.Header())
	}
}

// TestFilesWithoutBucket: a server whose engine keeps no files answers
// the file routes 404, saying so.
func TestFilesWithoutBucket(t *testing.T) {
	st := sqltest.SQLite(t)
	e := carebook.NewWithStore(st, carebook.WithClock(clock.NewFixed(testNow)))
	env := &testEnv{t: t, engine: e, srv: newServer(e, refserver.Options{})}
	p := filePaths{"/api/v1/practices/" + uuid.NewString()}
	for _, res := range []resp{
		env.do("POST", p.upload(uuid.NewString(), "x.txt"), raw("x"), withHeader("Content-Type", "text/plain")),
		env.do("GET", p.list(uuid.NewString()), nil),
		env.do("GET", p.file(uuid.NewString()), nil),
		env.do("DELETE", p.file(uuid.NewString()), nil),
	} {
		if pr := env.problem(res, 404, ""); !strings.Contains(pr.Detail, "keeps no files") {
			t.Errorf("problem = %+v", pr)
		}
	}
}

// TestFilesNeedACaller: behind ActorFromHeader (development), which
// authenticates nobody, the Engine's guard has no caller to decide for,
// so the file routes answer 401 rather than serve anyone who names an
// actor.
func TestFilesNeedACaller(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t))
	f := e.setup("Clinic")
	p := filePaths{f.base}
	e.problem(e.do("POST", p.upload(f.patient, "x.txt"), raw("x"), withHeader("Content-Type", "text/plain")), 401, "")
	e.problem(e.do("GET", p.list(f.patient), nil), 401, "")
	if n := len(objects(t, e.filesDir)); n != 0 {
		t.Errorf("%d objects in the bucket, want none", n)
	}
}
