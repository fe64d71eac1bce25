package keys

import (
	"context"

	"github.com/google/uuid"
)

// Purpose names what a practice's keyset is for.
type Purpose string

// The purposes of a practice's keysets.
const (
	PurposeSeal  Purpose = "seal"  // AES256-GCM AEAD: Seal and Open
	PurposeIndex Purpose = "index" // HMAC-SHA256 PRF: BlindIndex
	// PurposeStream is AES256-GCM-HKDF streaming AEAD (1 MiB segments):
	// files (StreamingAEAD). A practice gets it with its first file
	// (Store.AddKeyset), so that practices without files cost a master-key
	// rotation two keysets, not three.
	PurposeStream Purpose = "stream"
)

// Wrapped is one practice's keyset of one purpose as stored: tink's
// EncryptedKeyset (binary protobuf) wrapped by the master key MasterID.
type Wrapped struct {
	Practice uuid.UUID
	Purpose  Purpose
	MasterID string
	Keyset   []byte
	// Version counts the keyset's updates, from 1; an update states the
	// version it replaces (optimistic concurrency).
	Version int64
}

// Page selects keysets for Store.List, in (Practice, Purpose) order, after
// the cursor (AfterPractice, AfterPurpose), at most Limit of them.
type Page struct {
	AfterPractice uuid.UUID
	AfterPurpose  Purpose
	// NotMaster, if set, leaves out the keysets wrapped by this master key:
	// those a master-key rotation has already re-wrapped.
	NotMaster string
	Limit     int
}

// Store keeps the practices' wrapped keysets. A shredded practice keeps a
// mark in place of its keysets, so that they are never made again: its
// sealed data must stay unreadable.
type Store interface {
	// CreateKeysets stores a practice's new keysets (all with Version 1), or
	// fails with KindConflict if the practice has keysets or was shredded.
	CreateKeysets(ctx context.Context, ws []*Wrapped) error
	// AddKeyset stores one more keyset (Version 1) of a practice that has
	// keysets: KindConflict if it has one of w's purpose or was shredded,
	// KindNotFound if it has none.
	AddKeyset(ctx context.Context, w *Wrapped) error
	// Keysets returns the practice's keysets, ordered by purpose, or
	// shredded true (and no keysets) if the practice was shredded. It fails
	// with KindNotFound if the practice has neither.
	Keysets(ctx context.Context, practice uuid.UUID) (ws []*Wrapped, shredded bool, err error)
	// UpdateKeyset replaces w's keyset if its stored version is w.Version,
	// and then sets w.Version to the new version; else it fails with
	// KindConflict (or KindNotFound if there is none).
	UpdateKeyset(ctx context.Context, w *Wrapped) error
	// Rewrap replaces the keysets and master IDs of ws in one statement,
	// each only if its stored version is its Version (which it increments),
	// and returns how many it replaced; the others are left as they were.
	Rewrap(ctx context.Context, ws []*Wrapped) (int, error)
	// List returns a page of keysets, shredded practices left out.
	List(ctx context.Context, p Page) ([]*Wrapped, error)
	// Shred deletes the practice's keysets and leaves its shredded mark. It
	// is idempotent, and marks a practice that had no keysets too.
	Shred(ctx context.Context, practice uuid.UUID) error
	// AfterTx makes fn run once the transaction ctx carries has ended
	// (committed or rolled back), with a context that carries none, and
	// reports true; it reports false, and runs nothing, when ctx carries no
	// transaction. The Service caches no keys read inside a transaction.
	AfterTx(ctx context.Context, fn func(ctx context.Context)) bool
}
