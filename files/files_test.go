package files_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/files/filestest"
	"github.com/carebook/carebook/files/s3test"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"
	"gocloud.dev/blob"
)

// marker is the plaintext the tests look for in what is stored.
const marker = "CAREBOOK-PLAINTEXT-MARKER"

// practiceKeys is a files.Keys with a tink keyset per practice, made on
// first use (the keys package will keep them wrapped in the database).
type practiceKeys struct {
	mu     sync.Mutex
	shared tink.StreamingAEAD // when set, every practice gets it
	byID   map[tenant.PracticeID]tink.StreamingAEAD
}

func newAEAD(t testing.TB) tink.StreamingAEAD {
	t.Helper()
	h, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		t.Fatalf("new keyset: %v", err)
	}
	a, err := streamingaead.New(h)
	if err != nil {
		t.Fatalf("streaming AEAD: %v", err)
	}
	return a
}

func (k *practiceKeys) StreamingAEAD(_ context.Context, practice tenant.PracticeID) (tink.StreamingAEAD, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.shared != nil {
		return k.shared, nil
	}
	a, ok := k.byID[practice]
	if !ok {
		h, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
		if err != nil {
			return nil, err
		}
		if a, err = streamingaead.New(h); err != nil {
			return nil, err
		}
		k.byID[practice] = a
	}
	return a, nil
}

// backend is a bucket under test and the directory its bytes land in.
type backend struct {
	bucket *blob.Bucket
	dir    string // where the objects are on disk
}

func dirBackend(t testing.TB) backend {
	dir := t.TempDir()
	b, err := files.OpenBucket(context.Background(), "file://"+filepath.ToSlash(dir))
	if err != nil {
		t.Fatalf("OpenBucket: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return backend{bucket: b, dir: dir}
}

// s3Backend returns a fresh bucket on the S3 gateway (package s3test).
func s3Backend(t testing.TB) backend {
	t.Helper()
	b, dir := s3test.Bucket(t)
	return backend{bucket: b, dir: dir}
}

func TestMain(m *testing.M) { s3test.Main(m) }

// env is a Store over a backend, with two practices and their patients.
type env struct {
	t       *testing.T
	ctx     context.Context
	b       backend
	keys    *practiceKeys
	store   *files.Store
	db      *sqlstore.Store
	a       filestest.Fixture // a patient of a practice
	another filestest.Fixture // a patient of another practice
}

func newEnv(t *testing.T, b backend, keys *practiceKeys, opts files.Options) *env {
	db := sqltest.SQLite(t)
	stores := filestest.Stores{Meta: db.Files, Tenants: db.Tenants, Patients: db.Scheduling}
	e := &env{t: t, ctx: context.Background(), b: b, keys: keys, db: db,
		a: filestest.NewFixture(t, stores), another: filestest.NewFixture(t, stores)}
	e.store = files.New(b.bucket, keys, db.Files, opts)
	return e
}

func (e *env) put(fx filestest.Fixture, name string, content []byte) *files.File {
	e.t.Helper()
	f, err := e.store.Put(e.ctx, fx.Practice, fx.Patient, name, "application/pdf", bytes.NewReader(content))
	if err != nil {
		e.t.Fatalf("Put(%s): %v", name, err)
	}
	return f
}

func (e *env) read(practice tenant.PracticeID, id files.ID) ([]byte, error) {
	rc, err := e.store.Open(e.ctx, practice, id)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// content is n bytes of text sprinkled with the marker.
func content(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%s line %d of a scanned referral letter\n", marker, i)
	}
	return b.Bytes()[:n]
}

var backends = map[string]func(testing.TB) backend{"directory": dirBackend, "s3 gateway": s3Backend}

func TestStore(t *testing.T) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) { runSuite(t, open) })
	}
}

func runSuite(t *testing.T, open func(testing.TB) backend) {
	newKeys := func() *practiceKeys { return &practiceKeys{byID: map[tenant.PracticeID]tink.StreamingAEAD{}} }

	t.Run("round trip", func(t *testing.T) {
		e := newEnv(t, open(t), newKeys(), files.Options{})
		for _, n := range []int{0, 1, 100, 1 << 20, 3<<20 + 17} {
			want := content(n)
			f := e.put(e.a, fmt.Sprintf("file-%d.pdf", n), want)
			if f.Size != int64(n) || f.PracticeID != e.a.Practice || f.PatientID != e.a.Patient {
				t.Errorf("Put(%d bytes) = %+v", n, f)
			}
			got, err := e.read(e.a.Practice, f.ID)
			if err != nil {
				t.Fatalf("read %d bytes: %v", n, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("read %d bytes back: got %d bytes, not the same", n, len(got))
			}
			rec, err := e.store.Get(e.ctx, e.a.Practice, f.ID)
			if err != nil || *rec != *f {
				t.Errorf("Get = %+v, %v; want %+v", rec, err, f)
			}
		}
		list, err := e.store.List(e.ctx, e.a.Practice, e.a.Patient)
		if err != nil || len(list) != 5 {
			t.Errorf("List = %d files, %v; want 5", len(list), err)
		}
	})

	t.Run("no plaintext at rest", func(t *testing.T) {
		e := newEnv(t, open(t), newKeys(), files.Options{})
		name := marker + " Parker referral.pdf"
		var put []*files.File
		for _, n := range []int{60, 2<<20 + 5} {
			put = append(put, e.put(e.a, name, content(n)))
		}
		forbidden := []string{marker, name, e.a.Patient.String(), hex.EncodeToString(e.a.Patient[:]),
			e.a.Practice.String(), hex.EncodeToString(e.a.Practice[:])}
		for _, f := range put {
			forbidden = append(forbidden, f.ID.String(), hex.EncodeToString(f.ID[:]))
		}
		// Through the bucket: every object's key and bytes.
		var objects int
		iter := e.b.bucket.List(nil)
		for {
			obj, err := iter.Next(e.ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("list the bucket: %v", err)
			}
			objects++
			raw, err := e.b.bucket.ReadAll(e.ctx, obj.Key)
			if err != nil {
				t.Fatalf("read object %s: %v", obj.Key, err)
			}
			for _, s := range forbidden {
				if strings.Contains(strings.ToLower(obj.Key), strings.ToLower(s)) {
					t.Errorf("object key %q holds %q", obj.Key, s)
				}
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("object %s holds %q in clear", obj.Key, s)
				}
			}
		}
		if objects != len(put) {
			t.Errorf("the bucket holds %d objects, want %d", objects, len(put))
		}
		// On disk: every file's path and bytes, sidecars and temp files included.
		var scanned int
		err := filepath.WalkDir(e.b.dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			scanned += len(raw)
			rel, _ := filepath.Rel(e.b.dir, path)
			for _, s := range forbidden {
				if strings.Contains(strings.ToLower(rel), strings.ToLower(s)) {
					t.Errorf("file %s on disk is named with %q", rel, s)
				}
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("file %s on disk holds %q in clear", rel, s)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", e.b.dir, err)
		}
		if scanned < 2<<20 {
			t.Errorf("scanned %d bytes on disk, want at least the 2 MiB written", scanned)
		}
	})

	t.Run("another practice or an unknown ID is not found", func(t *testing.T) {
		e := newEnv(t, open(t), newKeys(), files.Options{})
		f := e.put(e.a, "a.pdf", content(100))
		for name, c := range map[string]struct {
			practice tenant.PracticeID
			id       files.ID
		}{
			"another practice": {e.another.Practice, f.ID},
			"an unknown ID":    {e.a.Practice, uuid.New()},
		} {
			if _, err := e.read(c.practice, c.id); !errs.Is(err, errs.KindNotFound) {
				t.Errorf("Open with %s: %v, want KindNotFound", name, err)
			}
			if err := e.store.Delete(e.ctx, c.practice, c.id); !errs.Is(err, errs.KindNotFound) {
				t.Errorf("Delete with %s: %v, want KindNotFound", name, err)
			}
		}
		if got, err := e.read(e.a.Practice, f.ID); err != nil || !bytes.Equal(got, content(100)) {
			t.Errorf("the file after the others' attempts: %d bytes, %v", len(got), err)
		}
	})

	t.Run("an object moved to another record does not decrypt", func(t *testing.T) {
		// One keyset for every practice, so that only the associated data
		// (practice, patient, file ID) tells the objects apart.
		keys := newKeys()
		keys.shared = newAEAD(t)
		e := newEnv(t, open(t), keys, files.Options{})
		stores := filestest.Stores{Meta: e.db.Files, Tenants: e.db.Tenants, Patients: e.db.Scheduling}
		src := e.put(e.a, "source.pdf", content(5000))
		samePatient := e.put(e.a, "same patient.pdf", content(5000))
		otherPatient := e.put(filestest.NewPatient(t, stores, e.a.Practice), "other patient.pdf", content(5000))
		otherPractice := e.put(e.another, "other practice.pdf", content(5000))
		raw, err := e.b.bucket.ReadAll(e.ctx, src.ObjectKey)
		if err != nil {
			t.Fatalf("read the source object: %v", err)
		}
		for name, dst := range map[string]*files.File{
			"another file of the patient": samePatient,
			"a file of another patient":   otherPatient,
			"a file of another practice":  otherPractice,
		} {
			if err := e.b.bucket.WriteAll(e.ctx, dst.ObjectKey, raw, nil); err != nil {
				t.Fatalf("overwrite %s: %v", name, err)
			}
			_, err := e.read(dst.PracticeID, dst.ID)
			if !errors.Is(err, files.ErrUnreadable) || !errs.Is(err, errs.KindConflict) {
				t.Errorf("read %s holding the source's object: %v, want ErrUnreadable (KindConflict)", name, err)
			}
		}
	})

	t.Run("a truncated or tampered object does not open", func(t *testing.T) {
		e := newEnv(t, open(t), newKeys(), files.Options{})
		plain := content(2<<20 + 100)
		cases := map[string]func([]byte) []byte{
			"empty":                  func(b []byte) []byte { return nil },
			"header only":            func(b []byte) []byte { return b[:40] },
			"cut by one byte":        func(b []byte) []byte { return b[:len(b)-1] },
			"cut at a segment's end": func(b []byte) []byte { return b[:1<<20] },
			"cut after two segments": func(b []byte) []byte { return b[:2<<20] },
			"a flipped byte":         func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
			"a flipped header byte":  func(b []byte) []byte { b[3] ^= 0x80; return b },
			"a byte appended":        func(b []byte) []byte { return append(b, 0) },
			"a segment appended":     func(b []byte) []byte { return append(b, b[len(b)-200:]...) },
		}
		for name, damage := range cases {
			f := e.put(e.a, name+".pdf", plain)
			raw, err := e.b.bucket.ReadAll(e.ctx, f.ObjectKey)
			if err != nil {
				t.Fatalf("%s: read the object: %v", name, err)
			}
			if err := e.b.bucket.WriteAll(e.ctx, f.ObjectKey, damage(raw), nil); err != nil {
				t.Fatalf("%s: write the object: %v", name, err)
			}
			got, err := e.read(e.a.Practice, f.ID)
			if !errors.Is(err, files.ErrUnreadable) || !errs.Is(err, errs.KindConflict) {
				t.Errorf("%s: read %d bytes, %v; want ErrUnreadable (KindConflict)", name, len(got), err)
			}
		}
	})

	t.Run("delete removes the object and the record", func(t *testing.T) {
		e := newEnv(t, open(t), newKeys(), files.Options{})
		f := e.put(e.a, "a.pdf", content(1000))
		keep := e.put(e.a, "b.pdf", content(1000))
		if err := e.store.Delete(e.ctx, e.a.Practice, f.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if ok, err := e.b.bucket.Exists(e.ctx, f.ObjectKey); ok || err != nil {
			t.Errorf("the object after Delete: exists %v, %v", ok, err)
		}
		if _, err := e.store.Get(e.ctx, e.a.Practice, f.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("Get after Delete: %v, want KindNotFound", err)
		}
		if _, err := e.read(e.a.Practice, f.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("Open after Delete: %v, want KindNotFound", err)
		}
		if ok, err := e.b.bucket.Exists(e.ctx, keep.ObjectKey); !ok || err != nil {
			t.Errorf("the other file's object after Delete: exists %v, %v", ok, err)
		}
	})

	t.Run("bad input leaves nothing behind", func(t *testing.T) {
		e := newEnv(t, open(t), newKeys(), files.Options{MaxSize: 1000})
		cases := []struct {
			name, label, contentType string
			size                     int
			kind                     errs.Kind
			field                    string
		}{
			{"empty name", " ", "application/pdf", 10, errs.KindInvalid, "name"},
			{"control character", "a\nb.pdf", "application/pdf", 10, errs.KindInvalid, "name"},
			{"long name", strings.Repeat("n", files.MaxNameLen+1), "application/pdf", 10, errs.KindInvalid, "name"},
			{"not UTF-8", "a\xffb.pdf", "application/pdf", 10, errs.KindInvalid, "name"},
			{"bad content type", "a.pdf", "pdf please", 10, errs.KindInvalid, "content_type"},
			{"too large", "a.pdf", "application/pdf", 1001, errs.KindTooLarge, ""},
		}
		for _, c := range cases {
			_, err := e.store.Put(e.ctx, e.a.Practice, e.a.Patient, c.label, c.contentType, bytes.NewReader(content(c.size)))
			if !errs.Is(err, c.kind) || errs.FieldOf(err) != c.field {
				t.Errorf("%s: %v, want %v on %q", c.name, err, c.kind, c.field)
			}
		}
		// An unknown patient: the object is written, then removed when the
		// record is refused.
		if _, err := e.store.Put(e.ctx, e.a.Practice, e.another.Patient, "a.pdf", "application/pdf", bytes.NewReader(content(10))); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("Put for another practice's patient: %v, want KindNotFound", err)
		}
		if f, err := e.store.Put(e.ctx, e.a.Practice, e.a.Patient, "ok.pdf", "application/pdf", bytes.NewReader(content(1000))); err != nil || f.Size != 1000 {
			t.Errorf("Put at the limit: %v, %v", f, err)
		}
		iter := e.b.bucket.List(nil)
		var keys []string
		for {
			obj, err := iter.Next(e.ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			keys = append(keys, obj.Key)
		}
		if len(keys) != 1 {
			t.Errorf("the bucket holds %d objects after the refused puts and one good one, want 1: %v", len(keys), keys)
		}
	})
}
