package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// APIKeyPrefix starts every API key, so that leaked keys are easy to scan for.
const APIKeyPrefix = "cbk_"

// CreateAPIKey creates a key for an integrator to act for practice with the
// given permissions (rbac's names; identity does not interpret them). It
// returns the key, "cbk_<id>_<secret>", shown only here, and its record.
func (s *Service) CreateAPIKey(ctx context.Context, practice tenant.PracticeID, name string, permissions []string, createdBy AccountID) (string, *APIKey, error) {
	const op = "identity.CreateAPIKey"
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", nil, errs.Invalid(op, "name", "is required, at most 200 characters")
	}
	perms := make([]string, 0, len(permissions))
	for _, p := range permissions {
		if p = strings.TrimSpace(p); p == "" || len(p) > 100 {
			return "", nil, errs.Invalid(op, "permissions", "each must be a non-empty name of at most 100 characters")
		}
		perms = append(perms, p)
	}
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b)
	secret := base64.RawURLEncoding.EncodeToString(b)
	k := &APIKey{ID: s.ids.New(), PracticeID: practice, Name: name, Permissions: perms,
		SecretHash: HashToken(secret), CreatedBy: createdBy, CreatedAt: s.now()}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return "", nil, err
	}
	return APIKeyPrefix + k.ID.String() + "_" + secret, k, nil
}

// AuthenticateAPIKey returns the live key that key is the plaintext of, or
// KindUnauthenticated.
func (s *Service) AuthenticateAPIKey(ctx context.Context, key string) (*APIKey, error) {
	const op = "identity.AuthenticateAPIKey"
	bad := errs.E(errs.KindUnauthenticated, op, "invalid API key")
	rest, ok := strings.CutPrefix(key, APIKeyPrefix)
	if !ok {
		return nil, bad
	}
	idText, secret, ok := strings.Cut(rest, "_")
	if !ok || secret == "" {
		return nil, bad
	}
	id, err := uuid.Parse(idText)
	if err != nil {
		return nil, bad
	}
	k, err := s.store.APIKeyByID(ctx, id)
	if errs.Is(err, errs.KindNotFound) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(HashToken(secret), k.SecretHash) != 1 || k.RevokedAt != nil {
		return nil, bad
	}
	return k, nil
}

// APIKeys lists practice's keys, revoked ones included, oldest first.
func (s *Service) APIKeys(ctx context.Context, practice tenant.PracticeID) ([]*APIKey, error) {
	return s.store.ListAPIKeys(ctx, practice)
}

// RevokeAPIKey revokes one of practice's keys; KindNotFound if practice has
// no such live key.
func (s *Service) RevokeAPIKey(ctx context.Context, practice tenant.PracticeID, id APIKeyID) error {
	return s.store.RevokeAPIKey(ctx, practice, id, s.now())
}
