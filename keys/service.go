package keys

import (
	"bytes"
	"container/list"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// Binding is where a sealed value lives: it is bound into the ciphertext
// (with the practice) as associated data, so that the ciphertext opens only
// there.
type Binding struct {
	Table  string
	Column string
	Row    string // the row's primary key, as text
}

func (b Binding) String() string { return b.Table + "." + b.Column + " of row " + b.Row }

// Platform is the scope, in place of a practice, of what belongs to no
// practice: accounts (their TOTP secrets) are the operator's, across
// practices. It has its own keysets like a practice, and no practice has
// its ID (uuid.Max, which no UUID generator makes).
var Platform = uuid.Max

// KeyID returns the ID of the key that sealed ciphertext (tink's prefix:
// a version byte, then the key ID), or 0 for a ciphertext too short to
// carry one. Stores keep it beside the ciphertext so that re-encryption
// after a rotation finds the rows sealed with an older key.
func KeyID(ciphertext []byte) uint32 {
	if len(ciphertext) < 5 {
		return 0
	}
	return binary.BigEndian.Uint32(ciphertext[1:5])
}

// PrimaryKeyID returns the ID of the key that seals practice's new values
// now (what KeyID reads back from their ciphertexts), making the
// practice's keysets on first use.
func (s *Service) PrimaryKeyID(ctx context.Context, practice uuid.UUID) (uint32, error) {
	k, err := s.keys(ctx, "keys.PrimaryKeyID", practice, true)
	if err != nil {
		return 0, err
	}
	return k.seal.KeysetInfo().GetPrimaryKeyId(), nil
}

// IndexSize is the length of a blind index token in bytes.
const IndexSize = 16

// DefaultCacheSize is how many practices' unwrapped keysets a Service keeps
// by default.
const DefaultCacheSize = 1024

// rotateAttempts bounds the retries of a rotation that lost a race.
const rotateAttempts = 10

// Service seals and opens fields, makes blind indexes, and rotates and
// shreds the practices' keys. It is safe for concurrent use. It keeps the
// unwrapped keysets of the most recently used practices in memory (a
// bounded LRU cache); a keyset rotated by another process is reloaded when
// a ciphertext does not open under the cached one. A practice shredded by
// another process stays readable here until it falls out of the cache or
// the process restarts.
type Service struct {
	store Store

	// rotating serializes this Service's rotations, so that they do not
	// race each other's optimistic updates; rotations of other processes
	// still may, and are retried.
	rotating sync.Mutex

	mu           sync.Mutex // guards provider, onUnreadable and the cache
	provider     Provider
	onUnreadable func(ctx context.Context, practice uuid.UUID, b Binding)
	size         int
	lru          *list.List // of *practiceKeys, most recent first
	byID         map[uuid.UUID]*list.Element
}

// practiceKeys are a practice's unwrapped keysets and their primitives.
type practiceKeys struct {
	practice uuid.UUID
	seal     *keyset.Handle
	sealVer  int64
	aead     tink.AEAD
	index    *prf.Set
	stream   tink.StreamingAEAD // nil until the practice has a stream keyset
}

// Option configures a Service.
type Option func(*Service)

// WithCacheSize sets how many practices' keysets the Service keeps
// unwrapped in memory (at least 1; DefaultCacheSize if not set).
func WithCacheSize(n int) Option {
	return func(s *Service) { s.size = max(n, 1) }
}

// New returns a Service keeping its keysets in store, wrapped by p's keys.
func New(store Store, p Provider, opts ...Option) *Service {
	s := &Service{store: store, provider: p, size: DefaultCacheSize, lru: list.New(), byID: map[uuid.UUID]*list.Element{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Seal seals plaintext for practice at b with the practice's primary key,
// making the practice's keysets on first use.
func (s *Service) Seal(ctx context.Context, practice uuid.UUID, b Binding, plaintext []byte) ([]byte, error) {
	const op = "keys.Seal"
	if err := b.check(op); err != nil {
		return nil, err
	}
	k, err := s.keys(ctx, op, practice, true)
	if err != nil {
		return nil, err
	}
	ct, err := k.aead.Encrypt(plaintext, associatedData(practice, b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return ct, nil
}

// Open opens a ciphertext Seal made for practice at b. A ciphertext made for
// another practice, table, column or row, or altered, fails with
// KindConflict naming b; a practice without keys or shredded fails with
// KindNotFound.
func (s *Service) Open(ctx context.Context, practice uuid.UUID, b Binding, ciphertext []byte) ([]byte, error) {
	const op = "keys.Open"
	if err := b.check(op); err != nil {
		return nil, err
	}
	k, err := s.keys(ctx, op, practice, false)
	if err != nil {
		return nil, err
	}
	ad := associatedData(practice, b)
	pt, err := k.aead.Decrypt(ciphertext, ad)
	if err == nil {
		return pt, nil
	}
	// The keyset may have been rotated by another process since it was
	// cached: reload it once.
	if fresh, ferr := s.reload(ctx, op, k); ferr == nil && fresh.sealVer != k.sealVer {
		if pt, err := fresh.aead.Decrypt(ciphertext, ad); err == nil {
			return pt, nil
		}
	} else if ferr != nil && errs.KindOf(ferr) == errs.KindNotFound {
		return nil, ferr
	}
	s.mu.Lock()
	hook := s.onUnreadable
	s.mu.Unlock()
	if hook != nil {
		hook(ctx, practice, b)
	}
	return nil, errs.Wrap(errs.KindConflict, op, fmt.Sprintf(
		"the sealed value of %s does not open with the keys of practice %s: it was sealed for another row, column or practice, or altered",
		b, practice), errors.Join(ErrUnreadable, err))
}

// ErrUnreadable is wrapped by the error of Open for a ciphertext that does
// not open where it is: moved from another row, column or practice, or
// altered.
var ErrUnreadable = errors.New("a sealed value does not open where it is stored")

// OnUnreadable makes fn hear of every ciphertext Open refuses as
// unreadable (not of a shredded practice's), before Open returns: the
// Engine records each in the activity log. fn runs in the caller's
// goroutine with its context (and transaction); it must not call back
// into Open.
func (s *Service) OnUnreadable(fn func(ctx context.Context, practice uuid.UUID, b Binding)) {
	s.mu.Lock()
	s.onUnreadable = fn
	s.mu.Unlock()
}

// BlindIndex returns the blind index token (IndexSize bytes) of a
// normalised value for practice: a keyed PRF of the index's name and the
// value, equal for equal inputs within the practice and unrelated across
// practices and names. Normalising (case, spaces, a phone's format) is the
// caller's.
func (s *Service) BlindIndex(ctx context.Context, practice uuid.UUID, name string, value []byte) ([]byte, error) {
	return s.TruncatedIndex(ctx, practice, name, value, IndexSize)
}

// TruncatedIndex is BlindIndex cut to n bytes (1 to 32). A short token
// matches many values on purpose: an index of name prefixes keeps few bits,
// so that it leaks little, and its false positives are filtered after
// opening the candidates.
func (s *Service) TruncatedIndex(ctx context.Context, practice uuid.UUID, name string, value []byte, n int) ([]byte, error) {
	const op = "keys.BlindIndex"
	if name == "" {
		return nil, errs.Invalid(op, "name", "an index needs a name")
	}
	if n < 1 || n > 32 {
		return nil, errs.Invalid(op, "n", "a token is 1 to 32 bytes long")
	}
	k, err := s.keys(ctx, op, practice, true)
	if err != nil {
		return nil, err
	}
	in := appendField(appendField([]byte("carebook/keys/index/v1"), []byte(name)), value)
	out, err := k.index.ComputePrimaryPRF(in, uint32(n))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// DeriveKey returns n bytes (1 to 32) of key material for purpose, derived
// from scope's index keyset with its PRF: the same for the same scope and
// purpose across processes and restarts, unrelated across purposes, and
// gone when the scope is shredded. It keeps small keys that need no
// rotation of their own (the HMAC key of signed email links, in the scope
// Platform) without another key file.
func (s *Service) DeriveKey(ctx context.Context, scope uuid.UUID, purpose string, n int) ([]byte, error) {
	if purpose == "" {
		return nil, errs.Invalid("keys.DeriveKey", "purpose", "a derived key needs a purpose")
	}
	return s.TruncatedIndex(ctx, scope, "derived key/"+purpose, nil, n)
}

// Rotate adds a new key to practice's seal keyset and makes it primary:
// new seals use it, and what older keys sealed still opens. (The index
// keyset is not rotated: every blind index would change with it.)
func (s *Service) Rotate(ctx context.Context, practice uuid.UUID) error {
	const op = "keys.Rotate"
	s.rotating.Lock()
	defer s.rotating.Unlock()
	for range rotateAttempts {
		if _, err := s.keys(ctx, op, practice, true); err != nil {
			return err
		}
		ws, shredded, err := s.store.Keysets(ctx, practice)
		if err != nil {
			return err
		}
		if shredded {
			return shreddedError(op, practice)
		}
		w := find(ws, PurposeSeal)
		if w == nil {
			return errs.NotFound(op, "the seal keyset of practice "+practice.String())
		}
		h, err := s.unwrap(ctx, op, w)
		if err != nil {
			return err
		}
		m := keyset.NewManagerFromHandle(h)
		id, err := m.Add(aead.AES256GCMKeyTemplate())
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := m.SetPrimary(id); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if h, err = m.Handle(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		mid, master, err := s.primary(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if w.Keyset, err = wrap(h, master, practice, PurposeSeal); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		w.MasterID = mid
		err = s.store.UpdateKeyset(ctx, w)
		if errs.KindOf(err) == errs.KindConflict {
			continue // another rotation won: rotate again on top of it
		}
		if err != nil {
			return err
		}
		s.forget(practice)
		return nil
	}
	return errs.Conflict(op, "the keys of practice "+practice.String()+" kept changing during the rotation; try again")
}

// rewrapPage is how many keysets RotateMaster re-wraps per statement.
const rewrapPage = 2000

// RotateMaster re-wraps every practice's keysets with next's primary master
// key, then uses next from then on. It unwraps with the current provider,
// which must hold the master key of every keyset not yet re-wrapped (after
// a rotation cut short, pass a Rotating provider to New). It rewrites no
// data, and it is idempotent: keysets already wrapped by next's primary are
// skipped. It returns how many keysets it re-wrapped. Other processes
// sharing the store should run with Rotating{New: next, Old: ...} before it
// starts, so that the keysets they make or rotate meanwhile are wrapped by
// next too; a keyset wrapped by the old key after the pass is re-wrapped by
// running RotateMaster again.
func (s *Service) RotateMaster(ctx context.Context, next Provider) (int, error) {
	const op = "keys.RotateMaster"
	nid, nmaster, err := next.Primary(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	s.mu.Lock()
	old := s.provider
	s.mu.Unlock()
	unwrapWith := Rotating{New: next, Old: []Provider{old}}
	total := 0
	for range rotateAttempts {
		page, missed := Page{NotMaster: nid, Limit: rewrapPage}, 0
		for {
			ws, err := s.store.List(ctx, page)
			if err != nil {
				return total, err
			}
			if len(ws) == 0 {
				break
			}
			if err := rewrapAll(ctx, op, ws, unwrapWith, nid, nmaster); err != nil {
				return total, err
			}
			n, err := s.store.Rewrap(ctx, ws)
			if err != nil {
				return total, err
			}
			total += n
			missed += len(ws) - n
			last := ws[len(ws)-1]
			page.AfterPractice, page.AfterPurpose = last.Practice, last.Purpose
		}
		if missed == 0 {
			s.mu.Lock()
			s.provider = next
			s.mu.Unlock()
			return total, nil
		}
		// Some keysets changed under the rewrap (a practice rotated):
		// pass again over those still wrapped by an old master key.
	}
	return total, errs.Conflict(op, "keysets kept changing during the master-key rotation; run it again")
}

// rewrapAll unwraps ws with from's master keys and wraps them with master
// (of ID id), spread over the CPUs: this is most of a master rotation's work.
func rewrapAll(ctx context.Context, op string, ws []*Wrapped, from Provider, id string, master tink.AEAD) error {
	workers := min(runtime.GOMAXPROCS(0), len(ws))
	errc := make([]error, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := g; i < len(ws); i += workers {
				w := ws[i]
				m, err := from.Master(ctx, w.MasterID)
				if err != nil {
					errc[g] = fmt.Errorf("%s: the master key of practice %s's %s keyset: %w", op, w.Practice, w.Purpose, err)
					return
				}
				h, err := readWrapped(w, m)
				if err != nil {
					errc[g] = errs.Wrap(errs.KindInternal, op, fmt.Sprintf("practice %s's %s keyset does not unwrap", w.Practice, w.Purpose), err)
					return
				}
				if w.Keyset, err = wrap(h, master, w.Practice, w.Purpose); err != nil {
					errc[g] = fmt.Errorf("%s: %w", op, err)
					return
				}
				w.MasterID = id
			}
		})
	}
	wg.Wait()
	return errors.Join(errc...)
}

// Shred destroys practice's keysets: nothing sealed for it opens again,
// and no keysets are ever made for it again.
func (s *Service) Shred(ctx context.Context, practice uuid.UUID) error {
	if err := s.store.Shred(ctx, practice); err != nil {
		return err
	}
	s.forget(practice)
	return nil
}

// check refuses a binding with an empty part.
func (b Binding) check(op string) error {
	switch {
	case b.Table == "":
		return errs.Invalid(op, "table", "a binding names its table")
	case b.Column == "":
		return errs.Invalid(op, "column", "a binding names its column")
	case b.Row == "":
		return errs.Invalid(op, "row", "a binding names its row")
	}
	return nil
}

// associatedData is what a field's ciphertext is bound to: a label, the
// practice's 16 bytes, then the table, column and row, each preceded by
// its length, so that no two bindings encode alike.
func associatedData(practice uuid.UUID, b Binding) []byte {
	ad := append([]byte("carebook/keys/seal/v1"), practice[:]...)
	return appendField(appendField(appendField(ad, []byte(b.Table)), []byte(b.Column)), []byte(b.Row))
}

// keysetAD is what a wrapped keyset is bound to: its practice and purpose.
func keysetAD(practice uuid.UUID, p Purpose) []byte {
	return appendField(append([]byte("carebook/keys/keyset/v1"), practice[:]...), []byte(p))
}

func appendField(b, f []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(f))), f...)
}

func wrap(h *keyset.Handle, master tink.AEAD, practice uuid.UUID, p Purpose) ([]byte, error) {
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), master, keysetAD(practice, p)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func readWrapped(w *Wrapped, master tink.AEAD) (*keyset.Handle, error) {
	return keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(w.Keyset)), master, keysetAD(w.Practice, w.Purpose))
}

func (s *Service) primary(ctx context.Context) (string, tink.AEAD, error) {
	s.mu.Lock()
	p := s.provider
	s.mu.Unlock()
	return p.Primary(ctx)
}

func (s *Service) unwrap(ctx context.Context, op string, w *Wrapped) (*keyset.Handle, error) {
	s.mu.Lock()
	p := s.provider
	s.mu.Unlock()
	m, err := p.Master(ctx, w.MasterID)
	if err != nil {
		return nil, fmt.Errorf("%s: the master key of practice %s's %s keyset: %w", op, w.Practice, w.Purpose, err)
	}
	h, err := readWrapped(w, m)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, op, fmt.Sprintf("practice %s's %s keyset does not unwrap", w.Practice, w.Purpose), err)
	}
	return h, nil
}

func shreddedError(op string, practice uuid.UUID) error {
	return errs.E(errs.KindNotFound, op, "the keys of practice "+practice.String()+" were shredded: what was sealed for it can no longer be opened")
}

func find(ws []*Wrapped, p Purpose) *Wrapped {
	for _, w := range ws {
		if w.Purpose == p {
			return w
		}
	}
	return nil
}

// keys returns practice's keys from the cache or the store, making them if
// create is set and the practice has none.
func (s *Service) keys(ctx context.Context, op string, practice uuid.UUID, create bool) (*practiceKeys, error) {
	if practice == uuid.Nil {
		return nil, errs.Invalid(op, "practice", "a practice ID (or Platform) is required")
	}
	s.mu.Lock()
	if e, ok := s.byID[practice]; ok {
		s.lru.MoveToFront(e)
		k := e.Value.(*practiceKeys)
		s.mu.Unlock()
		return k, nil
	}
	s.mu.Unlock()
	k, err := s.load(ctx, op, practice)
	if create && errs.KindOf(err) == errs.KindNotFound && !errors.Is(err, errShredded) {
		if err = s.create(ctx, op, practice); err == nil || errs.KindOf(err) == errs.KindConflict {
			k, err = s.load(ctx, op, practice) // made here, or by a concurrent caller
		}
	}
	if err != nil {
		return nil, err
	}
	s.keep(ctx, op, k)
	return k, nil
}

// keep caches k, unless ctx carries a transaction: keys read or made in
// one may roll back with it, and keys kept from a rolled-back transaction
// would seal data that no other process (and no restart) could open. They
// are loaded again, and cached, once the transaction has ended.
func (s *Service) keep(ctx context.Context, op string, k *practiceKeys) {
	if s.store.AfterTx(ctx, func(ctx context.Context) {
		if fresh, err := s.load(ctx, op, k.practice); err == nil {
			s.remember(fresh)
		}
	}) {
		return
	}
	s.remember(k)
}

// errShredded marks the error of a shredded practice's keys.
var errShredded = errors.New("keys shredded")

// reload drops practice's cached keys and loads them again.
func (s *Service) reload(ctx context.Context, op string, k *practiceKeys) (*practiceKeys, error) {
	s.forget(k.practice)
	fresh, err := s.load(ctx, op, k.practice)
	if err != nil {
		return nil, err
	}
	s.keep(ctx, op, fresh)
	return fresh, nil
}

func (s *Service) load(ctx context.Context, op string, practice uuid.UUID) (*practiceKeys, error) {
	ws, shredded, err := s.store.Keysets(ctx, practice)
	if err != nil {
		if errs.KindOf(err) == errs.KindNotFound {
			return nil, errs.Wrap(errs.KindNotFound, op, "practice "+practice.String()+" has no keys: nothing was sealed for it", err)
		}
		return nil, err
	}
	if shredded {
		return nil, &errs.Error{Kind: errs.KindNotFound, Op: op, Err: errShredded,
			Msg: "the keys of practice " + practice.String() + " were shredded: what was sealed for it can no longer be opened"}
	}
	k := &practiceKeys{practice: practice}
	for _, p := range []Purpose{PurposeSeal, PurposeIndex} {
		w := find(ws, p)
		if w == nil {
			return nil, errs.E(errs.KindInternal, op, fmt.Sprintf("practice %s has no %s keyset", practice, p))
		}
		h, err := s.unwrap(ctx, op, w)
		if err != nil {
			return nil, err
		}
		switch p {
		case PurposeSeal:
			k.seal, k.sealVer = h, w.Version
			if k.aead, err = aead.New(h); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
		case PurposeIndex:
			if k.index, err = prf.NewPRFSet(h); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
		}
	}
	if w := find(ws, PurposeStream); w != nil {
		h, err := s.unwrap(ctx, op, w)
		if err != nil {
			return nil, err
		}
		if k.stream, err = streamingaead.New(h); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	return k, nil
}

// StreamingAEAD returns practice's streaming AEAD, which encrypts its files
// (package files), making the practice's keys, or only its stream keyset
// for a practice whose keys predate it, on first use.
func (s *Service) StreamingAEAD(ctx context.Context, practice uuid.UUID) (tink.StreamingAEAD, error) {
	const op = "keys.StreamingAEAD"
	k, err := s.keys(ctx, op, practice, true)
	if err != nil {
		return nil, err
	}
	if k.stream != nil {
		return k.stream, nil
	}
	mid, master, err := s.primary(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	w, err := newWrapped(streamingaead.AES256GCMHKDF1MBKeyTemplate(), master, mid, practice, PurposeStream)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.store.AddKeyset(ctx, w); err != nil && errs.KindOf(err) != errs.KindConflict {
		return nil, err
	}
	// Added here, or by a concurrent caller.
	if k, err = s.reload(ctx, op, k); err != nil {
		return nil, err
	}
	if k.stream == nil {
		return nil, errs.E(errs.KindNotFound, op, "practice "+practice.String()+" has no stream keyset: it was shredded")
	}
	return k.stream, nil
}

// create makes and stores practice's keysets.
func (s *Service) create(ctx context.Context, op string, practice uuid.UUID) error {
	s.mu.Lock()
	p := s.provider
	s.mu.Unlock()
	ws, err := NewKeysets(ctx, p, practice)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return s.store.CreateKeysets(ctx, ws)
}

// NewKeysets makes a practice's new keysets (seal and index, at Version 1),
// wrapped by p's primary master key, for Store.CreateKeysets. The Service
// makes them on a practice's first use; this is for provisioning many
// practices at once.
func NewKeysets(ctx context.Context, p Provider, practice uuid.UUID) ([]*Wrapped, error) {
	mid, master, err := p.Primary(ctx)
	if err != nil {
		return nil, err
	}
	ws := make([]*Wrapped, 0, 2)
	for _, k := range []struct {
		p Purpose
		t *tinkpb.KeyTemplate
	}{{PurposeSeal, aead.AES256GCMKeyTemplate()}, {PurposeIndex, prf.HMACSHA256PRFKeyTemplate()}} {
		w, err := newWrapped(k.t, master, mid, practice, k.p)
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// newWrapped makes a new keyset from template t for practice's purpose p,
// wrapped by master (of ID mid), at Version 1.
func newWrapped(t *tinkpb.KeyTemplate, master tink.AEAD, mid string, practice uuid.UUID, p Purpose) (*Wrapped, error) {
	h, err := keyset.NewHandle(t)
	if err != nil {
		return nil, err
	}
	b, err := wrap(h, master, practice, p)
	if err != nil {
		return nil, err
	}
	return &Wrapped{Practice: practice, Purpose: p, MasterID: mid, Keyset: b, Version: 1}, nil
}

func (s *Service) remember(k *practiceKeys) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byID[k.practice]; ok {
		e.Value = k
		s.lru.MoveToFront(e)
		return
	}
	s.byID[k.practice] = s.lru.PushFront(k)
	for s.lru.Len() > s.size {
		e := s.lru.Back()
		s.lru.Remove(e)
		delete(s.byID, e.Value.(*practiceKeys).practice)
	}
}

func (s *Service) forget(practice uuid.UUID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byID[practice]; ok {
		s.lru.Remove(e)
		delete(s.byID, practice)
	}
}
