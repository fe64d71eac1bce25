package identity

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/google/uuid"
)

// Sealer seals TOTP secrets at rest; *keys.Service implements it. Secrets
// belong to accounts, which are the operator's rather than a practice's:
// they are sealed in the scope keys.Platform, each bound to its account
// (Binding{Table: "accounts", Column: "totp_secret", Row: the account ID}),
// so that a sealed secret copied to another account does not open.
type Sealer interface {
	Seal(ctx context.Context, practice uuid.UUID, b keys.Binding, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, practice uuid.UUID, b keys.Binding, ciphertext []byte) ([]byte, error)
}

// sealedPrefix starts a sealed secret: "tink:v1:" then the base64url (no
// padding) of the keys ciphertext. A TOTP secret in clear is base32 and
// never starts so.
const sealedPrefix = "tink:v1:"

// retiredPrefix started the secrets an earlier release sealed with its own
// static AES-GCM key (identity.StaticKey), which is gone: they cannot be
// opened, and their accounts enroll again.
const retiredPrefix = "enc:v1:"

// sealed reports whether a stored secret is sealed (now or by the retired
// key), as opposed to in clear.
func sealed(stored string) bool {
	return strings.HasPrefix(stored, sealedPrefix) || strings.HasPrefix(stored, retiredPrefix)
}

// secretBinding is where account's TOTP secret lives.
func secretBinding(account AccountID) keys.Binding {
	return keys.Binding{Table: "accounts", Column: "totp_secret", Row: account.String()}
}

// sealSecret seals secret for account with s. Without a Sealer it fails:
// secrets are never stored in clear.
func sealSecret(ctx context.Context, s Sealer, account AccountID, secret string) (string, error) {
	const op = "identity.sealSecret"
	if s == nil {
		return "", errs.E(errs.KindInternal, op, "the identity service has no Sealer (Config.Keys): a TOTP secret is never stored in clear")
	}
	ct, err := s.Seal(ctx, keys.Platform, secretBinding(account), []byte(secret))
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, op, "cannot seal the TOTP secret", err)
	}
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(ct), nil
}

// openSecret returns the clear secret of stored, which sealSecret sealed
// for account, or which is in clear (a row from before sealing). A secret
// sealed for another account, or altered, fails with KindConflict.
func openSecret(ctx context.Context, s Sealer, account AccountID, stored string) (string, error) {
	const op = "identity.openSecret"
	switch {
	case strings.HasPrefix(stored, retiredPrefix):
		return "", errs.E(errs.KindConflict, op, "the TOTP secret was sealed by a retired key and cannot be opened: enroll TOTP again")
	case !strings.HasPrefix(stored, sealedPrefix):
		return stored, nil
	case s == nil:
		return "", errs.E(errs.KindInternal, op, "the TOTP secret is sealed, and the identity service has no Sealer (Config.Keys)")
	}
	ct, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(stored, sealedPrefix))
	if err != nil {
		return "", errs.E(errs.KindConflict, op, "a sealed TOTP secret is malformed")
	}
	pt, err := s.Open(ctx, keys.Platform, secretBinding(account), ct)
	if err != nil {
		return "", errs.Wrap(errs.KindOf(err), op, "the TOTP secret does not open", err)
	}
	return string(pt), nil
}
