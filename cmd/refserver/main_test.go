package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestServeEndToEnd runs the real wiring: flags and environment, SQLite,
// migrations, the demo seed, the server on a free port, and a graceful stop.
func TestServeEndToEnd(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "carebook.db")
	var out, logs bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &logs
	m.Getenv = env(map[string]string{"CAREBOOK_DSN": dsn, "CAREBOOK_DEMO": "true", "CAREBOOK_LOG_LEVEL": "debug",
		"CAREBOOK_API_RATE_LIMIT": "4/1h"})
	if err := m.ParseFlags([]string{"serve", "-addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	if !m.Config.Migrate || !m.Config.Demo || m.Config.LogLevel != slog.LevelDebug || m.Config.DSN != dsn {
		t.Fatalf("config = %+v", m.Config)
	}
	ctx := context.Background()
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if !strings.HasPrefix(m.URL(), "http://127.0.0.1:") || !strings.Contains(out.String(), "carebook listening on "+m.URL()+"\n") {
		t.Fatalf("URL %q, stdout %q", m.URL(), out.String())
	}

	if m.Config.Auth != authSession {
		t.Fatalf("auth = %q, want session by default", m.Config.Auth)
	}
	// The demo administrator's password is printed once.
	var pw string
	for line := range strings.Lines(out.String()) {
		if rest, ok := strings.CutPrefix(line, "demo admin: admin@riverside.example / "); ok {
			pw = strings.TrimSpace(rest)
		}
	}
	if len(pw) < 20 {
		t.Fatalf("no demo admin password in stdout %q", out.String())
	}
	var token string
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, m.URL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var v map[string]any
		json.Unmarshal(b, &v)
		return res.StatusCode, v
	}
	get := func(path string) (int, map[string]any) { t.Helper(); return call("GET", path, "") }
	if st, _ := get("/readyz"); st != 200 {
		t.Fatalf("readyz = %d", st)
	}
	if st, _ := get("/api/v1/practices/" + m.demoPractice.String()); st != 401 {
		t.Fatalf("demo practice without a session: %d, want 401", st)
	}
	st, login := call("POST", "/api/v1/auth/login", `{"email":"admin@riverside.example","password":"`+pw+`","device":"test"}`)
	if st != 200 {
		t.Fatalf("login: %d %v", st, login)
	}
	token, _ = login["token"].(string)
	st, p := get("/api/v1/practices/" + m.demoPractice.String())
	if st != 200 || p["id"] != m.demoPractice.String() {
		t.Fatalf("demo practice: %d %v", st, p)
	}
	if st, l := get("/api/v1/practices/" + m.demoPractice.String() + "/providers"); st != 200 || len(l["items"].([]any)) == 0 {
		t.Fatalf("demo providers: %d %v", st, l)
	}
	if st, c := get("/api/v1/practices/" + m.demoPractice.String() + "/calendar?from=2020-01-01T00:00:00Z&to=2020-01-08T00:00:00Z"); st != 200 {
		t.Fatalf("demo calendar as the demo admin: %d %v", st, c)
	}
	// The practice's fourth request is its last of -api-rate-limit.
	for i, want := range []int{200, 429} {
		req, _ := http.NewRequest("GET", m.URL()+"/api/v1/practices/"+m.demoPractice.String(), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want || res.Header.Get(refserver.RateLimitLimitHeader) != "4" || res.Header.Get(refserver.RateLimitRemainingHeader) != "0" {
			t.Errorf("request %d past the limit: %d %v, want %d with the RateLimit fields", i+4, res.StatusCode, res.Header, want)
		}
	}
	if !strings.Contains(logs.String(), "http request") {
		t.Errorf("no access log in %q", logs.String())
	}

	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := http.Get(m.URL() + "/healthz"); err == nil {
		t.Fatal("still serving after Close")
	}

	// A second start on the same database seeds nothing new.
	var out2 bytes.Buffer
	m2 := NewMain()
	m2.Stdout, m2.Stderr = &out2, io.Discard
	m2.Getenv = env(map[string]string{"CAREBOOK_DSN": dsn})
	if err := m2.ParseFlags([]string{"demo"}); err != nil {
		t.Fatal(err)
	}
	if err := m2.Run(ctx); err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if m2.demoPractice != m.demoPractice {
		t.Fatalf("demo seeded again: %v, then %v", m.demoPractice, m2.demoPractice)
	}
	if strings.Contains(out2.String(), pw) || !strings.Contains(out2.String(), "password was shown on first start") {
		t.Errorf("second start's stdout = %q", out2.String())
	}
}

// TestServeStopsWithContext checks that cancelling Run's context (what
// SIGINT and SIGTERM do) stops the server.
func TestServeStopsWithContext(t *testing.T) {
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	m.Getenv = env(nil)
	if err := m.ParseFlags([]string{"-addr", "127.0.0.1:0", "-dsn", "sqlite:" + filepath.Join(t.TempDir(), "x.db")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-m.served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	m.served = nil
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMigrate(t *testing.T) {
	var out bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, io.Discard
	m.Getenv = env(map[string]string{"CAREBOOK_MIGRATE": "false"})
	if err := m.ParseFlags([]string{"migrate", "-dsn", "sqlite:" + filepath.Join(t.TempDir(), "m.db")}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Wait(context.Background()); err != nil || !strings.Contains(out.String(), "migrations applied") {
		t.Fatalf("Wait = %v, stdout %q", err, out.String())
	}
}

func TestParseFlags(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want func(Config) bool
		err  string
	}{
		{"defaults", nil, nil, func(c Config) bool {
			// Patients' files go beside the database, an absolute file:// URL.
			d := DefaultConfig()
			d.FilesURL = c.FilesURL
			return c == d && strings.HasPrefix(c.FilesURL, "file:///") && strings.HasSuffix(c.FilesURL, "/carebook.db.files?create_dir=1")
		}, ""},
		{"environment", nil, map[string]string{"CAREBOOK_ADDR": ":9000", "CAREBOOK_MIGRATE": "0", "CAREBOOK_LOG_LEVEL": "warn"},
			func(c Config) bool { return c.Addr == ":9000" && !c.Migrate && c.LogLevel == slog.LevelWarn }, ""},
		{"flags beat environment", []string{"-addr", ":9001", "-migrate=true"}, map[string]string{"CAREBOOK_ADDR": ":9000", "CAREBOOK_MIGRATE": "false"},
			func(c Config) bool { return c.Addr == ":9001" && c.Migrate }, ""},
		{"command", []string{"demo", "-log-level", "error"}, nil, func(c Config) bool { return c.Command == "demo" && c.LogLevel == slog.LevelError }, ""},
		{"unknown command", []string{"explode"}, nil, nil, "unknown command"},
		{"signup-code's note", []string{"signup-code", "-signup", "invite", "for", "Lakeside"}, nil,
			func(c Config) bool {
				return c.Command == cmdSignUpCode && c.note == "for Lakeside" && c.SignUp == "invite"
			}, ""},
		{"bad signup", nil, map[string]string{"CAREBOOK_SIGNUP": "closed"}, nil, "CAREBOOK_SIGNUP"},
		{"no registry", []string{"-nppes-url", ""}, nil, func(c Config) bool { return c.NPPESURL == "" }, ""},
		{"bad boolean", nil, map[string]string{"CAREBOOK_DEMO": "perhaps"}, nil, "CAREBOOK_DEMO"},
		{"bad level", nil, map[string]string{"CAREBOOK_LOG_LEVEL": "loud"}, nil, "CAREBOOK_LOG_LEVEL"},
		{"stray argument", []string{"serve", "now"}, nil, nil, "unexpected"},
		{"auth from environment", nil, map[string]string{"CAREBOOK_AUTH": "session"}, func(c Config) bool { return c.Auth == authSession }, ""},
		{"auth flag beats environment", []string{"-auth", "header"}, map[string]string{"CAREBOOK_AUTH": "session"},
			func(c Config) bool { return c.Auth == authHeader }, ""},
		{"bad auth", []string{"-auth", "none"}, nil, nil, "CAREBOOK_AUTH"},
		{"trusted proxies from environment", nil, map[string]string{"CAREBOOK_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1"},
			func(c Config) bool { return c.TrustedProxies == "10.0.0.0/8, 192.168.1.1" }, ""},
		{"trusted proxies flag beats environment", []string{"-trusted-proxies", "fd00::/8"}, map[string]string{"CAREBOOK_TRUSTED_PROXIES": "10.0.0.0/8"},
			func(c Config) bool { return c.TrustedProxies == "fd00::/8" }, ""},
		{"bad dsn", []string{"-dsn", "mysql://x"}, nil, nil, "-dsn / CAREBOOK_DSN"},
		{"bad sqlite parameters", nil, map[string]string{"CAREBOOK_DSN": "sqlite:x.db?a=%zz"}, nil, "CAREBOOK_DSN"},
		{"bad trusted proxy", []string{"-trusted-proxies", "10.0.0.0/8,proxy.example"}, nil, nil, "CAREBOOK_TRUSTED_PROXIES"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := NewMain()
			m.Stderr = io.Discard
			m.Getenv = env(c.env)
			err := m.ParseFlags(c.args)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !c.want(m.Config) {
				t.Fatalf("err = %v, config = %+v", err, m.Config)
			}
		})
	}
}

func TestHelpListsEnvironment(t *testing.T) {
	var usage bytes.Buffer
	m := NewMain()
	m.Stderr = &usage
	m.Getenv = env(nil)
	if err := m.ParseFlags([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	cfg := DefaultConfig()
	for _, v := range options(&cfg) {
		if !strings.Contains(usage.String(), "-"+v.flag) || !strings.Contains(usage.String(), v.env) {
			t.Errorf("usage lacks -%s / %s:\n%s", v.flag, v.env, usage.String())
		}
	}
	for _, line := range strings.Split(usage.String(), "\n") {
		if strings.Count(line, "(default") > 1 || strings.Contains(line, `(default "")`) {
			t.Errorf("a flag with two defaults, or an empty one: %s", line)
		}
	}
	if !strings.Contains(usage.String(), `(default "127.0.0.1:8080")`) {
		t.Errorf("the defaults are gone:\n%s", usage.String())
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db": "postgres://u:***@h:5432/db",
		"postgres://u@h/db":             "postgres://u@h/db",
		"sqlite:x.db":                   "sqlite:x.db",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestServeWithSessionAuth checks that -auth session puts SessionAuth in
// front of the routes: the header is no longer trusted, health still answers.
func TestServeWithSessionAuth(t *testing.T) {
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	m.Getenv = env(map[string]string{"CAREBOOK_AUTH": "session"})
	if err := m.ParseFlags([]string{"-addr", "127.0.0.1:0", "-dsn", "sqlite:" + filepath.Join(t.TempDir(), "s.db")}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for path, want := range map[string]int{
		"/healthz": http.StatusOK,
		"/api/v1/practices/00000000-0000-0000-0000-000000000001": http.StatusUnauthorized,
		"/api/v1/auth/sessions":                                  http.StatusUnauthorized,
	} {
		req, err := http.NewRequest("GET", m.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(refserver.ActorHeader, "staff:desk-1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
		}
	}
}

// TestSignUpCodeCommand: refserver signup-code prints an invitation once,
// with which a clinic signs up on an invite-only server, once.
func TestSignUpCodeCommand(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "carebook.db")
	var out bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, io.Discard
	m.Getenv = env(map[string]string{"CAREBOOK_DSN": dsn, "CAREBOOK_SIGNUP": "invite"})
	if err := m.ParseFlags([]string{"signup-code", "for", "Lakeside"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	code, ok := strings.CutPrefix(strings.TrimSpace(out.String()), "carebook sign-up invitation: ")
	if !ok || code == "" {
		t.Fatalf("stdout = %q", out.String())
	}
	in := carebook.ClinicSignUp{Email: "owner@lakeside.example", Password: "a long enough passphrase", ClinicName: "Lakeside", Invitation: code}
	if _, err := m.engine.SignUpClinic(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Email = "again@lakeside.example"
	if _, err := m.engine.SignUpClinic(ctx, in); errs.FieldOf(err) != "invitation" {
		t.Fatalf("a second sign-up with the code: %v", err)
	}
}

// TestOperatorAddCommand: refserver operator-add -email prints a one-time
// password with which the support staff member signs in; without -email it
// refuses to start.
func TestOperatorAddCommand(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "carebook.db")
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	m.Getenv = env(map[string]string{"CAREBOOK_DSN": dsn})
	if err := m.ParseFlags([]string{"operator-add"}); err == nil || !strings.Contains(err.Error(), "-email") {
		t.Fatalf("operator-add without -email: %v", err)
	}
	var out bytes.Buffer
	m.Stdout = &out
	if err := m.ParseFlags([]string{"operator-add", "-email", "Help@Carebook.Example"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	pw, ok := strings.CutPrefix(strings.TrimSpace(out.String()), "carebook support staff help@carebook.example, password: ")
	if !ok || pw == "" {
		t.Fatalf("stdout = %q", out.String())
	}
	if _, _, err := m.engine.OperatorSignIn(ctx, "help@carebook.example", pw); err != nil {
		t.Fatal(err)
	}
}
