package ehr

import (
	"context"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
)

// ChartFilter narrows Store.Chart. Zero fields do not filter.
type ChartFilter struct {
	Kinds       []Kind
	EncounterID *EntryID
	// WithErrors keeps the entries entered in error, which a chart leaves
	// out by default.
	WithErrors bool
	// Before and Limit page through the chart, newest first by when each
	// entry was first recorded: entries first recorded before Before (the
	// RecordedAt of the first version of the last entry seen, with
	// BeforeID, its ID, to break ties).
	Before   *time.Time
	BeforeID *EntryID
	Limit    int
}

// Store keeps charts. Every method is scoped to its practice: an entry of
// another practice is KindNotFound. A Store may seal what it keeps (sqlstore
// does, with the practice's keys).
type Store interface {
	// InTx runs fn in one transaction carried in its context.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	Rights       // amendments, record requests and disclosures (rights.go)
	BreakGlasses // break-glass accesses (breakglass.go)

	// Append writes next as the new version of its entry (the first when
	// next.Version is 1), in one transaction with what it reads: the
	// entry's current version and the current version of its encounter,
	// locked against concurrent writers, which it passes with next to
	// CheckWrite at now (refusing as CheckWrite does), and for an
	// addendum the current version of the note it corrects, which it
	// passes to CheckAddendum; then it links next
	// after the last version of the patient's chart (Link: Seq, PrevHash,
	// Hash), and stores it as the entry's current version. No version is
	// ever updated or deleted: a store refuses that in the database
	// itself where it can.
	Append(ctx context.Context, next *Entry, now time.Time) error
	// Current returns the current version of entry id, or KindNotFound.
	Current(ctx context.Context, practice tenant.PracticeID, id EntryID) (*Entry, error)
	// History returns every version of entry id, oldest first, or
	// KindNotFound.
	History(ctx context.Context, practice tenant.PracticeID, id EntryID) ([]*Entry, error)
	// Chart returns the current versions of a patient's entries that pass
	// f, newest first (by RecordedAt of the entry's first version, then
	// ID). Restricted entries are included: the caller filters with
	// Visible.
	Chart(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, f ChartFilter) ([]*Entry, error)
	// Versions returns up to limit versions of a patient's chart with Seq
	// greater than afterSeq, in Seq order (for VerifyChain and exports).
	Versions(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, afterSeq int64, limit int) ([]*Entry, error)
}
