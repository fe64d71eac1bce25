package sqlstore

import (
	"context"
	"database/sql"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// affected turns an UPDATE or DELETE that touched no row into KindNotFound.
func affected(op, what string, res sql.Result, err error) error {
	if err != nil {
		return failure(op, what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return failure(op, what, err)
	}
	if n == 0 {
		return failure(op, what, sql.ErrNoRows)
	}
	return nil
}

// jsonContains returns a condition that the JSON array in column holds the
// string v.
func (s *Scheduling) jsonContains(q *bun.SelectQuery, column, v string) *bun.SelectQuery {
	if s.dialect == Postgres {
		doc, _ := list([]string{v}).Value()
		return q.Where("? @> CAST(? AS jsonb)", bun.Safe(column), doc)
	}
	return q.Where("EXISTS (SELECT 1 FROM json_each(?) AS je WHERE je.value = ?)", bun.Safe(column), v)
}

type providerRow struct {
	bun.BaseModel `bun:"table:providers,alias:p"`

	PracticeID  uuid.UUID           `bun:"practice_id,pk"`
	ID          uuid.UUID           `bun:"id,pk"`
	NPI         string              `bun:"npi"`
	GivenName   string              `bun:"given_name"`
	FamilyName  string              `bun:"family_name"`
	Specialties jsonList[string]    `bun:"specialties"`
	LocationIDs jsonList[uuid.UUID] `bun:"location_ids"`
	CreatedAt   utcTime             `bun:"created_at"`
}

func (r *providerRow) provider() *scheduling.Provider {
	return &scheduling.Provider{
		ID:          r.ID,
		PracticeID:  r.PracticeID,
		NPI:         r.NPI,
		GivenName:   r.GivenName,
		FamilyName:  r.FamilyName,
		Specialties: slice(r.Specialties),
		LocationIDs: slice(r.LocationIDs),
		CreatedAt:   r.CreatedAt.Time(),
	}
}

// CreateProvider stores p as given; KindConflict if its NPI is taken in the
// practice.
func (s *Scheduling) CreateProvider(ctx context.Context, p *scheduling.Provider) error {
	row := &providerRow{
		PracticeID:  p.PracticeID,
		ID:          p.ID,
		NPI:         p.NPI,
		GivenName:   p.GivenName,
		FamilyName:  p.FamilyName,
		Specialties: list(p.Specialties),
		LocationIDs: list(p.LocationIDs),
		CreatedAt:   utc(p.CreatedAt),
	}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateProvider", "provider", err)
}

// GetProvider returns provider id of practice, or KindNotFound.
func (s *Scheduling) GetProvider(ctx context.Context, practice tenant.PracticeID, id scheduling.ProviderID) (*scheduling.Provider, error) {
	var row providerRow
	if err := s.idb(ctx).NewSelect().Model(&row).
		Where("p.practice_id = ? AND p.id = ?", practice, id).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetProvider", "provider", err)
	}
	return row.provider(), nil
}

// ListProviders returns the providers of practice that pass f, by family
// name, given name, then ID.
func (s *Scheduling) ListProviders(ctx context.Context, practice tenant.PracticeID, f scheduling.ProviderFilter) ([]*scheduling.Provider, error) {
	var rows []providerRow
	q := s.idb(ctx).NewSelect().Model(&rows).Where("p.practice_id = ?", practice)
	if len(f.IDs) > 0 {
		q = q.Where("p.id IN (?)", bun.List(f.IDs))
	}
	if f.LocationID != nil {
		q = s.jsonContains(q, "p.location_ids", f.LocationID.String())
	}
	if f.Specialty != "" {
		q = s.jsonContains(q, "p.specialties", f.Specialty)
	}
	if f.After != nil {
		q = q.Where("p.id > ?", *f.After)
	}
	q = q.OrderExpr("p.family_name, p.given_name, p.id")
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure("sqlstore.ListProviders", "provider", err)
	}
	out := make([]*scheduling.Provider, len(rows))
	for i := range rows {
		out[i] = rows[i].provider()
	}
	return out, nil
}

type resourceRow struct {
	bun.BaseModel `bun:"table:resources,alias:r"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	ID         uuid.UUID `bun:"id,pk"`
	LocationID uuid.UUID `bun:"location_id"`
	Name       string    `bun:"name"`
	Kind       string    `bun:"kind"`
	CreatedAt  utcTime   `bun:"created_at"`
}

func (r *resourceRow) resource() *scheduling.Resource {
	return &scheduling.Resource{
		ID:         r.ID,
		PracticeID: r.PracticeID,
		LocationID: r.LocationID,
		Name:       r.Name,
		Kind:       scheduling.ResourceKind(r.Kind),
		CreatedAt:  r.CreatedAt.Time(),
	}
}

// CreateResource stores r as given.
func (s *Scheduling) CreateResource(ctx context.Context, r *scheduling.Resource) error {
	row := &resourceRow{
		PracticeID: r.PracticeID,
		ID:         r.ID,
		LocationID: r.LocationID,
		Name:       r.Name,
		Kind:       string(r.Kind),
		CreatedAt:  utc(r.CreatedAt),
	}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateResource", "resource", err)
}

// GetResource returns resource id of practice, or KindNotFound.
func (s *Scheduling) GetResource(ctx context.Context, practice tenant.PracticeID, id scheduling.ResourceID) (*scheduling.Resource, error) {
	var row resourceRow
	if err := s.idb(ctx).NewSelect().Model(&row).
		Where("r.practice_id = ? AND r.id = ?", practice, id).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetResource", "resource", err)
	}
	return row.resource(), nil
}

// ListResources returns the resources of practice, at location when it is
// not nil, by name, then ID.
func (s *Scheduling) ListResources(ctx context.Context, practice tenant.PracticeID, location *tenant.LocationID) ([]*scheduling.Resource, error) {
	var rows []resourceRow
	q := s.idb(ctx).NewSelect().Model(&rows).Where("r.practice_id = ?", practice)
	if location != nil {
		q = q.Where("r.location_id = ?", *location)
	}
	if err := q.OrderExpr("r.name, r.id").Scan(ctx); err != nil {
		return nil, failure("sqlstore.ListResources", "resource", err)
	}
	out := make([]*scheduling.Resource, len(rows))
	for i := range rows {
		out[i] = rows[i].resource()
	}
	return out, nil
}

type visitTypeRow struct {
	bun.BaseModel `bun:"table:visit_types,alias:vt"`

	PracticeID     uuid.UUID           `bun:"practice_id,pk"`
	ID             uuid.UUID           `bun:"id,pk"`
	Name           string              `bun:"name"`
	DurationUS     micros              `bun:"duration_us"`
	BufferBeforeUS micros              `bun:"buffer_before_us"`
	BufferAfterUS  micros              `bun:"buffer_after_us"`
	StepUS         micros              `bun:"step_us"`
	ResourceIDs    jsonList[uuid.UUID] `bun:"resource_ids"`
	Audience       string              `bun:"audience"`
	PriceMinor     int64               `bun:"price_minor"`
	Currency       string              `bun:"currency"`
	CreatedAt      utcTime             `bun:"created_at"`
}

func (r *visitTypeRow) visitType() *scheduling.VisitType {
	return &scheduling.VisitType{
		ID:           r.ID,
		PracticeID:   r.PracticeID,
		Name:         r.Name,
		Duration:     r.DurationUS.Duration(),
		BufferBefore: r.BufferBeforeUS.Duration(),
		BufferAfter:  r.BufferAfterUS.Duration(),
		Step:         r.StepUS.Duration(),
		ResourceIDs:  slice(r.ResourceIDs),
		Audience:     scheduling.Audience(r.Audience),
		PriceMinor:   r.PriceMinor,
		Currency:     r.Currency,
		CreatedAt:    r.CreatedAt.Time(),
	}
}

// CreateVisitType stores v as given. Durations are kept to the microsecond.
func (s *Scheduling) CreateVisitType(ctx context.Context, v *scheduling.VisitType) error {
	row := &visitTypeRow{
		PracticeID:     v.PracticeID,
		ID:             v.ID,
		Name:           v.Name,
		DurationUS:     us(v.Duration),
		BufferBeforeUS: us(v.BufferBefore),
		BufferAfterUS:  us(v.BufferAfter),
		StepUS:         us(v.Step),
		ResourceIDs:    list(v.ResourceIDs),
		Audience:       string(v.Audience),
		PriceMinor:     v.PriceMinor,
		Currency:       v.Currency,
		CreatedAt:      utc(v.CreatedAt),
	}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateVisitType", "visit type", err)
}

// GetVisitType returns visit type id of practice, or KindNotFound.
func (s *Scheduling) GetVisitType(ctx context.Context, practice tenant.PracticeID, id scheduling.VisitTypeID) (*scheduling.VisitType, error) {
	var row visitTypeRow
	if err := s.idb(ctx).NewSelect().Model(&row).
		Where("vt.practice_id = ? AND vt.id = ?", practice, id).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetVisitType", "visit type", err)
	}
	return row.visitType(), nil
}

// ListVisitTypes returns the visit types of practice by name, then ID.
func (s *Scheduling) ListVisitTypes(ctx context.Context, practice tenant.PracticeID) ([]*scheduling.VisitType, error) {
	var rows []visitTypeRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("vt.practice_id = ?", practice).
		OrderExpr("vt.name, vt.id").Scan(ctx); err != nil {
		return nil, failure("sqlstore.ListVisitTypes", "visit type", err)
	}
	out := make([]*scheduling.VisitType, len(rows))
	for i := range rows {
		out[i] = rows[i].visitType()
	}
	return out, nil
}
