package keys_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
)

// master returns a new in-memory master key.
func master(t testing.TB) *keys.FileProvider {
	t.Helper()
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	p, err := keys.NewStatic(h)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func seal(t testing.TB, s *keys.Service, p uuid.UUID, b keys.Binding, text string) []byte {
	t.Helper()
	ct, err := s.Seal(context.Background(), p, b, []byte(text))
	if err != nil {
		t.Fatalf("Seal(%s): %v", b, err)
	}
	return ct
}

func open(t testing.TB, s *keys.Service, p uuid.UUID, b keys.Binding, ct []byte, want string) {
	t.Helper()
	pt, err := s.Open(context.Background(), p, b, ct)
	if err != nil || string(pt) != want {
		t.Fatalf("Open(%s) = %q, %v; want %q", b, pt, err, want)
	}
}

var phone = keys.Binding{Table: "patients", Column: "phone", Row: "7f0c"}

func TestBinding(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db *sqlstore.Store) {
		s := keys.New(db.Keys, master(t))
		p, other := uuid.New(), uuid.New()
		ct := seal(t, s, p, phone, "+15550100")
		seal(t, s, other, phone, "+15550199") // other has keys of its own
		open(t, s, p, phone, ct, "+15550100")
		altered := bytes.Clone(ct)
		altered[len(altered)-1] ^= 1
		for _, c := range []struct {
			name     string
			practice uuid.UUID
			b        keys.Binding
			ct       []byte
		}{
			{"another row", p, keys.Binding{Table: "patients", Column: "phone", Row: "7f0d"}, ct},
			{"another column", p, keys.Binding{Table: "patients", Column: "email", Row: "7f0c"}, ct},
			{"another table", p, keys.Binding{Table: "accounts", Column: "phone", Row: "7f0c"}, ct},
			{"another practice", other, phone, ct},
			{"parts shifted", p, keys.Binding{Table: "patientsp", Column: "hone", Row: "7f0c"}, ct},
			{"altered", p, phone, altered},
			{"truncated", p, phone, ct[:len(ct)-3]},
			{"empty", p, phone, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				pt, err := s.Open(context.Background(), c.practice, c.b, c.ct)
				if err == nil {
					t.Fatalf("Open = %q, want a refusal", pt)
				}
				if errs.KindOf(err) != errs.KindConflict || !strings.Contains(err.Error(), c.b.String()) {
					t.Errorf("err = %v, want KindConflict naming %s", err, c.b)
				}
			})
		}
	})
}

func TestBadInput(t *testing.T) {
	s := keys.New(sqltest.SQLite(t).Keys, master(t))
	p := uuid.New()
	ctx := context.Background()
	for _, c := range []struct {
		name, field string
		err         error
	}{
		{"no table", "table", func() error { _, err := s.Seal(ctx, p, keys.Binding{Column: "c", Row: "r"}, nil); return err }()},
		{"no column", "column", func() error { _, err := s.Open(ctx, p, keys.Binding{Table: "t", Row: "r"}, nil); return err }()},
		{"no row", "row", func() error { _, err := s.Seal(ctx, p, keys.Binding{Table: "t", Column: "c"}, nil); return err }()},
		{"no practice", "practice", func() error { _, err := s.Seal(ctx, uuid.Nil, phone, nil); return err }()},
		{"no index name", "name", func() error { _, err := s.BlindIndex(ctx, p, "", []byte("x")); return err }()},
		{"token too long", "n", func() error { _, err := s.TruncatedIndex(ctx, p, "phone", []byte("x"), 33); return err }()},
		{"token empty", "n", func() error { _, err := s.TruncatedIndex(ctx, p, "phone", []byte("x"), 0); return err }()},
	} {
		if errs.KindOf(c.err) != errs.KindInvalid || errs.FieldOf(c.err) != c.field {
			t.Errorf("%s: err = %v, want KindInvalid on field %s", c.name, c.err, c.field)
		}
	}
	// Opening for a practice that never sealed anything makes no keys.
	if _, err := s.Open(ctx, p, phone, []byte("x")); errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("Open for a practice without keys: err = %v, want KindNotFound", err)
	}
}

func keyID(ct []byte) string { return fmt.Sprintf("%x", ct[:5]) }

func TestRotate(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db *sqlstore.Store) {
		m := master(t)
		s, elsewhere := keys.New(db.Keys, m), keys.New(db.Keys, m)
		p := uuid.New()
		before := seal(t, s, p, phone, "before")
		open(t, elsewhere, p, phone, before, "before") // cached there too
		if err := s.Rotate(context.Background(), p); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		after := seal(t, s, p, phone, "after")
		if keyID(after) == keyID(before) {
			t.Fatalf("the seal after the rotation used the old key %s", keyID(before))
		}
		if again := seal(t, s, p, phone, "again"); keyID(again) != keyID(after) {
			t.Errorf("seals after the rotation used keys %s and %s, want the new primary for both", keyID(after), keyID(again))
		}
		open(t, s, p, phone, before, "before")
		open(t, s, p, phone, after, "after")
		// Another Service, with the keyset from before the rotation in its
		// cache, reloads it to open what the new key sealed.
		open(t, elsewhere, p, phone, after, "after")
		open(t, elsewhere, p, phone, before, "before")
		// Its own seals now use the new key too.
		if ct := seal(t, elsewhere, p, phone, "x"); keyID(ct) != keyID(after) {
			t.Errorf("after reloading, the other Service seals with %s, want %s", keyID(ct), keyID(after))
		}
	})
}

func TestRotateMaster(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db *sqlstore.Store) {
		ctx := context.Background()
		old, next := master(t), master(t)
		s := keys.New(db.Keys, old)
		type field struct {
			ct   []byte
			text string
		}
		sealed := map[uuid.UUID]field{}
		for i := range 7 {
			p, text := uuid.New(), fmt.Sprint("phone ", i)
			sealed[p] = field{seal(t, s, p, phone, text), text}
		}
		shredded := uuid.New()
		seal(t, s, shredded, phone, "gone")
		if err := s.Shred(ctx, shredded); err != nil {
			t.Fatal(err)
		}
		n, err := s.RotateMaster(ctx, next)
		if err != nil || n != 14 {
			t.Fatalf("RotateMaster = %d, %v; want 14 keysets re-wrapped", n, err)
		}
		if n, err := s.RotateMaster(ctx, next); err != nil || n != 0 {
			t.Errorf("RotateMaster again = %d, %v; want 0 (all done)", n, err)
		}
		ws, err := db.Keys.List(ctx, keys.Page{NotMaster: next.ID(), Limit: 100})
		if err != nil || len(ws) != 0 {
			t.Errorf("%d keysets (%v) are still wrapped by another master key", len(ws), err)
		}
		// A fresh process with only the new master opens everything
		// sealed before, byte for byte as it was stored; one with only the
		// old master opens nothing.
		fresh, stale := keys.New(db.Keys, next), keys.New(db.Keys, old)
		for p, f := range sealed {
			open(t, fresh, p, phone, f.ct, f.text)
			open(t, s, p, phone, f.ct, f.text)
			if _, err := stale.Open(ctx, p, phone, f.ct); err == nil || !strings.Contains(err.Error(), "master key") {
				t.Errorf("the old master still opens practice %s: %v", p, err)
			}
		}
		// The rotated Service wraps new practices with the new master.
		p := uuid.New()
		ct := seal(t, s, p, phone, "new")
		open(t, fresh, p, phone, ct, "new")
	})
}

func TestRotatingResume(t *testing.T) {
	db := sqltest.SQLite(t)
	ctx := context.Background()
	old, next := master(t), master(t)
	a, b := uuid.New(), uuid.New()
	s := keys.New(db.Keys, old)
	cta, ctb := seal(t, s, a, phone, "a"), seal(t, s, b, phone, "b")
	// A rotation cut short: only a's keysets were re-wrapped.
	cut := keys.New(&onlyPractice{Store: db.Keys, practice: a}, old)
	if n, err := cut.RotateMaster(ctx, next); err != nil || n != 2 {
		t.Fatalf("re-wrapping a alone = %d, %v; want 2", n, err)
	}
	if _, err := keys.New(db.Keys, next).Open(ctx, b, phone, ctb); err == nil {
		t.Fatal("the new master alone opens b, whose keysets were not re-wrapped")
	}
	half := keys.New(db.Keys, keys.Rotating{New: next, Old: []keys.Provider{old}})
	// A Service holding both masters opens both practices, and finishes.
	open(t, half, a, phone, cta, "a")
	open(t, half, b, phone, ctb, "b")
	if n, err := half.RotateMaster(ctx, next); err != nil || n != 2 {
		t.Fatalf("resumed RotateMaster = %d, %v; want b's 2 keysets", n, err)
	}
	fresh := keys.New(db.Keys, next)
	open(t, fresh, a, phone, cta, "a")
	open(t, fresh, b, phone, ctb, "b")
}

// onlyPractice is a Store that shows one practice's keysets to List, to cut
// a master-key rotation short.
type onlyPractice struct {
	keys.Store
	practice uuid.UUID
}

func (o *onlyPractice) List(ctx context.Context, p keys.Page) ([]*keys.Wrapped, error) {
	ws, err := o.Store.List(ctx, p)
	var mine []*keys.Wrapped
	for _, w := range ws {
		if w.Practice == o.practice {
			mine = append(mine, w)
		}
	}
	return mine, err
}

func TestShred(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db *sqlstore.Store) {
		ctx := context.Background()
		m := master(t)
		s := keys.New(db.Keys, m)
		p, other := uuid.New(), uuid.New()
		ct, kept := seal(t, s, p, phone, "secret"), seal(t, s, other, phone, "kept")
		if err := s.Shred(ctx, p); err != nil {
			t.Fatalf("Shred: %v", err)
		}
		for name, svc := range map[string]*keys.Service{"the shredding Service": s, "a fresh one": keys.New(db.Keys, m)} {
			if _, err := svc.Open(ctx, p, phone, ct); errs.KindOf(err) != errs.KindNotFound || !strings.Contains(err.Error(), "shredded") {
				t.Errorf("%s: Open after Shred: err = %v, want KindNotFound saying shredded", name, err)
			}
			if _, err := svc.Seal(ctx, p, phone, []byte("new")); errs.KindOf(err) != errs.KindNotFound {
				t.Errorf("%s: Seal after Shred: err = %v, want KindNotFound (no new keys)", name, err)
			}
			if _, err := svc.BlindIndex(ctx, p, "phone", []byte("x")); errs.KindOf(err) != errs.KindNotFound {
				t.Errorf("%s: BlindIndex after Shred: err = %v, want KindNotFound", name, err)
			}
			if err := svc.Rotate(ctx, p); errs.KindOf(err) != errs.KindNotFound {
				t.Errorf("%s: Rotate after Shred: err = %v, want KindNotFound", name, err)
			}
			open(t, svc, other, phone, kept, "kept")
		}
	})
}

func TestBlindIndex(t *testing.T) {
	ctx := context.Background()
	db, m := sqltest.SQLite(t), master(t)
	s := keys.New(db.Keys, m)
	p, other := uuid.New(), uuid.New()
	idx := func(p uuid.UUID, name, v string) []byte {
		t.Helper()
		tok, err := s.BlindIndex(ctx, p, name, []byte(v))
		if err != nil {
			t.Fatalf("BlindIndex: %v", err)
		}
		if len(tok) != keys.IndexSize {
			t.Fatalf("token of %d bytes, want %d", len(tok), keys.IndexSize)
		}
		return tok
	}
	base := idx(p, "phone", "+15550100")
	if !bytes.Equal(base, idx(p, "phone", "+15550100")) {
		t.Error("the same value indexes differently")
	}
	// A restart (a fresh Service on the same keys) makes the same tokens;
	// another database's keys make others.
	if again, err := keys.New(db.Keys, m).BlindIndex(ctx, p, "phone", []byte("+15550100")); err != nil || !bytes.Equal(again, base) {
		t.Errorf("after a restart the token is %x (%v), want %x", again, err, base)
	}
	if again, err := keys.New(sqltest.SQLite(t).Keys, master(t)).BlindIndex(ctx, p, "phone", []byte("+15550100")); err == nil && bytes.Equal(again, base) {
		t.Error("another database's keys made the same token")
	}
	for _, c := range []struct {
		name string
		tok  []byte
	}{
		{"another value", idx(p, "phone", "+15550101")},
		{"another index", idx(p, "email", "+15550100")},
		{"another practice", idx(other, "phone", "+15550100")},
		{"name and value shifted", idx(p, "phone+", "15550100")},
	} {
		if bytes.Equal(c.tok, base) {
			t.Errorf("%s: the same token", c.name)
		}
	}
	// Rotating the seal keys leaves the blind indexes as they were.
	if err := s.Rotate(ctx, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(base, idx(p, "phone", "+15550100")) {
		t.Error("a rotation changed the blind index")
	}
	short, err := s.TruncatedIndex(ctx, p, "phone", []byte("+15550100"), 2)
	if err != nil || len(short) != 2 {
		t.Fatalf("TruncatedIndex = %x, %v; want 2 bytes", short, err)
	}
}

func TestConcurrent(t *testing.T) {
	db := sqltest.SQLite(t)
	m := master(t)
	ctx := context.Background()
	services := []*keys.Service{keys.New(db.Keys, m, keys.WithCacheSize(2)), keys.New(db.Keys, m)}
	practices := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := services[g%2]
			for i := range 25 {
				p := practices[(g+i)%len(practices)]
				b := keys.Binding{Table: "t", Column: "c", Row: fmt.Sprint(g, "/", i)}
				want := fmt.Sprint("value ", g, i)
				ct, err := s.Seal(ctx, p, b, []byte(want))
				if err != nil {
					errc <- fmt.Errorf("Seal: %w", err)
					return
				}
				// The other Service, whose cache may be behind a rotation.
				pt, err := services[(g+1)%2].Open(ctx, p, b, ct)
				if err != nil || string(pt) != want {
					errc <- fmt.Errorf("Open = %q, %w", pt, err)
					return
				}
				if i%5 == 0 {
					if err := s.Rotate(ctx, p); err != nil {
						errc <- fmt.Errorf("Rotate: %w", err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

func TestOpenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "master.json")
	p, err := keys.OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile (new): %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	db := sqltest.SQLite(t)
	practice := uuid.New()
	ct := seal(t, keys.New(db.Keys, p), practice, phone, "kept")
	again, err := keys.OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile (existing): %v", err)
	}
	if again.ID() != p.ID() {
		t.Errorf("reopened key ID %s, want %s", again.ID(), p.ID())
	}
	open(t, keys.New(db.Keys, again), practice, phone, ct, "kept")
	if err := os.WriteFile(path, []byte("not a keyset"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.OpenFile(path); err == nil {
		t.Error("OpenFile read a file that holds no keyset")
	}
}

func FuzzOpen(f *testing.F) {
	db := sqltest.SQLite(f)
	s := keys.New(db.Keys, master(f))
	p := uuid.New()
	f.Add(seal(f, s, p, phone, "+15550100"), "7f0c")
	f.Add([]byte{1, 0, 0, 0, 0}, "")
	f.Add([]byte{}, "x")
	f.Fuzz(func(t *testing.T, ct []byte, row string) {
		pt, err := s.Open(context.Background(), p, keys.Binding{Table: "patients", Column: "phone", Row: row}, ct)
		if err == nil && (row != "7f0c" || string(pt) != "+15550100") {
			t.Fatalf("Open(%x, row %q) = %q", ct, row, pt)
		}
		if err != nil && errs.KindOf(err) != errs.KindConflict && errs.KindOf(err) != errs.KindInvalid {
			t.Fatalf("Open(%x, row %q): err = %v, want KindConflict or KindInvalid", ct, row, err)
		}
	})
}

// TestRolledBackKeys: keys a practice's first seal makes inside a
// transaction that then rolls back are not kept, since no other process
// could open what they seal; after the rollback the practice gets keys
// that the store holds, and another Service opens what they seal.
func TestRolledBackKeys(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db *sqlstore.Store) {
		ctx := context.Background()
		m := master(t)
		s := keys.New(db.Keys, m)
		p := uuid.New()
		rollback := fmt.Errorf("roll back")
		err := db.InTx(ctx, func(ctx context.Context) error {
			if _, err := s.Seal(ctx, p, phone, []byte("lost")); err != nil {
				return err
			}
			return rollback
		})
		if err != rollback {
			t.Fatalf("InTx = %v", err)
		}
		ct := seal(t, s, p, phone, "kept")
		open(t, keys.New(db.Keys, m), p, phone, ct, "kept")

		// Keys made in a transaction that commits are cached once it has.
		q := uuid.New()
		var inTx []byte
		if err := db.InTx(ctx, func(ctx context.Context) error {
			var err error
			inTx, err = s.Seal(ctx, q, phone, []byte("committed"))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		open(t, keys.New(db.Keys, m), q, phone, inTx, "committed")
		if id, err := s.PrimaryKeyID(ctx, q); err != nil || id != keys.KeyID(inTx) || id == 0 {
			t.Errorf("PrimaryKeyID = %d, %v; the ciphertext carries %d", id, err, keys.KeyID(inTx))
		}
		if err := s.Rotate(ctx, q); err != nil {
			t.Fatal(err)
		}
		if id, _ := s.PrimaryKeyID(ctx, q); id == keys.KeyID(inTx) {
			t.Errorf("PrimaryKeyID after Rotate = %d, the old key", id)
		}
		if got := keys.KeyID([]byte{1, 2}); got != 0 {
			t.Errorf("KeyID(2 bytes) = %d", got)
		}
	})
}

// TestStreamingAEAD: a practice's file key is made on first use, beside
// keys it may already have, is the same in another Service, is bound to
// the practice (another practice's does not decrypt), and is gone with a
// shred; a master-key rotation re-wraps it with the others.
func TestStreamingAEAD(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db *sqlstore.Store) {
		ctx := context.Background()
		m := master(t)
		s := keys.New(db.Keys, m)
		p, other := uuid.New(), uuid.New()
		seal(t, s, p, phone, "first the field keys")
		sa, err := s.StreamingAEAD(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var ct bytes.Buffer
		w, err := sa.NewEncryptingWriter(&ct, []byte("ad"))
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("a referral letter"))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		read := func(s *keys.Service, practice uuid.UUID) (string, error) {
			sa, err := s.StreamingAEAD(ctx, practice)
			if err != nil {
				return "", err
			}
			r, err := sa.NewDecryptingReader(bytes.NewReader(ct.Bytes()), []byte("ad"))
			if err != nil {
				return "", err
			}
			b, err := io.ReadAll(r)
			return string(b), err
		}
		if got, err := read(keys.New(db.Keys, m), p); err != nil || got != "a referral letter" {
			t.Fatalf("another Service reads %q, %v", got, err)
		}
		if got, err := read(s, other); err == nil {
			t.Fatalf("another practice's key read %q", got)
		}
		next := master(t)
		if n, err := s.RotateMaster(ctx, next); err != nil || n != 6 {
			t.Fatalf("RotateMaster = %d, %v; want 6 keysets (three of each practice: reading made other's)", n, err)
		}
		if got, err := read(keys.New(db.Keys, next), p); err != nil || got != "a referral letter" {
			t.Fatalf("after the master-key rotation: %q, %v", got, err)
		}
		if err := s.Shred(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := keys.New(db.Keys, next).StreamingAEAD(ctx, p); errs.KindOf(err) != errs.KindNotFound {
			t.Errorf("StreamingAEAD of a shredded practice = %v, want KindNotFound", err)
		}
	})
}
