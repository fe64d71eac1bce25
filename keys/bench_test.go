package keys_test

import (
	"context"
	"testing"

	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
)

// field is a 40-byte value, the size of an email address or a name.
var field = []byte("someone.with.a.long.name@example.org.uk")

// BenchmarkSeal seals a 40-byte field through the Service (its keys
// cached) beside a bare tink AEAD with the same associated data length.
func BenchmarkSeal(b *testing.B) {
	ctx := context.Background()
	s := keys.New(sqltest.SQLite(b).Keys, master(b))
	p := uuid.New()
	seal(b, s, p, phone, "warm the cache")
	b.Run("keys", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Seal(ctx, p, phone, field); err != nil {
				b.Fatal(err)
			}
		}
	})
	a, ad := bareAEAD(b)
	b.Run("tink", func(b *testing.B) {
		for b.Loop() {
			if _, err := a.Encrypt(field, ad); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOpen opens a sealed 40-byte field through the Service beside a
// bare tink AEAD.
func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	s := keys.New(sqltest.SQLite(b).Keys, master(b))
	p := uuid.New()
	ct := seal(b, s, p, phone, string(field))
	b.Run("keys", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Open(ctx, p, phone, ct); err != nil {
				b.Fatal(err)
			}
		}
	})
	a, ad := bareAEAD(b)
	bare, err := a.Encrypt(field, ad)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("tink", func(b *testing.B) {
		for b.Loop() {
			if _, err := a.Decrypt(bare, ad); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// bareAEAD is a tink AES256-GCM AEAD and associated data as long as the
// Service's for the phone binding.
func bareAEAD(b *testing.B) (interface {
	Encrypt(p, ad []byte) ([]byte, error)
	Decrypt(c, ad []byte) ([]byte, error)
}, []byte) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		b.Fatal(err)
	}
	a, err := aead.New(h)
	if err != nil {
		b.Fatal(err)
	}
	return a, make([]byte, len("carebook/keys/seal/v1")+16+1+len(phone.Table)+1+len(phone.Column)+1+len(phone.Row))
}
