package audit

import (
	"context"
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Filter narrows Query. Zero fields do not filter.
type Filter struct {
	Actor     string     // exactly this actor
	PatientID *uuid.UUID // touched this patient's data
	Action    string     // exactly this action
	Outcome   Outcome    // this outcome
	// From and To, when set, keep entries with From <= At < To.
	From, To time.Time
	// AfterSeq is the keyset cursor: only entries with Seq > AfterSeq.
	AfterSeq int64
	// Limit caps the page; 0 means no limit (the Service always sets one).
	Limit int
}

// Head is the end of a practice's chain.
type Head struct {
	Seq  int64     // the last entry's Seq; 0 when the chain is empty
	Hash string    // the last entry's Hash; ZeroHash when empty
	At   time.Time // the last entry's At; zero when empty
}

// Export is the database's record of one period exported to the archive.
// The pair (PracticeID, Period) is unique: a period is claimed once.
type Export struct {
	PracticeID tenant.PracticeID
	// Period is the start of the exported UTC day.
	Period time.Time
	// ClaimedAt is when an exporter claimed the period.
	ClaimedAt time.Time
	// DoneAt is when the export was completed; nil while it is claimed only.
	DoneAt *time.Time
	// File and ManifestFile are the archive names.
	File, ManifestFile string
	// FirstSeq and LastSeq bound the exported entries; Count is how many.
	FirstSeq, LastSeq, Count int64
	// FileSHA256 and LinesSHA256 are hex SHA-256 sums of the compressed file
	// and of the uncompressed JSON Lines.
	FileSHA256, LinesSHA256 string
	// ExporterVersion is the version of the file format written.
	ExporterVersion string
}

// Store keeps the activity log and the record of its exports. sqlstore
// implements it; audittest checks every implementation.
//
// The contract every implementation keeps:
//   - It is safe for concurrent use, also by several processes on one database.
//   - Every method but ExportPractices is scoped by the practice: entries and
//     exports of another practice are never returned or changed.
//   - Entries are append-only: nothing in Store changes or deletes one.
//   - Slices come back non-nil (empty when none), ordered by Seq.
//   - Times come back in UTC with microsecond precision.
//
// An implementation that also implements other domains' Stores over one
// database shares their transactions (see InTx): an entry appended with
// the context of a scheduling change commits or rolls back with it.
type Store interface {
	// InTx runs fn in one transaction, carried in the context fn receives:
	// every method called with that context runs in the transaction, which
	// commits if fn returns nil and rolls back otherwise. Called with a
	// context that already carries a transaction, it runs fn in that one.
	// An adapter serving several domains over one database shares its
	// transactions between them: the change of one domain and another's
	// writes made with the same context commit together.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error

	// Append adds e, already validated and with ID and At set, at the end of
	// its practice's chain. It takes the practice's append lock (held until
	// the transaction ends, so appends of one practice run one after the
	// other, across processes, and appends of different practices do not
	// wait for each other), reads the Head, seals e as e.Seal(head.Seq+1,
	// head.Hash, head.At) does and stores e and the new head, all or nothing.
	// With a context carrying a transaction it runs in that transaction;
	// otherwise in its own. An implementation may defer the sealing to the
	// commit of the caller's transaction, taking the lock only then (so that
	// the lock is held for the commit alone), provided it seals in the order
	// of the appends and exactly as Seal would; e then keeps Seq 0 and no
	// hashes, and the entry is not seen by Head or Query until the commit.
	// Appended on its own, e comes back sealed. It returns KindNotFound if
	// the practice does not exist and KindConflict on a duplicate ID (with
	// the sealing deferred, a duplicate of a sealed entry fails the commit
	// instead).
	Append(ctx context.Context, e *Entry) error
	// Head returns the end of practice's chain, as recorded by Append; for a
	// practice without entries, Seq 0 and ZeroHash.
	Head(ctx context.Context, practice tenant.PracticeID) (Head, error)
	// Query returns the entries of practice that match f, by Seq.
	Query(ctx context.Context, practice tenant.PracticeID, f Filter) ([]*Entry, error)

	// ExportPractices returns the practices with at least one entry, by ID,
	// after the cursor (uuid.Nil: from the start), at most limit (0: all).
	// It is the one method that spans practices, for the export job.
	ExportPractices(ctx context.Context, after tenant.PracticeID, limit int) ([]tenant.PracticeID, error)
	// ClaimExport claims the export of practice's period (a UTC day start)
	// for the caller, recording claimedAt. It reports false, and changes
	// nothing, if the period is done or was claimed at or after staleBefore
	// by someone else; a claim older than staleBefore that was never
	// completed is taken over. Of concurrent claimers at most one wins.
	ClaimExport(ctx context.Context, practice tenant.PracticeID, period, claimedAt, staleBefore time.Time) (bool, error)
	// CompleteExport records x (claimed by the caller) as done at x.DoneAt,
	// which must be set, with its files, seqs and sums. It returns
	// KindConflict if the period is already done, and KindNotFound if it was
	// never claimed.
	CompleteExport(ctx context.Context, x *Export) error
	// GetExport returns the export of practice's period, or KindNotFound.
	GetExport(ctx context.Context, practice tenant.PracticeID, period time.Time) (*Export, error)
	// LastExport returns the done export of practice with the latest
	// Period, or KindNotFound if none is done.
	LastExport(ctx context.Context, practice tenant.PracticeID) (*Export, error)
}
