package audittest

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
)

// countingArchive counts the Puts of each name on the Archive it wraps.
type countingArchive struct {
	audit.Archive
	mu   sync.Mutex
	puts map[string]int
}

func newCountingArchive(e *Env) (*countingArchive, string) {
	e.T.Helper()
	dir := e.T.TempDir()
	a, err := audit.NewDirArchive(dir)
	if err != nil {
		e.T.Fatal(err)
	}
	return &countingArchive{Archive: a, puts: map[string]int{}}, dir
}

func (c *countingArchive) Put(ctx context.Context, name string, r io.Reader) error {
	c.mu.Lock()
	c.puts[name]++
	c.mu.Unlock()
	return c.Archive.Put(ctx, name, r)
}

func (c *countingArchive) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.puts[name]
}

func (e *Env) mustRun(x *audit.Exporter, want int) {
	e.T.Helper()
	n, err := x.Run(e.Ctx)
	if err != nil {
		e.T.Fatalf("Run: %v", err)
	}
	if n != want {
		e.T.Fatalf("Run exported %d periods, want %d", n, want)
	}
}

func (e *Env) mustVerifyExport(x *audit.Exporter, p tenant.PracticeID, period time.Time) *audit.ExportProblem {
	e.T.Helper()
	prob, err := x.VerifyExport(e.Ctx, p, period)
	if err != nil {
		e.T.Fatalf("VerifyExport: %v", err)
	}
	return prob
}

func testClaimExport(e *Env) {
	p := e.MustPractice()
	now := Day0.Add(30 * time.Hour)
	claim := func(at time.Time, stale time.Duration) bool {
		e.T.Helper()
		ok, err := e.Store.ClaimExport(e.Ctx, p, Day0, at, at.Add(-stale))
		if err != nil {
			e.T.Fatal(err)
		}
		return ok
	}
	if !claim(now, time.Minute) {
		e.T.Fatal("first claim lost")
	}
	if claim(now.Add(30*time.Second), time.Minute) {
		e.T.Fatal("a fresh claim was taken over")
	}
	if !claim(now.Add(2*time.Minute), time.Minute) {
		e.T.Fatal("a stale claim was not taken over")
	}
	x, err := e.Store.GetExport(e.Ctx, p, Day0)
	if err != nil || x.DoneAt != nil || !x.ClaimedAt.Equal(now.Add(2*time.Minute)) {
		e.T.Fatalf("GetExport = %+v, %v", x, err)
	}
	if _, err := e.Store.LastExport(e.Ctx, p); !errs.Is(err, errs.KindNotFound) {
		e.T.Fatalf("LastExport before completion = %v, want not found", err)
	}
	done := now.Add(3 * time.Minute)
	x.DoneAt, x.File, x.FirstSeq, x.LastSeq, x.Count = &done, "f", 1, 2, 2
	if err := e.Store.CompleteExport(e.Ctx, x); err != nil {
		e.T.Fatal(err)
	}
	wantKind(e.T, e.Store.CompleteExport(e.Ctx, x), errs.KindConflict)
	if claim(now.Add(time.Hour), time.Minute) {
		e.T.Fatal("a done period was claimed again")
	}
	last, err := e.Store.LastExport(e.Ctx, p)
	if err != nil || !last.Period.Equal(Day0) || last.LastSeq != 2 || last.File != "f" || last.DoneAt == nil {
		e.T.Fatalf("LastExport = %+v, %v", last, err)
	}
	_, err = e.Store.GetExport(e.Ctx, e.MustPractice(), Day0)
	wantKind(e.T, err, errs.KindNotFound)
	x.Period = Day0.Add(audit.Day)
	wantKind(e.T, e.Store.CompleteExport(e.Ctx, x), errs.KindNotFound)
}

func testExportRoundTrip(e *Env) {
	p := e.MustPractice()
	arch, _ := newCountingArchive(e)
	x := audit.NewExporter(e.Store, arch, e.Clock)

	day1 := e.MustRecord(p, "patient.read", 3) // Day0 10:00
	e.AdvanceTo(Day0.Add(audit.Day + audit.Grace - time.Second))
	e.mustRun(x, 0) // day 1 ended, but the grace minute has not passed
	e.Clock.Advance(time.Second)
	e.mustRun(x, 1)
	e.mustRun(x, 0)
	e.AdvanceTo(Day0.Add(audit.Day + 10*time.Hour))
	day2 := e.MustRecord(p, "login", 2) // Day0+1 10:00

	rec, err := e.Store.GetExport(e.Ctx, p, Day0)
	if err != nil {
		e.T.Fatal(err)
	}
	if rec.FirstSeq != 1 || rec.LastSeq != 3 || rec.Count != 3 || rec.ExporterVersion != audit.ExporterVersion || rec.DoneAt == nil {
		e.T.Fatalf("export record = %+v", rec)
	}
	m := mustManifest(e, arch, audit.ManifestName(p, Day0))
	if m.PracticeID != p || m.Period != "2031-03-10" || m.FirstSeq != 1 || m.LastSeq != 3 || m.Count != 3 ||
		m.PrevHash != audit.ZeroHash || m.LastHash != day1[2].Hash || m.FileSHA256 != rec.FileSHA256 ||
		m.LinesSHA256 != rec.LinesSHA256 || m.ExporterVersion != audit.ExporterVersion {
		e.T.Fatalf("manifest = %+v", m)
	}
	if p := e.mustVerifyExport(x, p, Day0.Add(5*time.Hour)); p != nil {
		e.T.Fatalf("VerifyExport = %v, want nil", p)
	}

	e.AdvanceTo(Day0.Add(2*audit.Day + audit.Grace))
	e.mustRun(x, 1)
	m2 := mustManifest(e, arch, audit.ManifestName(p, Day0.Add(audit.Day)))
	if m2.FirstSeq != 4 || m2.LastSeq != 5 || m2.PrevHash != m.LastHash || m2.LastHash != day2[1].Hash {
		e.T.Fatalf("second manifest = %+v, want seqs 4-5 chained to the first", m2)
	}
	if p := e.mustVerifyExport(x, p, Day0.Add(audit.Day)); p != nil {
		e.T.Fatalf("VerifyExport = %v, want nil", p)
	}
	if n := arch.count(audit.FileName(p, Day0)); n != 1 {
		e.T.Fatalf("day 1 file was put %d times, want 1", n)
	}
	_, err = x.VerifyExport(e.Ctx, p, Day0.Add(5*audit.Day))
	wantKind(e.T, err, errs.KindNotFound)
}

func mustManifest(e *Env, a audit.Archive, name string) *audit.Manifest {
	e.T.Helper()
	r, err := a.Get(e.Ctx, name)
	if err != nil {
		e.T.Fatalf("Get %s: %v", name, err)
	}
	defer r.Close()
	var m audit.Manifest
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		e.T.Fatal(err)
	}
	return &m
}

func testExportDetectsCorruption(e *Env) {
	p := e.MustPractice()
	arch, dir := newCountingArchive(e)
	x := audit.NewExporter(e.Store, arch, e.Clock)
	e.MustRecord(p, "patient.read", 50)
	e.AdvanceTo(Day0.Add(audit.Day + audit.Grace))
	e.mustRun(x, 1)
	if prob := e.mustVerifyExport(x, p, Day0); prob != nil {
		e.T.Fatalf("VerifyExport = %v, want nil", prob)
	}
	path := filepath.Join(dir, filepath.FromSlash(audit.FileName(p, Day0)))
	b, err := os.ReadFile(path)
	if err != nil {
		e.T.Fatal(err)
	}
	orig := append([]byte(nil), b...)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		e.T.Fatal(err)
	}
	if prob := e.mustVerifyExport(x, p, Day0); prob == nil {
		e.T.Fatal("VerifyExport of a corrupted file = nil, want a problem")
	}
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		e.T.Fatal(err)
	}
	// A manifest that disagrees with the database is caught too.
	mpath := filepath.Join(dir, filepath.FromSlash(audit.ManifestName(p, Day0)))
	mb, err := os.ReadFile(mpath)
	if err != nil {
		e.T.Fatal(err)
	}
	if err := os.WriteFile(mpath, []byte(strings.Replace(string(mb), `"count": 50`, `"count": 49`, 1)), 0o600); err != nil {
		e.T.Fatal(err)
	}
	if prob := e.mustVerifyExport(x, p, Day0); prob == nil || prob.What != "manifest.count" {
		e.T.Fatalf("VerifyExport of an edited manifest = %v, want manifest.count", prob)
	}
}

func testExportersRace(e *Env) {
	ps := []tenant.PracticeID{e.MustPractice(), e.MustPractice()}
	for _, p := range ps {
		e.MustRecord(p, "patient.read", 5)
	}
	arch, _ := newCountingArchive(e)
	e.AdvanceTo(Day0.Add(audit.Day + audit.Grace))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for range 4 {
		x := audit.NewExporter(e.Store, arch, e.Clock)
		wg.Go(func() {
			n, err := x.Run(e.Ctx)
			if err != nil {
				e.T.Errorf("Run: %v", err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != len(ps) {
		e.T.Fatalf("racing exporters exported %d periods, want %d", total, len(ps))
	}
	for _, p := range ps {
		if n := arch.count(audit.FileName(p, Day0)); n != 1 {
			e.T.Fatalf("file put %d times, want 1", n)
		}
		if prob := e.mustVerifyExport(audit.NewExporter(e.Store, arch, e.Clock), p, Day0); prob != nil {
			e.T.Fatalf("VerifyExport = %v", prob)
		}
	}
}

// testSchedulerExportsOnce runs two schedulers, as two replicas would, on one
// fake clock: the day is exported once, after it closes.
func testSchedulerExportsOnce(e *Env) {
	p := e.MustPractice()
	e.MustRecord(p, "patient.read", 3)
	arch, _ := newCountingArchive(e)
	const every = 5 * time.Minute
	var runs atomic.Int64
	countRuns := gocron.WithEventListeners(gocron.AfterJobRuns(func(uuid.UUID, string) { runs.Add(1) }))
	for i := range 2 {
		x := audit.NewExporter(e.Store, arch, e.Clock)
		var s gocron.Scheduler
		var err error
		if i == 0 {
			s, err = audit.NewScheduler(x, e.Clock, every)
			if err == nil {
				// A second job on the same exporter counts the runs.
				_, err = audit.Register(s, x, every, countRuns)
			}
		} else {
			s, err = gocron.NewScheduler(gocron.WithLocation(time.UTC), gocron.WithClock(e.Clock))
			if err == nil {
				_, err = audit.Register(s, x, every, countRuns)
			}
		}
		if err != nil {
			e.T.Fatal(err)
		}
		s.Start()
		e.T.Cleanup(func() { s.Shutdown() })
	}
	// Before the day closes, runs export nothing.
	e.Clock.Advance(every)
	waitFor(e, "the first runs", func() bool { return runs.Load() >= 2 })
	if n := arch.count(audit.FileName(p, Day0)); n != 0 {
		e.T.Fatalf("file put %d times before the day closed", n)
	}
	// Once the day has closed plus grace, the next runs export it, once.
	e.AdvanceTo(Day0.Add(audit.Day + audit.Grace))
	waitFor(e, "the export", func() bool {
		x, err := e.Store.GetExport(e.Ctx, p, Day0)
		return err == nil && x.DoneAt != nil && runs.Load() >= 4
	})
	if n := arch.count(audit.FileName(p, Day0)); n != 1 {
		e.T.Fatalf("file put %d times, want 1", n)
	}
	if prob := e.mustVerifyExport(audit.NewExporter(e.Store, arch, e.Clock), p, Day0); prob != nil {
		e.T.Fatalf("VerifyExport = %v", prob)
	}
}

// waitFor polls cond until it holds, failing the test after a minute of
// real time. It waits for other goroutines' work, never for clock time.
func waitFor(e *Env, what string, cond func() bool) {
	e.T.Helper()
	deadline := time.Now().Add(time.Minute) // generous: CI runs packages in parallel under -race
	for !cond() {
		if time.Now().After(deadline) {
			e.T.Fatalf("timed out waiting for %s", what)
		}
		select {
		case <-e.Ctx.Done():
			e.T.Fatalf("waiting for %s: %v", what, e.Ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
