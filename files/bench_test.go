package files_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/files/filestest"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// BenchmarkPutOpen puts a 1 MiB file into a local-directory bucket, reads
// it back whole and deletes it: "plain" writes and reads the bytes as they
// are, "encrypted" through the practice's streaming AEAD with the same
// associated data as Store, and "store" through files.Store (encryption
// and the SQLite record). Compare each with plain.
func BenchmarkPutOpen(b *testing.B) {
	ctx := context.Background()
	data := content(1 << 20)
	bk := dirBackend(b)
	aead := newAEAD(b)
	ad := []byte("carebook/files/v1\x00practice-patient-file-id-0123456789abcdef")

	roundTrip := func(b *testing.B, key string, wrapW func(io.Writer) io.WriteCloser, wrapR func(io.Reader) io.Reader) {
		w, err := bk.bucket.NewWriter(ctx, key, nil)
		if err != nil {
			b.Fatal(err)
		}
		ew := wrapW(w)
		if _, err := ew.Write(data); err != nil {
			b.Fatal(err)
		}
		if err := ew.Close(); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		r, err := bk.bucket.NewReader(ctx, key, nil)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, wrapR(r))
		if err != nil || n != int64(len(data)) {
			b.Fatalf("read %d bytes, %v", n, err)
		}
		_ = r.Close()
		if err := bk.bucket.Delete(ctx, key); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("plain", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			roundTrip(b, "plain",
				func(w io.Writer) io.WriteCloser { return nopCloser{w} },
				func(r io.Reader) io.Reader { return r })
		}
	})
	b.Run("encrypted", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			roundTrip(b, "encrypted",
				func(w io.Writer) io.WriteCloser {
					ew, err := aead.NewEncryptingWriter(w, ad)
					if err != nil {
						b.Fatal(err)
					}
					return ew
				},
				func(r io.Reader) io.Reader {
					dr, err := aead.NewDecryptingReader(r, ad)
					if err != nil {
						b.Fatal(err)
					}
					return dr
				})
		}
	})
	b.Run("store", func(b *testing.B) {
		db := sqltest.SQLite(b)
		fx := filestest.NewFixture(b, filestest.Stores{Meta: db.Files, Tenants: db.Tenants, Patients: db.Scheduling})
		s := files.New(bk.bucket, &practiceKeys{shared: aead, byID: map[tenant.PracticeID]tink.StreamingAEAD{}}, db.Files, files.Options{})
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			f, err := s.Put(ctx, fx.Practice, fx.Patient, "bench.pdf", "application/pdf", bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			rc, err := s.Open(ctx, fx.Practice, f.ID)
			if err != nil {
				b.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, rc); err != nil || n != int64(len(data)) {
				b.Fatalf("read %d bytes, %v", n, err)
			}
			_ = rc.Close()
			if err := s.Delete(ctx, fx.Practice, f.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
