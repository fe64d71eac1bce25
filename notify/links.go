package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

// LinkAction is what a signed link does when followed.
type LinkAction byte

// The link actions.
const (
	LinkConfirm     LinkAction = 'c' // acknowledge a visit (changes nothing)
	LinkCancel      LinkAction = 'x' // cancel the visit as the patient
	LinkUnsubscribe LinkAction = 'u' // end marketing consent
)

// String names the action.
func (a LinkAction) String() string {
	switch a {
	case LinkConfirm:
		return "confirm"
	case LinkCancel:
		return "cancel"
	case LinkUnsubscribe:
		return "unsubscribe"
	}
	return "unknown"
}

// Link is a decoded, verified link.
type Link struct {
	Action   LinkAction
	Practice uuid.UUID
	// Subject is the appointment (confirm, cancel) or the patient (unsubscribe).
	Subject uuid.UUID
	// Nonce makes the link single-use: Store.UseLink records it.
	Nonce   uuid.UUID
	Expires time.Time
}

// linkPayload is the size of a token's signed part: action, practice,
// subject, nonce, expiry (Unix seconds).
const linkPayload = 1 + 16*3 + 8

// LinkPath is where links point, under the server's public URL.
const LinkPath = "/l/"

// Links signs and verifies the links of emails with an HMAC-SHA256 key.
type Links struct {
	key     []byte
	baseURL string
}

// NewLinks returns Links that sign with key (at least 32 bytes) and point
// at baseURL (the server's public URL, such as "https://clinic.example").
func NewLinks(key []byte, baseURL string) (*Links, error) {
	if len(key) < 32 {
		return nil, errors.New("notify: a link key needs at least 32 bytes")
	}
	return &Links{key: append([]byte(nil), key...), baseURL: strings.TrimRight(baseURL, "/")}, nil
}

// Token signs l.
func (k *Links) Token(l Link) string {
	b := make([]byte, linkPayload, linkPayload+sha256.Size)
	b[0] = byte(l.Action)
	copy(b[1:], l.Practice[:])
	copy(b[17:], l.Subject[:])
	copy(b[33:], l.Nonce[:])
	binary.BigEndian.PutUint64(b[49:], uint64(l.Expires.Unix()))
	m := hmac.New(sha256.New, k.key)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(b))
}

// URL is the link's address.
func (k *Links) URL(l Link) string { return k.baseURL + LinkPath + k.Token(l) }

// Verify decodes token and checks its signature and expiry at now. A token
// that does not decode or whose signature is wrong fails with
// KindForbidden; an expired one with KindPreconditionFailed; both name the
// field "token".
func (k *Links) Verify(token string, now time.Time) (Link, error) {
	const op = "notify.Links.Verify"
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != linkPayload+sha256.Size {
		return Link{}, forbidden(op, "token", "this link is not valid")
	}
	m := hmac.New(sha256.New, k.key)
	m.Write(b[:linkPayload])
	if !hmac.Equal(m.Sum(nil), b[linkPayload:]) {
		return Link{}, forbidden(op, "token", "this link is not valid")
	}
	l := Link{Action: LinkAction(b[0]), Expires: time.Unix(int64(binary.BigEndian.Uint64(b[49:])), 0).UTC()}
	copy(l.Practice[:], b[1:17])
	copy(l.Subject[:], b[17:33])
	copy(l.Nonce[:], b[33:49])
	if !now.Before(l.Expires) {
		e := errs.E(errs.KindPreconditionFailed, op, "this link has expired")
		e.Field = "token"
		return Link{}, e
	}
	return l, nil
}

func forbidden(op, field, msg string) *errs.Error {
	e := errs.E(errs.KindForbidden, op, msg)
	e.Field = field
	return e
}
