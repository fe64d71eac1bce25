package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestFilesURLConfig checks where patients' files go by flags and
// environment: beside a SQLite database file (an absolute file:// URL,
// its path escaped), nowhere for PostgreSQL or in memory, the URL given,
// off when set empty; and a URL that names no bucket is refused naming the
// option.
func TestFilesURLConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		set  bool // the environment is read by LookupEnv
		args []string
		want string
		err  string
	}{
		{name: "beside sqlite", args: []string{"-dsn", "sqlite:/data/x/carebook.db?_pragma=foo"}, want: "file:///data/x/carebook.db.files?create_dir=1"},
		{name: "beside a .db path", args: []string{"-dsn", "/data/y.db"}, want: "file:///data/y.db.files?create_dir=1"},
		{name: "a path a URL must escape", args: []string{"-dsn", "sqlite:/data/my clinic #2/c.db"}, want: "file:///data/my%20clinic%20%232/c.db.files?create_dir=1"},
		{name: "postgres: off", args: []string{"-dsn", "postgres://u@h/db"}, want: ""},
		{name: "in memory: off", args: []string{"-dsn", "sqlite::memory:"}, want: ""},
		{name: "flag", args: []string{"-files-url", "s3://phi?region=us-east-1"}, want: "s3://phi?region=us-east-1"},
		{name: "flag empty: off", args: []string{"-files-url", ""}, want: ""},
		{name: "env", env: map[string]string{"CAREBOOK_FILES_URL": "file:///srv/files"}, want: "file:///srv/files"},
		{name: "env set empty: off", env: map[string]string{"CAREBOOK_FILES_URL": ""}, set: true, want: ""},
		{name: "flag over env", env: map[string]string{"CAREBOOK_FILES_URL": "file:///env"}, args: []string{"-files-url", "file:///flag"}, want: "file:///flag"},
		{name: "another scheme", args: []string{"-files-url", "https://bucket.example"}, err: "-files-url / CAREBOOK_FILES_URL"},
		{name: "a relative directory", args: []string{"-files-url", "file://files"}, err: "absolute directory"},
		{name: "no bucket", env: map[string]string{"CAREBOOK_FILES_URL": "s3://?region=x"}, err: "needs a bucket"},
		{name: "not a URL", args: []string{"-files-url", "s3://phi\x7f"}, err: "-files-url / CAREBOOK_FILES_URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := NewMain()
			m.Stderr = io.Discard
			m.Getenv = env(c.env)
			if c.set {
				m.LookupEnv = func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
			}
			err := m.ParseFlags(c.args)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Config.FilesURL != c.want {
				t.Errorf("files URL = %q, want %q", m.Config.FilesURL, c.want)
			}
			if u, err := url.Parse(c.want); c.want != "" && (err != nil || u.Scheme == "") {
				t.Errorf("%q does not parse back: %v", c.want, err)
			}
		})
	}
}

// client signs in to a served Main and calls its API.
type client struct {
	t     *testing.T
	base  string
	token string
}

func (c *client) call(method, path, contentType string, body io.Reader) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return res, b
}

// signIn serves m's demo clinic and signs its administrator in.
func signIn(t *testing.T, m *Main, out *bytes.Buffer) (*client, string) {
	t.Helper()
	var pw string
	for line := range strings.Lines(out.String()) {
		if rest, ok := strings.CutPrefix(line, "demo admin: admin@riverside.example / "); ok {
			pw = strings.TrimSpace(rest)
		}
	}
	c := &client{t: t, base: m.URL()}
	res, b := c.call("POST", "/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"admin@riverside.example","password":"`+pw+`","device":"test"}`))
	var login struct{ Token string }
	if err := json.Unmarshal(b, &login); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", res.StatusCode, b)
	}
	c.token = login.Token
	res, b = c.call("GET", "/api/v1/practices/"+m.demoPractice.String()+"/patients?limit=1", "", nil)
	var list struct{ Items []struct{ ID string } }
	if err := json.Unmarshal(b, &list); err != nil || res.StatusCode != http.StatusOK || len(list.Items) != 1 {
		t.Fatalf("patients: %d %s", res.StatusCode, b)
	}
	return c, list.Items[0].ID
}

// TestServeKeepsFiles runs serve beside a SQLite database with its
// default bucket: a file uploaded through the API is kept encrypted in
// PATH.files/ (made for the server's user alone) and comes back whole;
// Close closes the bucket.
func TestServeKeepsFiles(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clinic.db")
	var out, logs bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &logs
	m.Getenv = env(map[string]string{"CAREBOOK_DSN": "sqlite:" + db, "CAREBOOK_DEMO": "1"})
	if err := m.ParseFlags([]string{"-addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if m.files == nil || m.engine.Files == nil {
		t.Fatal("serve opened no bucket")
	}
	c, patient := signIn(t, m, &out)
	const content = "PLAINTEXT-MARKER-c0ffee: a referral letter"
	base := "/api/v1/practices/" + m.demoPractice.String()
	res, b := c.call("POST", base+"/patients/"+patient+"/files?name=referral.txt", "text/plain", strings.NewReader(content))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", res.StatusCode, b)
	}
	res, b = c.call("GET", res.Header.Get("Location"), "", nil)
	if res.StatusCode != http.StatusOK || string(b) != content || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %q %v", res.StatusCode, b, res.Header)
	}

	dir := db + filesSuffix
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the files' directory: %v, %v", fi, err)
	}
	objects := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".attrs") {
			return err
		}
		objects++
		b, err := os.ReadFile(path)
		if bytes.Contains(b, []byte("PLAINTEXT-MARKER")) {
			t.Errorf("%s holds the file in clear", path)
		}
		return err
	})
	if err != nil || objects != 1 {
		t.Errorf("%d objects in %s (%v), want 1", objects, dir, err)
	}
	if !strings.Contains(logs.String(), `files="`+fileURL(dir)+`"`) {
		t.Errorf("the log does not say where files are kept: %s", logs.String())
	}

	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if m.files != nil {
		t.Error("Close left the bucket open")
	}
}

// TestServeWithoutFiles: serve on PostgreSQL without -files-url keeps no
// files: it says so in the log, and the file routes answer 404.
func TestServeWithoutFiles(t *testing.T) {
	dsn := sqltest.PostgresDatabase(t)
	var out, logs bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &logs
	m.Getenv = env(map[string]string{"CAREBOOK_DSN": dsn, "CAREBOOK_DEMO": "1",
		"CAREBOOK_MASTER_KEY_FILE": filepath.Join(t.TempDir(), "master-key.json")})
	if err := m.ParseFlags([]string{"-addr", "127.0.0.1:0", "-audit-archive", ""}); err != nil {
		t.Fatal(err)
	}
	if m.Config.FilesURL != "" {
		t.Fatalf("files URL = %q for PostgreSQL, want none", m.Config.FilesURL)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if !strings.Contains(logs.String(), "this server keeps no files") || !strings.Contains(logs.String(), "files=off") {
		t.Errorf("the log does not say files are off: %s", logs.String())
	}
	c, patient := signIn(t, m, &out)
	res, b := c.call("POST", "/api/v1/practices/"+m.demoPractice.String()+"/patients/"+patient+"/files?name=x.txt", "text/plain", strings.NewReader("x"))
	if res.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "keeps no files") {
		t.Errorf("upload without files: %d %s", res.StatusCode, b)
	}
}
