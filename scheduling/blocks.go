package scheduling

import (
	"context"
	"slices"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
)

// overlapHorizon is how far ahead a new or changed block is checked against
// the provider's other blocks when either one never ends.
const overlapHorizon = 400 * 24 * time.Hour

// BlockInput is the part of a block its owner writes.
type BlockInput struct {
	LocationID tenant.LocationID
	// Start and End bound the first occurrence.
	Start, End time.Time
	RRule      string
	ExDates    []string
	Overrides  []Override
	Capacity   int // 0: 1
}

// NewBlock is the input of CreateBlock.
type NewBlock struct {
	ProviderID ProviderID
	BlockInput
}

// DisplacedAppointment names an appointment that keeps a block from being
// deleted or changed.
type DisplacedAppointment struct {
	ID     AppointmentID `json:"id"`
	Start  time.Time     `json:"start"`
	End    time.Time     `json:"end"`
	Status Status        `json:"status"`
}

// CreateBlock publishes availability. It fails with KindInvalid (naming the
// field) for an unknown location, a bad RRULE, an end not after the start,
// and with KindConflict when the block overlaps another of the provider's.
func (s *Service) CreateBlock(ctx context.Context, practice tenant.PracticeID, in NewBlock) (*Block, error) {
	const op = "scheduling.CreateBlock"
	prov, err := s.store.GetProvider(ctx, practice, in.ProviderID)
	if err != nil {
		return nil, withField(err, "provider_id")
	}
	now := s.now()
	b := &Block{ID: s.ids.New(), PracticeID: practice, ProviderID: prov.ID, CreatedAt: now, UpdatedAt: now}
	rec, err := s.fillBlock(ctx, op, prov, b, in.BlockInput)
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.Lock(ctx, prov.ID); err != nil {
			return err
		}
		if err := s.checkNoOverlap(ctx, s.store, op, b, rec); err != nil {
			return err
		}
		if err := s.store.CreateBlock(ctx, b); err != nil {
			return err
		}
		return s.observeBlock(ctx, nil, b)
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// fillBlock validates in and writes it into b, deriving TimeZone and SpanEnd.
func (s *Service) fillBlock(ctx context.Context, op string, prov *Provider, b *Block, in BlockInput) (*recurrence, error) {
	loc, err := s.tenants.GetLocation(ctx, b.PracticeID, in.LocationID)
	if err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return nil, errs.Invalid(op, "location_id", "no such location")
		}
		return nil, err
	}
	if !slices.Contains(prov.LocationIDs, loc.ID) {
		return nil, errs.Invalid(op, "location_id", "the provider does not work at this location")
	}
	if in.Capacity == 0 {
		in.Capacity = 1
	}
	if in.Capacity < 1 || in.Capacity > 500 {
		return nil, errs.Invalid(op, "capacity", "must be between 1 and 500")
	}
	b.LocationID, b.TimeZone = loc.ID, loc.TimeZone
	b.Start, b.End = in.Start.UTC().Truncate(time.Second), in.End.UTC().Truncate(time.Second)
	b.RRule, b.ExDates, b.Overrides, b.Capacity = in.RRule, nonNil(in.ExDates), nonNil(in.Overrides), in.Capacity
	rec, err := parseRecurrence(op, b)
	if err != nil {
		return nil, err
	}
	if b.SpanEnd, err = rec.spanEnd(op, b); err != nil {
		return nil, err
	}
	return rec, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// checkNoOverlap refuses b if one of its occurrences overlaps an occurrence
// of another block of the same provider, from now (or b's start) up to b's
// end or the overlap horizon.
func (s *Service) checkNoOverlap(ctx context.Context, tx Store, op string, b *Block, rec *recurrence) error {
	from := b.Start
	if n := s.now().Add(-24 * time.Hour); n.After(from) {
		from = n
	}
	to := from.Add(overlapHorizon)
	if b.SpanEnd != nil && b.SpanEnd.Before(to) {
		to = *b.SpanEnd
	}
	if !to.After(from) {
		return nil
	}
	others, err := tx.ListBlocks(ctx, b.PracticeID, BlockFilter{ProviderIDs: []ProviderID{b.ProviderID}, From: from, To: to})
	if err != nil {
		return err
	}
	mine := rec.expand(b, from, to)
	for _, o := range others {
		if o.ID == b.ID {
			continue
		}
		theirs, err := Expand(o, from, to)
		if err != nil {
			return err
		}
		if at, ok := firstOverlap(mine, theirs); ok {
			e := errs.Conflict(op, "overlaps another block of the provider at "+at.Format(time.RFC3339))
			e.Field = "start"
			e.Details = map[string]any{"block_id": o.ID, "at": at}
			return e
		}
	}
	return nil
}

// firstOverlap finds the first instant where two sorted occurrence lists overlap.
func firstOverlap(a, b []Occurrence) (time.Time, bool) {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i].Start.Before(b[j].End) && b[j].Start.Before(a[i].End) {
			if a[i].Start.After(b[j].Start) {
				return a[i].Start, true
			}
			return b[j].Start, true
		}
		if a[i].End.Before(b[j].End) {
			i++
		} else {
			j++
		}
	}
	return time.Time{}, false
}

// UpdateBlock changes a block. When the change would leave active future
// appointments outside the block (or beyond its capacity) it fails with
// KindPreconditionFailed and lists them in the error's Details; move them
// first with MoveAppointments.
func (s *Service) UpdateBlock(ctx context.Context, practice tenant.PracticeID, id BlockID, in BlockInput) (*Block, error) {
	const op = "scheduling.UpdateBlock"
	var out *Block
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		old, err := s.store.GetBlock(ctx, practice, id)
		if err != nil {
			return err
		}
		if err := s.store.Lock(ctx, old.ProviderID); err != nil {
			return err
		}
		prov, err := s.store.GetProvider(ctx, practice, old.ProviderID)
		if err != nil {
			return err
		}
		b := *old
		b.UpdatedAt = s.now()
		rec, err := s.fillBlock(ctx, op, prov, &b, in)
		if err != nil {
			return err
		}
		if err := s.checkNoOverlap(ctx, s.store, op, &b, rec); err != nil {
			return err
		}
		appts, err := s.futureAppointments(ctx, s.store, practice, id)
		if err != nil {
			return err
		}
		var displaced []DisplacedAppointment
		for _, a := range appts {
			if !fits(rec, &b, a) {
				displaced = append(displaced, DisplacedAppointment{a.ID, a.Start, a.End, a.Status})
			}
		}
		if len(displaced) > 0 {
			return blockHolds(op, "the change would leave appointments outside the block; move them first", displaced)
		}
		if err := s.store.UpdateBlock(ctx, &b); err != nil {
			return err
		}
		if err := s.observeBlock(ctx, old, &b); err != nil {
			return err
		}
		out = &b
		return nil
	})
	return out, err
}

// fits reports whether appointment a still lies in an occurrence of b, at b's
// location and within its capacity.
func fits(rec *recurrence, b *Block, a *Appointment) bool {
	if a.LocationID != b.LocationID || a.Seat > b.Capacity {
		return false
	}
	for _, o := range rec.expand(b, a.Start, a.End) {
		if !o.Start.After(a.Start) && !o.End.Before(a.End) {
			return true
		}
	}
	return false
}

func blockHolds(op, msg string, displaced []DisplacedAppointment) error {
	e := errs.E(errs.KindPreconditionFailed, op, msg)
	e.Field = "block"
	e.Details = map[string]any{"appointments": displaced}
	return e
}

// futureAppointments lists the block's active appointments that have not ended.
func (s *Service) futureAppointments(ctx context.Context, tx Store, practice tenant.PracticeID, block BlockID) ([]*Appointment, error) {
	return tx.ListAppointments(ctx, practice, AppointmentFilter{
		BlockID: &block, Status: ActiveStatuses, From: s.now(), To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
	})
}

// DeleteBlock removes a block. It fails with KindPreconditionFailed, listing
// them, while the block holds active appointments that have not ended.
func (s *Service) DeleteBlock(ctx context.Context, practice tenant.PracticeID, id BlockID) error {
	const op = "scheduling.DeleteBlock"
	return s.store.InTx(ctx, func(ctx context.Context) error {
		b, err := s.store.GetBlock(ctx, practice, id)
		if err != nil {
			return err
		}
		if err := s.store.Lock(ctx, b.ProviderID); err != nil {
			return err
		}
		appts, err := s.futureAppointments(ctx, s.store, practice, id)
		if err != nil {
			return err
		}
		if len(appts) > 0 {
			d := make([]DisplacedAppointment, len(appts))
			for i, a := range appts {
				d[i] = DisplacedAppointment{a.ID, a.Start, a.End, a.Status}
			}
			return blockHolds(op, "the block still holds appointments; move them first", d)
		}
		if err := s.store.DeleteBlock(ctx, practice, id); err != nil {
			return err
		}
		return s.observeBlock(ctx, b, nil)
	})
}

// Block returns one block.
func (s *Service) Block(ctx context.Context, practice tenant.PracticeID, id BlockID) (*Block, error) {
	return s.store.GetBlock(ctx, practice, id)
}

// Blocks lists a practice's blocks.
func (s *Service) Blocks(ctx context.Context, practice tenant.PracticeID, f BlockFilter) ([]*Block, error) {
	return s.store.ListBlocks(ctx, practice, f)
}

// withField sets the field of a KindNotFound or KindInvalid error that lacks one.
func withField(err error, field string) error { return errs.WithField(err, field) }
