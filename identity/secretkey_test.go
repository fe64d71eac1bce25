package identity

import (
	"context"
	"strings"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/google/uuid"
)

// xorSealer is a Sealer for this package's unit tests: it binds the
// ciphertext to its scope and binding by prefixing them, and flips the
// bytes of the secret, so that tests see what reaches the Sealer without
// a database. The real one (keys.Service) is tested in package keys and,
// with this package, in sqlstore's TOTP tests.
type xorSealer struct{}

func (xorSealer) Seal(_ context.Context, practice uuid.UUID, b keys.Binding, pt []byte) ([]byte, error) {
	out := []byte(practice.String() + "|" + b.String() + "|")
	for _, c := range pt {
		out = append(out, c^0xff)
	}
	return out, nil
}

func (xorSealer) Open(_ context.Context, practice uuid.UUID, b keys.Binding, ct []byte) ([]byte, error) {
	head := practice.String() + "|" + b.String() + "|"
	if !strings.HasPrefix(string(ct), head) {
		return nil, errs.E(errs.KindConflict, "xorSealer.Open", "sealed for another place")
	}
	out := []byte{}
	for _, c := range ct[len(head):] {
		out = append(out, c^0xff)
	}
	return out, nil
}

func TestSealSecret(t *testing.T) {
	ctx := context.Background()
	var k xorSealer
	acct, other := uuid.New(), uuid.New()
	const secret = "JBSWY3DPEHPK3PXP"
	stored, err := sealSecret(ctx, k, acct, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !sealed(stored) || !strings.HasPrefix(stored, sealedPrefix) || strings.Contains(stored, secret) {
		t.Fatalf("sealed = %q", stored)
	}
	if got, err := openSecret(ctx, k, acct, stored); err != nil || got != secret {
		t.Errorf("openSecret = %q, %v", got, err)
	}
	for name, c := range map[string]struct {
		keys    Sealer
		account AccountID
		stored  string
		kind    errs.Kind
	}{
		"another account": {k, other, stored, errs.KindConflict},
		"not base64":      {k, acct, sealedPrefix + "!!", errs.KindConflict},
		"retired key":     {k, acct, retiredPrefix + "abcd:xyz", errs.KindConflict},
		"no sealer":       {nil, acct, stored, errs.KindInternal},
	} {
		if got, err := openSecret(ctx, c.keys, c.account, c.stored); errs.KindOf(err) != c.kind {
			t.Errorf("%s: openSecret = %q, %v; want %v", name, got, err, c.kind)
		}
	}
	if got, err := openSecret(ctx, nil, acct, secret); err != nil || got != secret {
		t.Errorf("a secret in clear (an earlier release's row): %q, %v", got, err)
	}
	if _, err := sealSecret(ctx, nil, acct, secret); errs.KindOf(err) != errs.KindInternal {
		t.Errorf("sealSecret without a Sealer = %v, want KindInternal: never in clear", err)
	}
}
