package identity

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/carebook/carebook/errs"
)

// KeyProvider holds the keys that seal TOTP secrets at rest (AES-256-GCM).
// Implementations (a static key, a KMS) must be safe for concurrent use.
type KeyProvider interface {
	// CurrentKey returns the key new secrets are sealed with: its ID
	// (short, without ':') and its 32 bytes.
	CurrentKey(ctx context.Context) (id string, key []byte, err error)
	// Key returns the 32 bytes of key id, current or earlier, to open
	// what it sealed; KindNotFound if the provider does not know it.
	Key(ctx context.Context, id string) ([]byte, error)
}

// StaticKey is a KeyProvider of one key, given at start-up (a key file or
// an environment variable).
type StaticKey struct {
	id  string
	key []byte
}

// NewStaticKey returns a StaticKey of key, which must be 32 bytes
// (KindInvalid, field "key", otherwise). Its ID is derived from the key.
func NewStaticKey(key []byte) (*StaticKey, error) {
	if len(key) != 32 {
		return nil, errs.Invalid("identity.NewStaticKey", "key", "must be 32 bytes (AES-256)")
	}
	sum := sha256.Sum256(append([]byte("carebook key id\x00"), key...))
	return &StaticKey{id: hex.EncodeToString(sum[:4]), key: append([]byte(nil), key...)}, nil
}

// ParseStaticKey returns the StaticKey of a base64 (standard or URL
// alphabet, padded or not) encoding of 32 bytes; KindInvalid naming field
// otherwise.
func ParseStaticKey(field, b64 string) (*StaticKey, error) {
	const op = "identity.ParseStaticKey"
	b64 = strings.TrimSpace(b64)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(b64); err == nil {
			if len(key) != 32 {
				break
			}
			return NewStaticKey(key)
		}
	}
	return nil, errs.Invalid(op, field, "must be the base64 encoding of 32 bytes")
}

// CurrentKey implements KeyProvider.
func (k *StaticKey) CurrentKey(context.Context) (string, []byte, error) { return k.id, k.key, nil }

// Key implements KeyProvider: the one key, if id is its ID.
func (k *StaticKey) Key(_ context.Context, id string) ([]byte, error) {
	if id != k.id {
		return nil, errs.NotFound("identity.StaticKey.Key", "key")
	}
	return k.key, nil
}

// sealedPrefix starts a sealed secret: "enc:v1:<key ID>:<base64url of
// nonce and ciphertext>". A TOTP secret in clear is base32 and never
// starts so.
const sealedPrefix = "enc:v1:"

// sealed reports whether a stored secret is sealed.
func sealed(stored string) bool { return strings.HasPrefix(stored, sealedPrefix) }

// sealSecret seals secret with the current key of keys, bound to account
// (as additional data), so that a sealed secret moved to another account
// does not open. Without keys it returns secret as it is.
func sealSecret(ctx context.Context, keys KeyProvider, account AccountID, secret string) (string, error) {
	const op = "identity.sealSecret"
	if keys == nil {
		return secret, nil
	}
	id, key, err := keys.CurrentKey(ctx)
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, op, "no key to seal the secret with", err)
	}
	aead, err := gcm(key)
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, op, "bad key "+id, err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(secret)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", errs.Wrap(errs.KindInternal, op, "no randomness for a nonce", err)
	}
	out := aead.Seal(nonce, nonce, []byte(secret), account[:])
	return sealedPrefix + id + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// openSecret returns the clear secret of stored, which sealSecret sealed
// for account, or which is in clear (a row from before sealing).
func openSecret(ctx context.Context, keys KeyProvider, account AccountID, stored string) (string, error) {
	const op = "identity.openSecret"
	if !sealed(stored) {
		return stored, nil
	}
	if keys == nil {
		return "", errs.E(errs.KindInternal, op, "the secret is sealed, and the service has no keys")
	}
	id, b64, ok := strings.Cut(strings.TrimPrefix(stored, sealedPrefix), ":")
	raw, err := base64.RawURLEncoding.DecodeString(b64)
	if !ok || err != nil {
		return "", errs.E(errs.KindInternal, op, "a sealed secret is malformed")
	}
	key, err := keys.Key(ctx, id)
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, op, "no key "+id+" to open the secret with", err)
	}
	aead, err := gcm(key)
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, op, "bad key "+id, err)
	}
	if len(raw) < aead.NonceSize() {
		return "", errs.E(errs.KindInternal, op, "a sealed secret is malformed")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], account[:])
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, op, "a sealed secret does not open with key "+id, err)
	}
	return string(plain), nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(key) != 32 {
		return nil, errs.Invalid("identity.gcm", "key", "must be 32 bytes (AES-256)")
	}
	return cipher.NewGCM(block)
}
