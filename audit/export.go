package audit

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// ExporterVersion names the format of the files an Exporter writes. It is
// recorded in every manifest and export record.
const ExporterVersion = "carebook-audit-export/1"

// Day is the length of an export period: a UTC day.
const Day = 24 * time.Hour

// Grace is how long after a period ends the Exporter waits before exporting
// it, so that appends dated inside it have committed.
const Grace = time.Minute

// Exporter defaults.
const (
	DefaultLease      = 10 * time.Minute // a claim older than this is taken over
	defaultPage       = 500              // entries read at a time
	defaultMaxPerRun  = 31               // periods exported per practice per run
	practicesPageSize = 100
)

// Manifest describes one exported file. It is stored beside the file, under
// ManifestName, as JSON.
type Manifest struct {
	ExporterVersion string            `json:"exporter_version"`
	PracticeID      tenant.PracticeID `json:"practice_id"`
	// Period is the exported UTC day, as YYYY-MM-DD; From and To bound it.
	Period   string    `json:"period"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	File     string    `json:"file"`
	FirstSeq int64     `json:"first_seq"`
	LastSeq  int64     `json:"last_seq"`
	Count    int64     `json:"count"`
	// PrevHash is the PrevHash of the first entry, and LastHash the Hash of
	// the last, which tie the files of a practice into one chain.
	PrevHash string `json:"prev_hash"`
	LastHash string `json:"last_hash"`
	// FileSHA256 is the hex SHA-256 of the compressed file, LinesSHA256 of
	// the JSON Lines inside it.
	FileSHA256  string    `json:"file_sha256"`
	LinesSHA256 string    `json:"lines_sha256"`
	ExportedAt  time.Time `json:"exported_at"`
}

// FileName is the archive name of practice's exported period: a gzip file of
// JSON Lines, one Entry a line, by Seq.
func FileName(practice tenant.PracticeID, period time.Time) string {
	return "audit/" + practice.String() + "/" + period.UTC().Format(time.DateOnly) + ".jsonl.gz"
}

// ManifestName is the archive name of the manifest of practice's period.
func ManifestName(practice tenant.PracticeID, period time.Time) string {
	return "audit/" + practice.String() + "/" + period.UTC().Format(time.DateOnly) + ".manifest.json"
}

// PeriodOf returns the start of the UTC day that holds t.
func PeriodOf(t time.Time) time.Time { return t.UTC().Truncate(Day) }

// Exporter ships closed periods of the activity log to an Archive. Any
// number of Exporters, in any number of processes, may run over one
// database: each period is claimed in the database before it is exported,
// so it is exported once.
//
// The periods of a practice are exported in order. A period is exported
// once it has ended plus Grace. Its file holds the entries after the last
// exported one whose At is before the period's end; an entry that committed
// after its own period was exported (a transaction open longer than Grace)
// goes into the next period's file, so that the files always cover the
// chain without gaps. Days without entries get no file.
type Exporter struct {
	store   Store
	archive Archive
	clock   clock.Clock
	// Lease is how long a claim is honoured before another exporter takes
	// over an unfinished export; DefaultLease unless set before use.
	Lease time.Duration
}

// NewExporter returns an Exporter from store to archive that tells the time
// by c.
func NewExporter(store Store, archive Archive, c clock.Clock) *Exporter {
	return &Exporter{store: store, archive: archive, clock: c, Lease: DefaultLease}
}

// Run exports every closed, unexported period of every practice, and
// returns how many it exported. It goes on past a practice that fails and
// returns the errors joined.
func (x *Exporter) Run(ctx context.Context) (int, error) {
	var (
		total int
		errl  []error
		after uuid.UUID
	)
	for {
		ps, err := x.store.ExportPractices(ctx, after, practicesPageSize)
		if err != nil {
			return total, errors.Join(append(errl, err)...)
		}
		for _, p := range ps {
			n, err := x.ExportPractice(ctx, p)
			total += n
			if err != nil {
				errl = append(errl, err)
			}
			if ctx.Err() != nil {
				return total, errors.Join(append(errl, ctx.Err())...)
			}
		}
		if len(ps) < practicesPageSize {
			return total, errors.Join(errl...)
		}
		after = ps[len(ps)-1]
	}
}

// ExportPractice exports the closed, unexported periods of practice, oldest
// first, and returns how many it exported. It stops early, without error,
// when another exporter holds the claim on the next period.
func (x *Exporter) ExportPractice(ctx context.Context, practice tenant.PracticeID) (int, error) {
	const op = "audit.ExportPractice"
	for n := 0; n < defaultMaxPerRun; n++ {
		var (
			after    int64
			prevHash = ZeroHash
			earliest time.Time
		)
		last, err := x.store.LastExport(ctx, practice)
		switch {
		case err == nil:
			after, earliest = last.LastSeq, last.Period.Add(Day)
		case errs.Is(err, errs.KindNotFound):
		default:
			return n, err
		}
		first, err := x.store.Query(ctx, practice, Filter{AfterSeq: after, Limit: 1})
		if err != nil || len(first) == 0 {
			return n, err
		}
		if last != nil {
			prevHash = first[0].PrevHash
		}
		period := PeriodOf(first[0].At)
		if period.Before(earliest) {
			period = earliest
		}
		now := x.clock.Now()
		if now.Before(period.Add(Day + Grace)) {
			return n, nil
		}
		won, err := x.store.ClaimExport(ctx, practice, period, now, now.Add(-x.Lease))
		if err != nil || !won {
			return n, err
		}
		if err := x.export(ctx, practice, period, after, prevHash); err != nil {
			return n, fmt.Errorf("%s %s %s: %w", op, practice, period.Format(time.DateOnly), err)
		}
	}
	return defaultMaxPerRun, nil
}

// export writes the file and manifest of a claimed period, holding the
// entries after seq after, and records the export as done.
func (x *Exporter) export(ctx context.Context, practice tenant.PracticeID, period time.Time, after int64, prevHash string) error {
	m := &Manifest{
		ExporterVersion: ExporterVersion,
		PracticeID:      practice,
		Period:          period.Format(time.DateOnly),
		From:            period,
		To:              period.Add(Day),
		File:            FileName(practice, period),
		PrevHash:        prevHash,
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := x.writeFile(ctx, pw, m, after)
		pw.CloseWithError(err)
		done <- err
	}()
	err := x.archive.Put(ctx, m.File, pr)
	pr.CloseWithError(io.ErrClosedPipe) // lets the writer stop if Put gave up early
	if werr := <-done; werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	m.ExportedAt = x.clock.Now().UTC()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	name := ManifestName(practice, period)
	if err := x.archive.Put(ctx, name, bytesReader(b)); err != nil {
		return err
	}
	doneAt := x.clock.Now().UTC()
	return x.store.CompleteExport(ctx, &Export{
		PracticeID:      practice,
		Period:          period,
		DoneAt:          &doneAt,
		File:            m.File,
		ManifestFile:    name,
		FirstSeq:        m.FirstSeq,
		LastSeq:         m.LastSeq,
		Count:           m.Count,
		FileSHA256:      m.FileSHA256,
		LinesSHA256:     m.LinesSHA256,
		ExporterVersion: ExporterVersion,
	})
}

// writeFile writes the gzip-compressed JSON Lines of the entries after seq
// after with At before m.To to w, page by page, and fills in m's counts and
// sums.
func (x *Exporter) writeFile(ctx context.Context, w io.Writer, m *Manifest, after int64) error {
	fileSum, linesSum := sha256.New(), sha256.New()
	gz := gzip.NewWriter(io.MultiWriter(w, fileSum))
	lines := io.MultiWriter(gz, linesSum)
	for {
		page, err := x.store.Query(ctx, m.PracticeID, Filter{AfterSeq: after, To: m.To, Limit: defaultPage})
		if err != nil {
			return err
		}
		for _, e := range page {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if _, err := lines.Write(append(b, '\n')); err != nil {
				return err
			}
			if m.Count == 0 {
				m.FirstSeq = e.Seq
			}
			m.Count++
			m.LastSeq, m.LastHash, after = e.Seq, e.Hash, e.Seq
		}
		if len(page) < defaultPage {
			break
		}
	}
	if err := gz.Close(); err != nil {
		return err
	}
	m.FileSHA256, m.LinesSHA256 = hexSum(fileSum), hexSum(linesSum)
	return nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// ExportProblem is the first difference VerifyExport found between an
// archived period and the database.
type ExportProblem struct {
	What   string // what differs, such as "file_sha256", "count", "entry"
	Seq    int64  // the entry at fault, if any
	Detail string
}

// Error renders the problem, so that it can be returned as an error.
func (p *ExportProblem) Error() string {
	if p.Seq != 0 {
		return fmt.Sprintf("audit export: %s at seq %d: %s", p.What, p.Seq, p.Detail)
	}
	return fmt.Sprintf("audit export: %s: %s", p.What, p.Detail)
}

// VerifyExport re-reads the archived file and manifest of practice's period
// (any instant in the day) and compares them with the database: the
// manifest with the export record, the file's and lines' SHA-256 sums, the
// count and seq range, each entry's hash, its PrevHash against the entry
// before (the chain runs on from the previous period), and its Hash against
// the database's entry of the same Seq. It returns the first difference, or
// nil when the archive matches. It returns KindNotFound when the period was
// not exported, and KindConflict when its export is not done.
func (x *Exporter) VerifyExport(ctx context.Context, practice tenant.PracticeID, period time.Time) (*ExportProblem, error) {
	const op = "audit.VerifyExport"
	period = PeriodOf(period)
	rec, err := x.store.GetExport(ctx, practice, period)
	if err != nil {
		return nil, err
	}
	if rec.DoneAt == nil {
		return nil, errs.Conflict(op, "the export of "+period.Format(time.DateOnly)+" is not done")
	}
	var m Manifest
	mr, err := x.archive.Get(ctx, rec.ManifestFile)
	if errs.Is(err, errs.KindNotFound) {
		return &ExportProblem{What: "manifest", Detail: "missing from the archive"}, nil
	} else if err != nil {
		return nil, err
	}
	err = json.NewDecoder(mr).Decode(&m)
	mr.Close()
	if err != nil {
		return &ExportProblem{What: "manifest", Detail: "unreadable: " + err.Error()}, nil
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"manifest.practice_id", m.PracticeID, rec.PracticeID},
		{"manifest.file", m.File, rec.File},
		{"manifest.first_seq", m.FirstSeq, rec.FirstSeq},
		{"manifest.last_seq", m.LastSeq, rec.LastSeq},
		{"manifest.count", m.Count, rec.Count},
		{"manifest.file_sha256", m.FileSHA256, rec.FileSHA256},
		{"manifest.lines_sha256", m.LinesSHA256, rec.LinesSHA256},
	} {
		if c.got != c.want {
			return &ExportProblem{What: c.what, Detail: fmt.Sprintf("archive has %v, database %v", c.got, c.want)}, nil
		}
	}
	fr, err := x.archive.Get(ctx, rec.File)
	if errs.Is(err, errs.KindNotFound) {
		return &ExportProblem{What: "file", Detail: "missing from the archive"}, nil
	} else if err != nil {
		return nil, err
	}
	defer fr.Close()
	fileSum := sha256.New()
	tee := io.TeeReader(fr, fileSum)
	p, err := x.verifyLines(ctx, rec, tee)
	if err != nil || p != nil {
		return p, err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return nil, err
	}
	if got := hexSum(fileSum); got != rec.FileSHA256 {
		return &ExportProblem{What: "file_sha256", Detail: "archive has " + got + ", database " + rec.FileSHA256}, nil
	}
	return nil, nil
}

// verifyLines checks the decompressed lines of r against rec and the
// database's entries.
func (x *Exporter) verifyLines(ctx context.Context, rec *Export, r io.Reader) (*ExportProblem, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return &ExportProblem{What: "file", Detail: "not gzip: " + err.Error()}, nil
	}
	linesSum := sha256.New()
	sc := bufio.NewScanner(io.TeeReader(gz, linesSum))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var (
		count int64
		seq   = rec.FirstSeq
		prev  string
		db    []*Entry
	)
	if rec.FirstSeq > 1 {
		before, err := x.store.Query(ctx, rec.PracticeID, Filter{AfterSeq: rec.FirstSeq - 2, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(before) == 1 && before[0].Seq == rec.FirstSeq-1 {
			prev = before[0].Hash
		}
	} else {
		prev = ZeroHash
	}
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return &ExportProblem{What: "entry", Seq: seq, Detail: "unreadable line: " + err.Error()}, nil
		}
		if len(db) == 0 {
			if db, err = x.store.Query(ctx, rec.PracticeID, Filter{AfterSeq: seq - 1, Limit: defaultPage}); err != nil {
				return nil, err
			}
		}
		switch {
		case e.PracticeID != rec.PracticeID:
			return &ExportProblem{What: "entry", Seq: seq, Detail: "entry of another practice"}, nil
		case e.Seq != seq:
			return &ExportProblem{What: "entry", Seq: seq, Detail: fmt.Sprintf("seq %d where %d was due", e.Seq, seq)}, nil
		case e.Hash != e.ComputeHash():
			return &ExportProblem{What: "entry", Seq: seq, Detail: "hash does not match the entry"}, nil
		case prev != "" && e.PrevHash != prev:
			return &ExportProblem{What: "entry", Seq: seq, Detail: "prev_hash does not match the entry before"}, nil
		case len(db) == 0 || db[0].Seq != seq:
			return &ExportProblem{What: "entry", Seq: seq, Detail: "not in the database"}, nil
		case db[0].Hash != e.Hash:
			return &ExportProblem{What: "entry", Seq: seq, Detail: "differs from the database"}, nil
		}
		db = db[1:]
		prev = e.Hash
		seq++
		count++
	}
	if err := sc.Err(); err != nil {
		return &ExportProblem{What: "file", Detail: "unreadable: " + err.Error()}, nil
	}
	if err := gz.Close(); err != nil {
		return &ExportProblem{What: "file", Detail: "unreadable: " + err.Error()}, nil
	}
	if count != rec.Count {
		return &ExportProblem{What: "count", Detail: fmt.Sprintf("archive has %d entries, database %d", count, rec.Count)}, nil
	}
	if got := hexSum(linesSum); got != rec.LinesSHA256 {
		return &ExportProblem{What: "lines_sha256", Detail: "archive has " + got + ", database " + rec.LinesSHA256}, nil
	}
	return nil, nil
}
