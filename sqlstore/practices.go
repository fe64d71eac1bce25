package sqlstore

import (
	"context"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// PracticeIDs returns up to limit practices' IDs after after (uuid.Nil:
// from the first), in ID order: the operator's jobs that run over every
// tenant page through them with it. It reads no tenant's data.
func (s *Tenants) PracticeIDs(ctx context.Context, after tenant.PracticeID, limit int) ([]tenant.PracticeID, error) {
	var ids []uuid.UUID
	q := s.idb(ctx).NewSelect().Table("practices").Column("id").Where("id > ?", after).Order("id").Limit(int64(limit))
	if err := q.Scan(ctx, &ids); err != nil {
		return nil, failure("sqlstore.PracticeIDs", "practice", err)
	}
	return ids, nil
}
