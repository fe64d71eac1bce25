package sqlstore

import (
	"context"
	"time"

	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

var _ directory.SettingsStore = (*Directory)(nil)

// The practices' directory settings (directory.SettingsStore), tenant data
// beside the read model: directory_settings one row a practice,
// directory_profiles one row a provider, directory_visit_settings one row
// a visit type, each keyed by its practice.

type directorySettingsRow struct {
	bun.BaseModel `bun:"table:directory_settings"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	Published  bool      `bun:"published"`
	UpdatedAt  utcTime   `bun:"updated_at"`
}

type directoryProfileRow struct {
	bun.BaseModel `bun:"table:directory_profiles"`

	PracticeID   uuid.UUID        `bun:"practice_id,pk"`
	ProviderID   uuid.UUID        `bun:"provider_id,pk"`
	Taxonomies   jsonList[string] `bun:"taxonomies"`
	Languages    jsonList[string] `bun:"languages"`
	AcceptingNew bool             `bun:"accepting_new"`
	Hidden       bool             `bun:"hidden"`
	UpdatedAt    utcTime          `bun:"updated_at"`
}

type directoryVisitRow struct {
	bun.BaseModel `bun:"table:directory_visit_settings"`

	PracticeID  uuid.UUID `bun:"practice_id,pk"`
	VisitTypeID uuid.UUID `bun:"visit_type_id,pk"`
	Kind        string    `bun:"kind"`
	Hidden      bool      `bun:"hidden"`
	UpdatedAt   utcTime   `bun:"updated_at"`
}

// PutPublished sets whether practice is published; see
// directory.SettingsStore.
func (s *Directory) PutPublished(ctx context.Context, practice tenant.PracticeID, published bool, at time.Time) error {
	const op = "sqlstore.PutPublished"
	row := &directorySettingsRow{PracticeID: practice, Published: published, UpdatedAt: utc(at)}
	_, err := s.idb(ctx).NewInsert().Model(row).
		On("CONFLICT (practice_id) DO UPDATE").Set("published = EXCLUDED.published, updated_at = EXCLUDED.updated_at").Exec(ctx)
	return errs.WithField(failure(op, "practice", err), "practice_id")
}

// PutProfile writes p, replacing the provider's profile; see
// directory.SettingsStore.
func (s *Directory) PutProfile(ctx context.Context, practice tenant.PracticeID, p *directory.Profile, at time.Time) error {
	const op = "sqlstore.PutProfile"
	if err := p.Validate(); err != nil {
		return err
	}
	row := &directoryProfileRow{PracticeID: practice, ProviderID: p.ProviderID, Taxonomies: list(p.Taxonomies),
		Languages: list(p.Languages), AcceptingNew: p.AcceptingNew, Hidden: p.Hidden, UpdatedAt: utc(at)}
	_, err := s.idb(ctx).NewInsert().Model(row).On("CONFLICT (practice_id, provider_id) DO UPDATE").
		Set("taxonomies = EXCLUDED.taxonomies, languages = EXCLUDED.languages, accepting_new = EXCLUDED.accepting_new").
		Set("hidden = EXCLUDED.hidden, updated_at = EXCLUDED.updated_at").Exec(ctx)
	return errs.WithField(failure(op, "provider", err), "provider_id")
}

// PutVisitSetting writes v, replacing the visit type's setting; see
// directory.SettingsStore.
func (s *Directory) PutVisitSetting(ctx context.Context, practice tenant.PracticeID, v *directory.VisitSetting, at time.Time) error {
	const op = "sqlstore.PutVisitSetting"
	if err := v.Validate(); err != nil {
		return err
	}
	row := &directoryVisitRow{PracticeID: practice, VisitTypeID: v.VisitTypeID, Kind: string(v.Kind), Hidden: v.Hidden, UpdatedAt: utc(at)}
	_, err := s.idb(ctx).NewInsert().Model(row).On("CONFLICT (practice_id, visit_type_id) DO UPDATE").
		Set("kind = EXCLUDED.kind, hidden = EXCLUDED.hidden, updated_at = EXCLUDED.updated_at").Exec(ctx)
	return errs.WithField(failure(op, "visit type", err), "visit_type_id")
}

// Settings returns practice's settings; see directory.SettingsStore.
func (s *Directory) Settings(ctx context.Context, practice tenant.PracticeID) (*directory.Settings, error) {
	const op = "sqlstore.DirectorySettings"
	out := &directory.Settings{PracticeID: practice, VisitTypes: []directory.VisitSetting{}}
	var row directorySettingsRow
	err := s.idb(ctx).NewSelect().Model(&row).Where("practice_id = ?", practice).Scan(ctx)
	switch err = failure(op, "settings", err); {
	case err == nil:
		out.Published = row.Published
	case !errs.Is(err, errs.KindNotFound):
		return nil, err
	}
	var vs []directoryVisitRow
	if err := s.idb(ctx).NewSelect().Model(&vs).Where("practice_id = ?", practice).Order("visit_type_id").Scan(ctx); err != nil {
		return nil, failure(op, "visit settings", err)
	}
	for _, v := range vs {
		out.VisitTypes = append(out.VisitTypes, directory.VisitSetting{VisitTypeID: v.VisitTypeID, Kind: directory.VisitKind(v.Kind), Hidden: v.Hidden})
	}
	return out, nil
}

// Profiles returns practice's profiles; see directory.SettingsStore.
func (s *Directory) Profiles(ctx context.Context, practice tenant.PracticeID) ([]directory.Profile, error) {
	const op = "sqlstore.DirectoryProfiles"
	var rows []directoryProfileRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("practice_id = ?", practice).Order("provider_id").Scan(ctx); err != nil {
		return nil, failure(op, "profiles", err)
	}
	out := make([]directory.Profile, len(rows))
	for i, r := range rows {
		out[i] = directory.Profile{ProviderID: r.ProviderID, Taxonomies: slice(r.Taxonomies), Languages: slice(r.Languages),
			AcceptingNew: r.AcceptingNew, Hidden: r.Hidden}
	}
	return out, nil
}

// PublishedPractices returns the published practices after after; see
// directory.SettingsStore.
func (s *Directory) PublishedPractices(ctx context.Context, after tenant.PracticeID, limit int) ([]tenant.PracticeID, error) {
	const op = "sqlstore.PublishedPractices"
	if limit <= 0 {
		return nil, errs.Invalid(op, "limit", "must be positive")
	}
	var ids []uuid.UUID
	err := s.idb(ctx).NewSelect().Table("directory_settings").Column("practice_id").
		Where("published").Where("practice_id > ?", after).Order("practice_id").Limit(int64(limit)).Scan(ctx, &ids)
	if err != nil {
		return nil, failure(op, "practices", err)
	}
	return ids, nil
}
