package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// tokenBytes is the entropy of session, invitation and verification tokens.
const tokenBytes = 32

// NewToken returns a random URL-safe token and its SHA-256 hash, as the
// identity package makes session tokens (the operator's support sessions
// are made the same way).
func NewToken() (string, []byte, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("identity: token: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, HashToken(tok), nil
}

// HashToken returns the SHA-256 of a token as stored: the hash of its text,
// so that malformed tokens simply match nothing.
func HashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}
