package audit

import (
	"context"
	"fmt"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Query page sizes.
const (
	DefaultLimit = 100  // a Query without a Limit gets this many
	MaxLimit     = 1000 // the most a Query returns at once
)

// verifyPage is how many entries Verify reads at a time.
const verifyPage = 500

// Service records and reads the activity log of every practice.
type Service struct {
	store Store
	clock clock.Clock
	ids   clock.IDSource
}

// NewService returns a Service over store that dates entries by c and names
// them by ids.
func NewService(store Store, c clock.Clock, ids clock.IDSource) *Service {
	return &Service{store: store, clock: c, ids: ids}
}

// Record validates e, gives it an ID and the clock's time, and appends it
// (see Store.Append). It returns the stored entry, with Seq and hashes set
// (unless the store seals it when the transaction in ctx commits).
// Bad input is refused with an *errs.Error of KindInvalid naming the field,
// and nothing is written.
func (s *Service) Record(ctx context.Context, e Entry) (*Entry, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	e.ID = s.ids.New()
	e.At = s.clock.Now()
	if err := s.store.Append(ctx, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// Query returns a page of the entries of practice that match f, by Seq: at
// most f.Limit, DefaultLimit if it is 0, never more than MaxLimit. The next
// page starts after the last Seq returned.
func (s *Service) Query(ctx context.Context, practice tenant.PracticeID, f Filter) ([]*Entry, error) {
	const op = "audit.Query"
	if practice == uuid.Nil {
		return nil, errs.Invalid(op, "practice_id", "a query needs a practice")
	}
	switch {
	case f.Limit < 0 || f.Limit > MaxLimit:
		return nil, errs.Invalid(op, "limit", fmt.Sprintf("limit must be between 0 and %d", MaxLimit))
	case f.AfterSeq < 0:
		return nil, errs.Invalid(op, "after_seq", "after_seq must not be negative")
	case f.Outcome != "" && !f.Outcome.Valid():
		return nil, errs.Invalid(op, "outcome", "outcome must be allowed, denied or failed")
	case !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To):
		return nil, errs.Invalid(op, "to", "to must be after from")
	}
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	return s.store.Query(ctx, practice, f)
}

// Verify checks the chain of practice; see Verify.
func (s *Service) Verify(ctx context.Context, practice tenant.PracticeID) (*Break, error) {
	return Verify(ctx, s.store, practice)
}

// Reason says how a chain is broken.
type Reason string

// The reasons a chain breaks.
const (
	// HashMismatch: the entry's Hash is not the hash of its fields; it was edited.
	HashMismatch Reason = "hash_mismatch"
	// SeqGap: an entry is missing; it was deleted.
	SeqGap Reason = "seq_gap"
	// PrevHashMismatch: the entry does not follow its predecessor; entries
	// were reordered or one was inserted.
	PrevHashMismatch Reason = "prev_hash_mismatch"
)

// Break is the first broken link of a chain.
type Break struct {
	Seq    int64  // where the chain breaks: the first bad or missing Seq
	Reason Reason // how
}

// Error renders the break, so that a Break can be returned as an error.
func (b *Break) Error() string {
	return fmt.Sprintf("audit chain broken at seq %d: %s", b.Seq, b.Reason)
}

// Verify walks the chain of practice in store, page by page, and returns its
// first broken link, or nil when the chain is whole: the entries are
// numbered 1 to the head's Seq without gaps, each hash matches its entry,
// and each PrevHash is the Hash of the entry before. Entries missing after
// the last one stored (up to the recorded Head) read as a SeqGap.
func Verify(ctx context.Context, store Store, practice tenant.PracticeID) (*Break, error) {
	head, err := store.Head(ctx, practice)
	if err != nil {
		return nil, err
	}
	next, prev := int64(1), ZeroHash
	for {
		page, err := store.Query(ctx, practice, Filter{AfterSeq: next - 1, Limit: verifyPage})
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if b := link(e, next, prev); b != nil {
				return b, nil
			}
			next, prev = e.Seq+1, e.Hash
		}
		if len(page) < verifyPage {
			break
		}
	}
	if next <= head.Seq {
		return &Break{Seq: next, Reason: SeqGap}, nil
	}
	return nil, nil
}

// link checks that e is entry seq of a chain whose last Hash is prev.
func link(e *Entry, seq int64, prev string) *Break {
	switch {
	case e.Seq != seq:
		return &Break{Seq: seq, Reason: SeqGap}
	case e.Hash != e.ComputeHash():
		return &Break{Seq: seq, Reason: HashMismatch}
	case e.PrevHash != prev:
		return &Break{Seq: seq, Reason: PrevHashMismatch}
	}
	return nil
}
