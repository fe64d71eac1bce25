package identity

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

func mustStaticKey(t *testing.T, b byte) *StaticKey {
	t.Helper()
	k, err := NewStaticKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealSecret(t *testing.T) {
	ctx := context.Background()
	k := mustStaticKey(t, 7)
	acct, other := uuid.New(), uuid.New()
	const secret = "JBSWY3DPEHPK3PXP"
	stored, err := sealSecret(ctx, k, acct, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !sealed(stored) || strings.Contains(stored, secret) {
		t.Fatalf("sealed = %q", stored)
	}
	if again, _ := sealSecret(ctx, k, acct, secret); again == stored {
		t.Error("two seals of one secret are equal: the nonce is not fresh")
	}
	if got, err := openSecret(ctx, k, acct, stored); err != nil || got != secret {
		t.Errorf("openSecret = %q, %v", got, err)
	}
	// In clear (a row from before sealing), or without keys: as it is.
	if got, err := openSecret(ctx, k, acct, secret); err != nil || got != secret {
		t.Errorf("openSecret(clear) = %q, %v", got, err)
	}
	if got, err := sealSecret(ctx, nil, acct, secret); err != nil || got != secret {
		t.Errorf("sealSecret(no keys) = %q, %v", got, err)
	}
	tampered := stored[:len(stored)-2] + "AA"
	for name, c := range map[string]struct {
		keys   KeyProvider
		acct   AccountID
		stored string
	}{
		"another account": {k, other, stored},
		"another key":     {mustStaticKey(t, 8), acct, stored},
		"no keys":         {nil, acct, stored},
		"tampered":        {k, acct, tampered},
		"malformed":       {k, acct, sealedPrefix + "nokey"},
	} {
		if _, err := openSecret(ctx, c.keys, c.acct, c.stored); !errs.Is(err, errs.KindInternal) {
			t.Errorf("%s: openSecret = %v, want KindInternal", name, err)
		}
	}
}

func TestParseStaticKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, 32)
	want := mustStaticKey(t, 0xfb)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
		k, err := ParseStaticKey("secret_key", " "+enc.EncodeToString(raw)+"\n")
		if err != nil || k.id != want.id || !bytes.Equal(k.key, raw) {
			t.Errorf("ParseStaticKey = %+v, %v", k, err)
		}
	}
	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(raw[:16])} {
		_, err := ParseStaticKey("secret_key", bad)
		if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || e.Field != "secret_key" {
			t.Errorf("ParseStaticKey(%q) = %v, want KindInvalid naming secret_key", bad, err)
		}
	}
	if _, err := NewStaticKey(raw[:31]); !errs.Is(err, errs.KindInvalid) {
		t.Errorf("NewStaticKey(31 bytes) = %v", err)
	}
}
