package sqlstore

import (
	"context"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

type groupRow struct {
	bun.BaseModel `bun:"table:groups,alias:g"`

	ID        uuid.UUID `bun:"id,pk"`
	Name      string    `bun:"name"`
	CreatedAt utcTime   `bun:"created_at"`
}

type practiceRow struct {
	bun.BaseModel `bun:"table:practices,alias:p"`

	ID             uuid.UUID `bun:"id,pk"`
	GroupID        uuid.UUID `bun:"group_id"`
	Name           string    `bun:"name"`
	AutoConfirm    bool      `bun:"auto_confirm"`
	MinNoticeUS    micros    `bun:"min_notice_us"`
	MaxAdvanceUS   micros    `bun:"max_advance_us"`
	CancelCutoffUS micros    `bun:"cancel_cutoff_us"`
	ArrivalEarlyUS micros    `bun:"arrival_early_us"`
	ArrivalLateUS  micros    `bun:"arrival_late_us"`
	CreatedAt      utcTime   `bun:"created_at"`
}

func (r *practiceRow) practice() *tenant.Practice {
	return &tenant.Practice{
		ID:      r.ID,
		GroupID: r.GroupID,
		Name:    r.Name,
		Policy: tenant.BookingPolicy{
			AutoConfirm:  r.AutoConfirm,
			MinNotice:    r.MinNoticeUS.Duration(),
			MaxAdvance:   r.MaxAdvanceUS.Duration(),
			CancelCutoff: r.CancelCutoffUS.Duration(),
			ArrivalEarly: r.ArrivalEarlyUS.Duration(),
			ArrivalLate:  r.ArrivalLateUS.Duration(),
		},
		CreatedAt: r.CreatedAt.Time(),
	}
}

type locationRow struct {
	bun.BaseModel `bun:"table:locations,alias:l"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	ID         uuid.UUID `bun:"id,pk"`
	Name       string    `bun:"name"`
	TimeZone   string    `bun:"time_zone"`
	Line1      string    `bun:"line1"`
	Line2      string    `bun:"line2"`
	City       string    `bun:"city"`
	Region     string    `bun:"region"`
	PostalCode string    `bun:"postal_code"`
	Country    string    `bun:"country"`
	Lat        float64   `bun:"lat"`
	Lng        float64   `bun:"lng"`
	CreatedAt  utcTime   `bun:"created_at"`
}

func (r *locationRow) location() *tenant.Location {
	return &tenant.Location{
		ID:         r.ID,
		PracticeID: r.PracticeID,
		Name:       r.Name,
		TimeZone:   r.TimeZone,
		Address: tenant.Address{
			Line1:      r.Line1,
			Line2:      r.Line2,
			City:       r.City,
			Region:     r.Region,
			PostalCode: r.PostalCode,
			Country:    r.Country,
		},
		Geo:       tenant.GeoPoint{Lat: r.Lat, Lng: r.Lng},
		CreatedAt: r.CreatedAt.Time(),
	}
}

// CreateGroup stores g as given.
func (s *Tenants) CreateGroup(ctx context.Context, g *tenant.Group) error {
	row := &groupRow{ID: g.ID, Name: g.Name, CreatedAt: utc(g.CreatedAt)}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateGroup", "group", err)
}

// GetGroup returns the group id, or KindNotFound.
func (s *Tenants) GetGroup(ctx context.Context, id tenant.GroupID) (*tenant.Group, error) {
	var row groupRow
	if err := s.idb(ctx).NewSelect().Model(&row).Where("g.id = ?", id).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetGroup", "group", err)
	}
	return &tenant.Group{ID: row.ID, Name: row.Name, CreatedAt: row.CreatedAt.Time()}, nil
}

// CreatePractice stores p as given. Its group must exist (else KindNotFound).
func (s *Tenants) CreatePractice(ctx context.Context, p *tenant.Practice) error {
	row := &practiceRow{
		ID:             p.ID,
		GroupID:        p.GroupID,
		Name:           p.Name,
		AutoConfirm:    p.Policy.AutoConfirm,
		MinNoticeUS:    us(p.Policy.MinNotice),
		MaxAdvanceUS:   us(p.Policy.MaxAdvance),
		CancelCutoffUS: us(p.Policy.CancelCutoff),
		ArrivalEarlyUS: us(p.Policy.ArrivalEarly),
		ArrivalLateUS:  us(p.Policy.ArrivalLate),
		CreatedAt:      utc(p.CreatedAt),
	}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreatePractice", "practice", err)
}

// GetPractice returns the practice id, or KindNotFound.
func (s *Tenants) GetPractice(ctx context.Context, id tenant.PracticeID) (*tenant.Practice, error) {
	var row practiceRow
	if err := s.idb(ctx).NewSelect().Model(&row).Where("p.id = ?", id).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetPractice", "practice", err)
	}
	return row.practice(), nil
}

// ListPractices returns the practices of group by name, then ID.
func (s *Tenants) ListPractices(ctx context.Context, group tenant.GroupID) ([]*tenant.Practice, error) {
	var rows []practiceRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("p.group_id = ?", group).
		OrderExpr("p.name, p.id").Scan(ctx); err != nil {
		return nil, failure("sqlstore.ListPractices", "practice", err)
	}
	out := make([]*tenant.Practice, len(rows))
	for i := range rows {
		out[i] = rows[i].practice()
	}
	return out, nil
}

// UpdatePolicy replaces the booking policy of practice id.
func (s *Tenants) UpdatePolicy(ctx context.Context, id tenant.PracticeID, p tenant.BookingPolicy) error {
	const op = "sqlstore.UpdatePolicy"
	res, err := s.idb(ctx).NewUpdate().Table("practices").
		Set("auto_confirm = ?", p.AutoConfirm).
		Set("min_notice_us = ?", us(p.MinNotice)).
		Set("max_advance_us = ?", us(p.MaxAdvance)).
		Set("cancel_cutoff_us = ?", us(p.CancelCutoff)).
		Set("arrival_early_us = ?", us(p.ArrivalEarly)).
		Set("arrival_late_us = ?", us(p.ArrivalLate)).
		Where("id = ?", id).Exec(ctx)
	return affected(op, "practice", res, err)
}

// CreateLocation stores l as given.
func (s *Tenants) CreateLocation(ctx context.Context, l *tenant.Location) error {
	row := &locationRow{
		PracticeID: l.PracticeID,
		ID:         l.ID,
		Name:       l.Name,
		TimeZone:   l.TimeZone,
		Line1:      l.Address.Line1,
		Line2:      l.Address.Line2,
		City:       l.Address.City,
		Region:     l.Address.Region,
		PostalCode: l.Address.PostalCode,
		Country:    l.Address.Country,
		Lat:        l.Geo.Lat,
		Lng:        l.Geo.Lng,
		CreatedAt:  utc(l.CreatedAt),
	}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateLocation", "location", err)
}

// GetLocation returns location id of practice, or KindNotFound.
func (s *Tenants) GetLocation(ctx context.Context, practice tenant.PracticeID, id tenant.LocationID) (*tenant.Location, error) {
	var row locationRow
	if err := s.idb(ctx).NewSelect().Model(&row).
		Where("l.practice_id = ? AND l.id = ?", practice, id).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetLocation", "location", err)
	}
	return row.location(), nil
}

// ListLocations returns the locations of practice by name, then ID.
func (s *Tenants) ListLocations(ctx context.Context, practice tenant.PracticeID) ([]*tenant.Location, error) {
	var rows []locationRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("l.practice_id = ?", practice).
		OrderExpr("l.name, l.id").Scan(ctx); err != nil {
		return nil, failure("sqlstore.ListLocations", "location", err)
	}
	out := make([]*tenant.Location, len(rows))
	for i := range rows {
		out[i] = rows[i].location()
	}
	return out, nil
}
