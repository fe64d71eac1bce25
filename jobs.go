package carebook

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
)

// The intervals of RegisterJobs's jobs when JobsConfig leaves them 0.
const (
	DefaultDispatchEvery    = 5 * time.Second
	DefaultAuditExportEvery = 15 * time.Minute
	DefaultFHIRExportEvery  = 30 * time.Second
	// DefaultDirectoryRefreshEvery is how often the directory's listings
	// and next open times are rebuilt: next open times move with the
	// clock (minimum notice) and with changes of providers, visit types
	// and locations, which no observer hears of (appointment, block and
	// booking policy changes refresh them in their transaction).
	DefaultDirectoryRefreshEvery = 10 * time.Minute
)

// DirectoryRefreshJobName names the job that refreshes the public
// directory (Engine.RefreshDirectories).
const DirectoryRefreshJobName = "directory.refresh"

// JobsConfig says which periodic jobs RegisterJobs puts on a scheduler and
// how they run. A job is on when what it works with is given, so the zero
// JobsConfig registers none.
type JobsConfig struct {
	// Senders send the outbox's messages, one per channel. With any, the
	// dispatch job (notify.JobName) drains the outbox every DispatchEvery:
	// it sends the messages due and settles the sends left in doubt (by a
	// replica stopped mid-send) once their lease has run out. With none
	// the dispatch is off.
	Senders []notify.Sender
	// Dispatcher tunes the dispatcher (lease, batch, workers, retries);
	// its zero fields take notify's defaults.
	Dispatcher notify.DispatcherConfig
	// DispatchEvery is how often the dispatch runs; 0 is
	// DefaultDispatchEvery.
	DispatchEvery time.Duration
	// AuditArchive is the cold storage that the export job (audit.JobName)
	// ships the closed days of the activity log to, every
	// AuditExportEvery; nil turns the export off.
	AuditArchive audit.Archive
	// AuditExportEvery is how often the export runs; 0 is
	// DefaultAuditExportEvery.
	AuditExportEvery time.Duration
	// FHIRExports turns on the FHIR bulk export job (ExportJobName): every
	// FHIRExportEvery it runs the exports that StartExport accepted and
	// removes the files of those expired (Engine.RunExports). It needs
	// the files bucket (WithFiles), where the exports' files are kept.
	FHIRExports bool
	// FHIRExportEvery is how often the bulk export job runs; 0 is
	// DefaultFHIRExportEvery.
	FHIRExportEvery time.Duration
	// SweepRateLimits turns on the job (RateLimitSweepJobName) that
	// forgets, every RateLimitSweepEvery, the rate limiter's keys that are
	// full buckets again (ratelimit.Limiter.Sweep), so that the table
	// holds only the keys limited of late. Any number of replicas may run
	// it: a sweep deletes only what no decision needs.
	SweepRateLimits bool
	// RateLimitSweepEvery is how often the sweep runs; 0 is
	// DefaultRateLimitSweepEvery.
	RateLimitSweepEvery time.Duration
	// ActiveProviders turns on the roll-up of the "active_providers"
	// meter (ActiveProvidersJobName): every ActiveProvidersEvery it
	// records, for every practice, the providers active the day before
	// and the day of the run (UTC, by the Engine's clock; see
	// RollUpActiveProviders). Any number of replicas may run it: its
	// events are idempotent.
	ActiveProviders bool
	// ActiveProvidersEvery is how often the roll-up runs; 0 is
	// DefaultActiveProvidersEvery.
	ActiveProvidersEvery time.Duration
	// EndTrials turns on the trial job (TrialJobName): every TrialsEvery
	// it ends the trials that ran out (Engine.EndTrials), making a
	// practice without a payment method read-only. Any number of replicas
	// may run it.
	EndTrials bool
	// TrialsEvery is how often the trial job runs; 0 is
	// DefaultTrialsEvery.
	TrialsEvery time.Duration
	// Billing turns on the billing job (BillingJobName): every
	// BillingEvery it closes the periods that ended and charges the
	// invoices due (Engine.RunBilling). Any number of replicas may run it:
	// a period gets one invoice, and a charge's key comes from its
	// invoice.
	Billing bool
	// BillingEvery is how often the billing job runs; 0 is
	// DefaultBillingEvery.
	BillingEvery time.Duration
	// RefreshDirectory turns on the job (DirectoryRefreshJobName) that
	// rebuilds every published practice's directory listing with its next
	// open times, every DirectoryRefreshEvery. Any number of replicas may
	// run it: each listing is replaced whole in one transaction.
	RefreshDirectory bool
	// DirectoryRefreshEvery is how often the refresh runs; 0 is
	// DefaultDirectoryRefreshEvery.
	DirectoryRefreshEvery time.Duration
	// Logger logs each failed run at level Error (the next run tries
	// again); nil is the Engine's logger.
	Logger *slog.Logger
	// JobOptions are given to every job after RegisterJobs's own (its name,
	// one run at a time, the logging of failures), such as event listeners
	// for metrics; an AfterJobRunsWithError among them replaces the
	// logging.
	JobOptions []gocron.JobOption
}

// Jobs are what RegisterJobs put on a scheduler.
type Jobs struct {
	// Dispatcher is the dispatch job's worker, nil when the job is off;
	// its Drain dispatches at once.
	Dispatcher *notify.Dispatcher
	// Exporter is the export job's worker, nil when the job is off.
	Exporter *audit.Exporter
	// Scheduled are the jobs registered: the dispatch, the export of the
	// activity log, the FHIR bulk export, the rate limits' sweep, the
	// active providers roll-up, the trials' end, the billing, then the
	// directory's refresh.
	Scheduled []gocron.Job
}

// RegisterJobs puts the engine's periodic jobs that cfg turns on onto s:
// the outbox dispatch, the activity log export, the FHIR bulk
// exports, the sweep of the rate limits, the active providers roll-up, the
// end of the trials, the billing and the directory's refresh. The caller starts s
// (use gocron.WithLocation(time.UTC); tests add gocron.WithClock) and shuts
// it down before closing the Engine. Every replica may run the same jobs:
// rows are claimed in the database, so nothing is sent or exported twice.
// A negative interval is an error of errs.KindInvalid naming it; on any
// error the jobs already added are removed from s.
func (e *Engine) RegisterJobs(s gocron.Scheduler, cfg JobsConfig) (*Jobs, error) {
	const op = "carebook.RegisterJobs"
	for _, iv := range []struct {
		every time.Duration
		field string
	}{
		{cfg.DispatchEvery, "dispatch_every"},
		{cfg.AuditExportEvery, "audit_export_every"},
		{cfg.FHIRExportEvery, "fhir_export_every"},
		{cfg.RateLimitSweepEvery, "rate_limit_sweep_every"},
		{cfg.ActiveProvidersEvery, "active_providers_every"},
		{cfg.BillingEvery, "billing_every"},
		{cfg.DirectoryRefreshEvery, "directory_refresh_every"},
		{cfg.TrialsEvery, "trials_every"},
	} {
		if iv.every < 0 {
			return nil, errs.Invalid(op, iv.field, "want a positive interval, or 0 for the default")
		}
	}
	if cfg.FHIRExports && e.Files == nil {
		return nil, errs.Invalid(op, "fhir_exports", "the bulk exports keep their files in the files bucket: open the Engine WithFiles")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = e.Logger
	}
	jobs := &Jobs{}
	if len(cfg.Senders) > 0 {
		d := e.NewDispatcher(cfg.Dispatcher, cfg.Senders...)
		j, err := notify.Register(s, d, interval(cfg.DispatchEvery, DefaultDispatchEvery),
			jobOptions(cfg, logger, "sending messages failed; the next run tries again")...)
		if err != nil {
			return nil, jobs.remove(s, err)
		}
		jobs.Dispatcher, jobs.Scheduled = d, append(jobs.Scheduled, j)
	}
	if cfg.AuditArchive != nil {
		x := audit.NewExporter(e.store.Audit, cfg.AuditArchive, e.Clock)
		j, err := audit.Register(s, x, interval(cfg.AuditExportEvery, DefaultAuditExportEvery),
			jobOptions(cfg, logger, "the activity log export failed; the next run tries again")...)
		if err != nil {
			return nil, jobs.remove(s, err)
		}
		jobs.Exporter, jobs.Scheduled = x, append(jobs.Scheduled, j)
	}
	for _, d := range []struct {
		on    bool
		name  string
		every time.Duration
		msg   string
		run   func(ctx context.Context) (int, error)
	}{
		{cfg.FHIRExports, ExportJobName, interval(cfg.FHIRExportEvery, DefaultFHIRExportEvery),
			"the FHIR bulk exports failed; the next run tries again", e.RunExports},
		{cfg.SweepRateLimits, RateLimitSweepJobName, interval(cfg.RateLimitSweepEvery, DefaultRateLimitSweepEvery),
			"the sweep of the rate limits failed; the next run tries again", e.RateLimits.Sweep},
		{cfg.ActiveProviders, ActiveProvidersJobName, interval(cfg.ActiveProvidersEvery, DefaultActiveProvidersEvery),
			"the active providers roll-up failed; the next run tries again", e.rollUpActiveProvidersNow},
		{cfg.EndTrials, TrialJobName, interval(cfg.TrialsEvery, DefaultTrialsEvery),
			"ending the trials that ran out failed; the next run tries again", e.EndTrials},
		{cfg.Billing, BillingJobName, interval(cfg.BillingEvery, DefaultBillingEvery),
			"billing failed; the next run tries again", e.RunBilling},
		{cfg.RefreshDirectory, DirectoryRefreshJobName, interval(cfg.DirectoryRefreshEvery, DefaultDirectoryRefreshEvery),
			"the refresh of the directory failed; the next run tries again", e.RefreshDirectories},
	} {
		if !d.on {
			continue
		}
		opts := append([]gocron.JobOption{gocron.WithName(d.name), gocron.WithSingletonMode(gocron.LimitModeReschedule)},
			jobOptions(cfg, logger, d.msg)...)
		j, err := s.NewJob(gocron.DurationJob(d.every), gocron.NewTask(func(ctx context.Context) error {
			_, err := d.run(ctx)
			return err
		}), opts...)
		if err != nil {
			return nil, jobs.remove(s, fmt.Errorf("%s: %w", op, err))
		}
		jobs.Scheduled = append(jobs.Scheduled, j)
	}
	return jobs, nil
}

// rollUpActiveProvidersNow rolls up the active providers of the day
// before and of today (RollUpActiveProviders), the roll-up job's run.
func (e *Engine) rollUpActiveProvidersNow(ctx context.Context) (int, error) {
	now := e.Clock.Now()
	n, err := e.RollUpActiveProviders(ctx, now.AddDate(0, 0, -1))
	if err != nil {
		return n, err
	}
	m, err := e.RollUpActiveProviders(ctx, now)
	return n + m, err
}

// interval is every, or def when every is 0.
func interval(every, def time.Duration) time.Duration {
	if every == 0 {
		return def
	}
	return every
}

// jobOptions are a job's options: the logging of its failures as msg,
// then cfg's.
func jobOptions(cfg JobsConfig, logger *slog.Logger, msg string) []gocron.JobOption {
	logFailure := gocron.AfterJobRunsWithError(func(_ uuid.UUID, name string, err error) {
		logger.Error(msg, "job", name, "error", err)
	})
	return append([]gocron.JobOption{gocron.WithEventListeners(logFailure)}, cfg.JobOptions...)
}

// remove takes j's jobs off s, and returns err.
func (j *Jobs) remove(s gocron.Scheduler, err error) error {
	for _, job := range j.Scheduled {
		_ = s.RemoveJob(job.ID()) // it was just added
	}
	return err
}
