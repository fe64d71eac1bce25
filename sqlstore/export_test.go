package sqlstore

import (
	"context"

	"github.com/google/uuid"
)

// SealEHRBody seals body as version v of chart entry id of practice would
// be: for tests that put a body, validly sealed, in place of another.
func SealEHRBody(ctx context.Context, s *Store, practice, id uuid.UUID, v int, body string) ([]byte, error) {
	ct, _, err := s.conn.sealFields(ctx, "test", practice, ehrBinding(id, v), body)
	return ct, err
}
