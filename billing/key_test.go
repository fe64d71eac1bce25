package billing_test

import (
	"strings"
	"testing"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

func TestDeriveKey(t *testing.T) {
	p := uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8057")
	q := uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8058")
	k := billing.DeriveKey(p, billing.OpCapture, 2)
	if got, want := k, billing.Key("carebook-01890a5d-ac96-774b-bcce-b302099a8057-capture-2"); got != want {
		t.Fatalf("DeriveKey = %q, want %q", got, want)
	}
	if k != billing.DeriveKey(p, billing.OpCapture, 2) {
		t.Error("DeriveKey is not deterministic")
	}
	others := []billing.Key{
		billing.DeriveKey(q, billing.OpCapture, 2),
		billing.DeriveKey(p, billing.OpRefund, 2),
		billing.DeriveKey(p, billing.OpCapture, 3),
		billing.DeriveKey(p, billing.OpCapture, 12),
	}
	for _, o := range others {
		if o == k {
			t.Errorf("%q collides", o)
		}
	}
	if err := k.Validate("op"); err != nil {
		t.Errorf("a derived key is invalid: %v", err)
	}
}

func TestKeyValidate(t *testing.T) {
	for _, k := range []billing.Key{"", "with space", "tab\tkey", billing.Key(strings.Repeat("k", billing.MaxKeyLen+1)), "é"} {
		if err := k.Validate("op"); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "key" {
			t.Errorf("Key(%q).Validate() = %v, want invalid key", k, err)
		}
	}
	if err := billing.Key(strings.Repeat("k", billing.MaxKeyLen)).Validate("op"); err != nil {
		t.Errorf("a key of MaxKeyLen is refused: %v", err)
	}
}

func TestMapHeader(t *testing.T) {
	h := billing.MapHeader{"Stripe-Signature": "t=1,v1=ab"}
	if got := h.Get("stripe-signature"); got != "t=1,v1=ab" {
		t.Errorf("Get = %q", got)
	}
	if got := h.Get("Other"); got != "" {
		t.Errorf("Get(Other) = %q", got)
	}
}
