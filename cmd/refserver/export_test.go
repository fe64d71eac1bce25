package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// TestServeExportsTheActivityLog runs serve with its default archive beside
// a SQLite database: the export job is scheduled while it serves, one run
// (called directly rather than waited for) exports a closed day, and Close
// stops the scheduler cleanly.
func TestServeExportsTheActivityLog(t *testing.T) {
	dir := t.TempDir()
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	m.Getenv = env(map[string]string{"CAREBOOK_DSN": "sqlite:" + filepath.Join(dir, "carebook.db")})
	if err := m.ParseFlags([]string{"-addr", "127.0.0.1:0", "-audit-export-every", "1h", "-trials-every", "2m", "-billing-every", "3h"}); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "audit-archive")
	if m.Config.AuditArchive != archive || m.Config.AuditExportEvery != time.Hour || m.Config.TrialsEvery != 2*time.Minute ||
		m.Config.BillingEvery != 3*time.Hour {
		t.Fatalf("config = %+v", m.Config)
	}
	ctx := context.Background()
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if m.scheduler == nil || m.exporter == nil {
		t.Fatal("serve started no export scheduler")
	}
	if names := jobNames(m); len(names) != 8 || !names[audit.JobName] || !names[notify.JobName] || !names[carebook.ExportJobName] ||
		!names[carebook.RateLimitSweepJobName] || !names[carebook.DirectoryRefreshJobName] ||
		!names[carebook.ActiveProvidersJobName] || !names[carebook.TrialJobName] || !names[carebook.BillingJobName] {
		t.Fatalf("jobs = %v, want the export, the dispatch, the FHIR bulk exports, the rate limits' sweep, the directory's refresh, "+
			"the active providers roll-up, the trials' end and the billing", names)
	}

	// An entry of two days ago, stored as the engine's Record would.
	g, err := m.engine.Tenants.CreateGroup(ctx, "Harbor Health")
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.engine.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Pediatrics"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-48 * time.Hour)
	if err := m.engine.Store().Audit.Append(ctx, &audit.Entry{ID: uuid.New(), PracticeID: p.ID, At: at, Actor: audit.SystemActor("test"),
		Action: "test.entry", Outcome: audit.Allowed}); err != nil {
		t.Fatal(err)
	}
	n, err := m.exporter.Run(ctx)
	if err != nil || n != 1 {
		t.Fatalf("export run = %d, %v; want 1 period", n, err)
	}
	for _, name := range []string{audit.FileName(p.ID, at), audit.ManifestName(p.ID, at)} {
		if _, err := os.Stat(filepath.Join(archive, filepath.FromSlash(name))); err != nil {
			t.Errorf("archive lacks %s: %v", name, err)
		}
	}

	if err := m.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if m.scheduler != nil || m.exporter != nil {
		t.Error("Close left the scheduler")
	}
}

// TestAuditArchiveConfig checks where the export goes by flags and
// environment, and that an empty archive serves without a scheduler.
func TestAuditArchiveConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		set  bool // the environment is read by LookupEnv
		args []string
		want string
		err  string
	}{
		{name: "beside sqlite", args: []string{"-dsn", "sqlite:/data/x/carebook.db?_pragma=foo"}, want: "/data/x/audit-archive"},
		{name: "beside a .db path", args: []string{"-dsn", "/data/y.db"}, want: "/data/audit-archive"},
		{name: "postgres: off", args: []string{"-dsn", "postgres://u@h/db"}, want: ""},
		{name: "flag", args: []string{"-audit-archive", "/cold"}, want: "/cold"},
		{name: "flag empty: off", args: []string{"-audit-archive", ""}, want: ""},
		{name: "env", env: map[string]string{"CAREBOOK_AUDIT_ARCHIVE": "/env"}, want: "/env"},
		{name: "env set empty: off", env: map[string]string{"CAREBOOK_AUDIT_ARCHIVE": ""}, set: true, want: ""},
		{name: "flag over env", env: map[string]string{"CAREBOOK_AUDIT_ARCHIVE": "/env"}, args: []string{"-audit-archive", "/flag"}, want: "/flag"},
		{name: "bad interval", args: []string{"-audit-export-every", "0s"}, err: "positive duration"},
		{name: "bad env interval", env: map[string]string{"CAREBOOK_AUDIT_EXPORT_EVERY": "often"}, err: "not a duration"},
		{name: "bad trials interval", args: []string{"-trials-every", "-1m"}, err: "-trials-every / CAREBOOK_TRIALS_EVERY = -1m0s; want a positive duration"},
		{name: "bad billing interval", env: map[string]string{"CAREBOOK_BILLING_EVERY": "0s"}, err: "-billing-every / CAREBOOK_BILLING_EVERY = 0s; want a positive duration"},
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
			if got := m.Config.AuditArchive; got != filepath.FromSlash(c.want) {
				t.Errorf("archive = %q, want %q", got, c.want)
			}
		})
	}

	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	m.Getenv = env(nil)
	if err := m.ParseFlags([]string{"-addr", "127.0.0.1:0", "-dsn", "sqlite:" + filepath.Join(t.TempDir(), "off.db"), "-audit-archive", ""}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if names := jobNames(m); m.exporter != nil || names[audit.JobName] || !names[notify.JobName] {
		t.Errorf("an empty -audit-archive: jobs %v, exporter %v; want the dispatch alone", names, m.exporter)
	}
}

// jobNames names the jobs of serve's scheduler.
func jobNames(m *Main) map[string]bool {
	names := map[string]bool{}
	if m.scheduler != nil {
		for _, j := range m.scheduler.Jobs() {
			names[j.Name()] = true
		}
	}
	return names
}
