package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/refserver/api"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// app is the reference server as make run serves it, behind real session
// authentication, on a fresh database seeded with the demo clinic (its
// administrator, front desk and patient accounts), at the fixed test time,
// listening on a loopback port for clients and browsers.
type app struct {
	t        *testing.T
	clock    *clock.Fixed
	engine   *carebook.Engine
	srv      *refserver.Server
	http     *httptest.Server
	demo     demo.Result
	practice string
	tokens   *tokenBox
}

// tokenBox keeps the tokens the server delivered (email verifications,
// invitations), as a mailbox would.
type tokenBox struct {
	mu   sync.Mutex
	msgs []refserver.TokenMessage
}

func (b *tokenBox) deliver(_ context.Context, m refserver.TokenMessage) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, m)
	return nil
}

// last is the newest token of kind sent to to, or "".
func (b *tokenBox) last(kind, to string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.msgs) - 1; i >= 0; i-- {
		if m := b.msgs[i]; m.Kind == kind && strings.EqualFold(m.To, to) {
			return m.Token
		}
	}
	return ""
}

func newApp(t *testing.T, st *sqlstore.Store) *app {
	t.Helper()
	return serveApp(t, st, nil)
}

// newSQLiteApp is newApp on a SQLite database of its own, a copy of the
// demo clinic seeded once per test process (seededDemo): the seeding, its
// password hashes above all, is the slow part of a page test.
func newSQLiteApp(t *testing.T, opts ...carebook.Option) *app {
	t.Helper()
	d, err := seededDemo()
	if err != nil {
		t.Fatalf("the seeded demo: %v", err)
	}
	path := filepath.Join(t.TempDir(), "carebook.db")
	if err := os.WriteFile(path, d.db, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open(context.Background(), "sqlite:"+path, sqlstore.WithMasterKey(sqltest.MasterKey()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return serveApp(t, st, &d.res, opts...)
}

// seeded is a SQLite database of the demo clinic, as bytes, with what its
// seeding returned.
type seeded struct {
	db  []byte
	res demo.Result
}

// seededDemo seeds the demo clinic at testNow, once per process, into a
// file read back and removed.
var seededDemo = sync.OnceValues(func() (seeded, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "carebook-web-demo-")
	if err != nil {
		return seeded{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "demo.db")
	st, err := sqlstore.Open(ctx, "sqlite:"+path, sqlstore.WithMasterKey(sqltest.MasterKey()))
	if err != nil {
		return seeded{}, err
	}
	err = st.Migrate(ctx)
	var res demo.Result
	if err == nil {
		e := carebook.NewWithStore(st, carebook.WithClock(clock.NewFixed(testNow)), carebook.WithLinks(testLinkKey, testPublicURL))
		res, err = demo.SeedWithAdmin(ctx, e)
	}
	if err == nil {
		_, err = st.DB().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return seeded{}, err
	}
	b, err := os.ReadFile(path)
	return seeded{db: b, res: res}, err
})

// serveApp serves the reference server on st, seeding the demo clinic
// unless res says it is there.
func serveApp(t *testing.T, st *sqlstore.Store, res *demo.Result, opts ...carebook.Option) *app {
	t.Helper()
	clk := clock.NewFixed(testNow)
	// Patients' files go to a directory of the test's, as make run keeps them.
	bucket, err := files.OpenBucket(context.Background(), "file://"+filepath.ToSlash(t.TempDir())+"?create_dir=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bucket.Close() })
	e := carebook.NewWithStore(st, append([]carebook.Option{carebook.WithClock(clk), carebook.WithLinks(testLinkKey, testPublicURL),
		carebook.WithFiles(bucket, files.Options{})}, opts...)...)
	if res == nil {
		r, err := demo.SeedWithAdmin(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		res = &r
	}
	a := &app{t: t, clock: clk, engine: e, demo: *res, practice: res.PracticeID.String(), tokens: &tokenBox{}}
	a.srv = refserver.New(e, refserver.Options{
		Authenticate: refserver.SessionAuth(e.Identity),
		DeliverToken: a.tokens.deliver,
		RateLimit:    refserver.RateLimit{PerIP: -1, PerAccount: -1},
	}, api.Module, Module)
	a.http = httptest.NewServer(a.srv)
	t.Cleanup(a.http.Close)
	return a
}

// base is the root of the demo practice's pages.
func (a *app) base() string { return "/p/" + a.practice }

// client is a browser without JavaScript: it keeps cookies, posts forms
// with the CSRF token of its cookie, and does not follow redirects (each
// answer is checked as it comes).
type client struct {
	t   *testing.T
	a   *app
	c   *http.Client
	url *url.URL
}

// page is an answer, read in full.
type page struct {
	status int
	header http.Header
	body   string
}

// location is where a redirect goes, as a path.
func (p page) location() string {
	u, err := url.Parse(p.header.Get("Location"))
	if err != nil {
		return ""
	}
	return u.RequestURI()
}

func (a *app) client() *client {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(a.http.URL)
	return &client{t: a.t, a: a, url: u, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signedIn is a client signed in as email with password, at its home.
func (a *app) signedIn(email, password string) *client {
	a.t.Helper()
	c := a.client()
	c.get("/signin")
	res := c.post("/signin", url.Values{"email": {email}, "password": {password}})
	if res.status != http.StatusSeeOther {
		a.t.Fatalf("sign in as %s: %d\n%s", email, res.status, res.body)
	}
	return c
}

// cookie is the value of the client's cookie name, "" when it has none.
func (c *client) cookie(name string) string {
	for _, k := range c.c.Jar.Cookies(c.url) {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

func (c *client) get(path string) page {
	c.t.Helper()
	return c.send("GET", path, nil)
}

// post posts form (with the CSRF token) to path.
func (c *client) post(path string, form url.Values) page {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get(refserver.CSRFField) == "" {
		form.Set(refserver.CSRFField, c.cookie(refserver.CSRFCookie))
	}
	return c.send("POST", path, form)
}

func (c *client) send(method, path string, form url.Values) page {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, err := http.NewRequest(method, c.a.http.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.c.Do(r)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return page{status: res.StatusCode, header: res.Header, body: string(b)}
}

// want fails unless p has status and contains every one of texts.
func (p page) want(t *testing.T, status int, texts ...string) page {
	t.Helper()
	if p.status != status {
		t.Fatalf("status = %d, want %d\n%s", p.status, status, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page lacks %q\n%s", s, p.body)
		}
	}
	return p
}
