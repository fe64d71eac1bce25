package sqlstore

import (
	"context"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

type blockRow struct {
	bun.BaseModel `bun:"table:blocks,alias:b"`

	PracticeID uuid.UUID                     `bun:"practice_id,pk"`
	ID         uuid.UUID                     `bun:"id,pk"`
	ProviderID uuid.UUID                     `bun:"provider_id"`
	LocationID uuid.UUID                     `bun:"location_id"`
	TimeZone   string                        `bun:"time_zone"`
	StartAt    utcTime                       `bun:"start_at"`
	EndAt      utcTime                       `bun:"end_at"`
	RRule      string                        `bun:"rrule"`
	ExDates    jsonList[string]              `bun:"exdates"`
	Overrides  jsonList[scheduling.Override] `bun:"overrides"`
	Capacity   int                           `bun:"capacity"`
	SpanEnd    *utcTime                      `bun:"span_end"`
	CreatedAt  utcTime                       `bun:"created_at"`
	UpdatedAt  utcTime                       `bun:"updated_at"`
}

func newBlockRow(b *scheduling.Block) *blockRow {
	return &blockRow{
		PracticeID: b.PracticeID,
		ID:         b.ID,
		ProviderID: b.ProviderID,
		LocationID: b.LocationID,
		TimeZone:   b.TimeZone,
		StartAt:    utc(b.Start),
		EndAt:      utc(b.End),
		RRule:      b.RRule,
		ExDates:    list(b.ExDates),
		Overrides:  list(b.Overrides),
		Capacity:   b.Capacity,
		SpanEnd:    optTime(b.SpanEnd),
		CreatedAt:  utc(b.CreatedAt),
		UpdatedAt:  utc(b.UpdatedAt),
	}
}

func (r *blockRow) block() *scheduling.Block {
	return &scheduling.Block{
		ID:         r.ID,
		PracticeID: r.PracticeID,
		ProviderID: r.ProviderID,
		LocationID: r.LocationID,
		TimeZone:   r.TimeZone,
		Start:      r.StartAt.Time(),
		End:        r.EndAt.Time(),
		RRule:      r.RRule,
		ExDates:    slice(r.ExDates),
		Overrides:  slice(r.Overrides),
		Capacity:   r.Capacity,
		SpanEnd:    r.SpanEnd.timePtr(),
		CreatedAt:  r.CreatedAt.Time(),
		UpdatedAt:  r.UpdatedAt.Time(),
	}
}

// CreateBlock stores b as given.
func (s *Scheduling) CreateBlock(ctx context.Context, b *scheduling.Block) error {
	_, err := s.idb(ctx).NewInsert().Model(newBlockRow(b)).Exec(ctx)
	return failure("sqlstore.CreateBlock", "block", err)
}

// GetBlock returns block id of practice, or KindNotFound.
func (s *Scheduling) GetBlock(ctx context.Context, practice tenant.PracticeID, id scheduling.BlockID) (*scheduling.Block, error) {
	var row blockRow
	if err := s.idb(ctx).NewSelect().Model(&row).
		Where("b.practice_id = ? AND b.id = ?", practice, id).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetBlock", "block", err)
	}
	return row.block(), nil
}

// UpdateBlock replaces every field of the stored block but ID, PracticeID,
// ProviderID and CreatedAt; KindNotFound if there is none.
func (s *Scheduling) UpdateBlock(ctx context.Context, b *scheduling.Block) error {
	res, err := s.idb(ctx).NewUpdate().Model(newBlockRow(b)).
		Column("location_id", "time_zone", "start_at", "end_at", "rrule", "exdates",
			"overrides", "capacity", "span_end", "updated_at").
		WherePK().Exec(ctx)
	return affected("sqlstore.UpdateBlock", "block", res, err)
}

// DeleteBlock deletes block id of practice; KindNotFound if there is none.
// It does not look at the block's appointments: keeping a block that still
// holds bookings is the Service's rule.
func (s *Scheduling) DeleteBlock(ctx context.Context, practice tenant.PracticeID, id scheduling.BlockID) error {
	res, err := s.idb(ctx).NewDelete().TableExpr("blocks").
		Where("practice_id = ? AND id = ?", practice, id).Exec(ctx)
	return affected("sqlstore.DeleteBlock", "block", res, err)
}

// ListBlocks returns the blocks of practice that pass f, by Start, then ID.
func (s *Scheduling) ListBlocks(ctx context.Context, practice tenant.PracticeID, f scheduling.BlockFilter) ([]*scheduling.Block, error) {
	blocks, err := s.listBlocks(ctx, practice, f)
	if err != nil {
		return nil, failure("sqlstore.ListBlocks", "block", err)
	}
	return blocks, nil
}

func (s *Scheduling) listBlocks(ctx context.Context, practice tenant.PracticeID, f scheduling.BlockFilter) ([]*scheduling.Block, error) {
	var rows []blockRow
	q := s.idb(ctx).NewSelect().Model(&rows).Where("b.practice_id = ?", practice)
	if len(f.ProviderIDs) > 0 {
		q = q.Where("b.provider_id IN (?)", bun.List(f.ProviderIDs))
	}
	if f.LocationID != nil {
		q = q.Where("b.location_id = ?", *f.LocationID)
	}
	q = blockSpan(q, f.From, f.To)
	if err := q.OrderExpr("b.start_at, b.id").Scan(ctx); err != nil {
		return nil, err
	}
	out := make([]*scheduling.Block, len(rows))
	for i := range rows {
		out[i] = rows[i].block()
	}
	return out, nil
}

// blockSpan keeps blocks whose span [start, span_end) may overlap [from, to);
// a zero bound does not filter.
func blockSpan(q *bun.SelectQuery, from, to time.Time) *bun.SelectQuery {
	if !to.IsZero() {
		q = q.Where("b.start_at < ?", utc(to))
	}
	if !from.IsZero() {
		q = q.Where("(b.span_end IS NULL OR b.span_end > ?)", utc(from))
	}
	return q
}
