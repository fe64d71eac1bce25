package carebook_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeScheduler returns a started gocron scheduler in UTC on a fake clock,
// shut down when the test ends.
func fakeScheduler(t *testing.T) (gocron.Scheduler, *clockwork.FakeClock) {
	t.Helper()
	clk := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	s, err := gocron.NewScheduler(gocron.WithLocation(time.UTC), gocron.WithClock(clk))
	require.NoError(t, err)
	t.Cleanup(func() { s.Shutdown() })
	return s, clk
}

// jobNames names s's jobs.
func jobNames(s gocron.Scheduler) []string {
	var names []string
	for _, j := range s.Jobs() {
		names = append(names, j.Name())
	}
	return names
}

// TestRegisterJobsZeroConfig checks that the zero JobsConfig registers no
// job, and that a negative interval is refused naming it, adding none.
func TestRegisterJobsZeroConfig(t *testing.T) {
	e := carebook.NewWithStore(sqltest.SQLite(t))
	s, _ := fakeScheduler(t)
	jobs, err := e.RegisterJobs(s, carebook.JobsConfig{})
	require.NoError(t, err)
	assert.Empty(t, jobs.Scheduled)
	assert.Nil(t, jobs.Dispatcher)
	assert.Nil(t, jobs.Exporter)
	assert.Empty(t, jobNames(s))

	archive, err := audit.NewDirArchive(t.TempDir())
	require.NoError(t, err)
	for field, cfg := range map[string]carebook.JobsConfig{
		"dispatch_every":          {Senders: []notify.Sender{newRecorder(notify.SMS)}, DispatchEvery: -time.Second},
		"audit_export_every":      {Senders: []notify.Sender{newRecorder(notify.SMS)}, AuditArchive: archive, AuditExportEvery: -time.Second},
		"directory_refresh_every": {RefreshDirectory: true, DirectoryRefreshEvery: -time.Second},
	} {
		_, err := e.RegisterJobs(s, cfg)
		assert.True(t, errs.Is(err, errs.KindInvalid), "%s: %v", field, err)
		assert.Equal(t, field, errs.FieldOf(err))
		assert.Empty(t, jobNames(s), "%s: jobs left on the scheduler", field)
	}
}

// TestRegisterJobsRunsEachJob registers the dispatch and the export on a
// scheduler with a fake clock: each is on the scheduler by its name, and
// once the clock reaches their interval each runs its worker, the
// confirmation of a booking sent, the closed day of the activity log
// exported.
func TestRegisterJobsRunsEachJob(t *testing.T) {
	c := newClinic(t, sqltest.SQLite(t))
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.System, ID: "test"})
	c.book(t, c.at(3, 5, 10, 0))
	_, err := c.e.Audit.Record(ctx, audit.Entry{PracticeID: c.practice, Actor: audit.SystemActor("test"), Action: "test.entry",
		Outcome: audit.Allowed})
	require.NoError(t, err)
	day := c.clk.Now()
	c.clk.Set(c.at(3, 3, 12, 0)) // the entry's day has closed

	dir := t.TempDir()
	archive, err := audit.NewDirArchive(dir)
	require.NoError(t, err)
	sms, mail := newRecorder(notify.SMS), newRecorder(notify.Email)
	ran := make(chan string, 16)
	s, clk := fakeScheduler(t)
	jobs, err := c.e.RegisterJobs(s, carebook.JobsConfig{
		Senders: []notify.Sender{sms, mail}, DispatchEvery: time.Minute,
		AuditArchive: archive, AuditExportEvery: time.Minute,
		JobOptions: []gocron.JobOption{gocron.WithEventListeners(gocron.AfterJobRuns(func(_ uuid.UUID, name string) { ran <- name }))},
	})
	require.NoError(t, err)
	require.NotNil(t, jobs.Dispatcher)
	require.NotNil(t, jobs.Exporter)
	require.Len(t, jobs.Scheduled, 2)
	assert.Equal(t, notify.JobName, jobs.Scheduled[0].Name())
	assert.Equal(t, audit.JobName, jobs.Scheduled[1].Name())
	assert.ElementsMatch(t, []string{notify.JobName, audit.JobName}, jobNames(s))

	s.Start()
	// Both jobs wait on the fake clock for their first run, a minute away.
	wait, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, clk.BlockUntilContext(wait, 2))
	clk.Advance(time.Minute)
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case name := <-ran:
			seen[name] = true
		case <-wait.Done():
			t.Fatalf("runs seen: %v", seen)
		}
	}
	assert.Equal(t, []notify.Kind{notify.KindConfirmed}, sms.kinds())
	assert.Equal(t, []notify.Kind{notify.KindConfirmed}, mail.kinds())
	for _, name := range []string{audit.FileName(c.practice, day), audit.ManifestName(c.practice, day)} {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		assert.NoError(t, err, "the archive lacks %s", name)
	}
}

// brokenArchive refuses every file.
type brokenArchive struct{}

func (brokenArchive) Put(context.Context, string, io.Reader) error {
	return errors.New("cold storage is down")
}

func (brokenArchive) Get(context.Context, string) (io.ReadCloser, error) {
	return nil, errors.New("cold storage is down")
}

// logRecords is a slog.Handler that hands each record to a channel.
type logRecords chan slog.Record

func (l logRecords) Enabled(context.Context, slog.Level) bool { return true }

func (l logRecords) Handle(_ context.Context, r slog.Record) error {
	l <- r.Clone()
	return nil
}

func (l logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logRecords) WithGroup(string) slog.Handler      { return l }

// TestRegisterJobsLogsFailures checks that a failed run is logged at level
// Error with its job's name.
func TestRegisterJobsLogsFailures(t *testing.T) {
	c := newClinic(t, sqltest.SQLite(t))
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.System, ID: "test"})
	_, err := c.e.Audit.Record(ctx, audit.Entry{PracticeID: c.practice, Actor: audit.SystemActor("test"), Action: "test.entry",
		Outcome: audit.Allowed})
	require.NoError(t, err)
	c.clk.Set(c.at(3, 3, 12, 0))

	logs := make(logRecords, 16)
	s, _ := fakeScheduler(t)
	jobs, err := c.e.RegisterJobs(s, carebook.JobsConfig{AuditArchive: brokenArchive{}, Logger: slog.New(logs)})
	require.NoError(t, err)
	require.Len(t, jobs.Scheduled, 1)
	s.Start()
	require.NoError(t, jobs.Scheduled[0].RunNow())
	select {
	case r := <-logs:
		assert.Equal(t, slog.LevelError, r.Level)
		assert.Equal(t, "the activity log export failed; the next run tries again", r.Message)
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		assert.Equal(t, audit.JobName, attrs["job"])
		assert.Contains(t, attrs["error"], "audit.ExportPractice")
	case <-time.After(time.Minute):
		t.Fatal("the failed run was not logged")
	}
}
