package offline_test

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/offline"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

// A desk made after a restart, given the payment the caller stored, answers
// the replay of a step it did not see and takes the next steps under the
// same rules.
func TestLoadRebuildsTheDesk(t *testing.T) {
	ctx := context.Background()
	c := clock.NewFixed(t0)
	first, p := deskPayment(t, c) // 85.00 paid by cheque, 15.00 refunded
	refundKey := p.Ledger[1].Key
	wantRefund, err := first.Refund(ctx, billing.FollowUp{Ref: p.Ref, Amount: billing.Money{Amount: 1500, Currency: "USD"}, Key: refundKey, By: clerk})
	if err != nil {
		t.Fatal(err)
	}

	c.Advance(24 * time.Hour)
	d, err := offline.New(practice, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Load(p); err != nil {
		t.Fatal(err)
	}
	got, err := d.Refund(ctx, billing.FollowUp{Ref: p.Ref, Amount: billing.Money{Amount: 1500, Currency: "USD"}, Key: refundKey, By: clerk})
	if err != nil {
		t.Fatal(err)
	}
	if got != wantRefund {
		t.Fatalf("the replay on the rebuilt desk = %+v, want %+v", got, wantRefund)
	}
	if _, err := d.Refund(ctx, billing.FollowUp{Ref: p.Ref, Amount: billing.Money{Amount: 100, Currency: "USD"}, Key: refundKey, By: clerk}); !errs.Is(err, errs.KindConflict) || errs.FieldOf(err) != "key" {
		t.Fatalf("another refund under the used key: %v", err)
	}
	if _, err := d.Refund(ctx, billing.FollowUp{Ref: p.Ref, Amount: billing.Money{Amount: 7001, Currency: "USD"}, Key: p.KeyFor(billing.OpRefund), By: clerk}); !errs.Is(err, errs.KindConflict) {
		t.Fatalf("a refund above the 70.00 left: %v", err)
	}
	r, err := d.Refund(ctx, billing.FollowUp{Ref: p.Ref, Amount: billing.Money{Amount: 7000, Currency: "USD"}, Key: p.KeyFor(billing.OpRefund), By: clerk})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ref != p.Ref || r.ProviderTx != string(p.Ref)+"-3" || !r.At.Equal(t0.Add(24*time.Hour+20*time.Minute)) {
		t.Fatalf("the next refund = %+v", r)
	}
	if err := d.Load(p); !errs.Is(err, errs.KindConflict) {
		t.Fatalf("loading the payment twice: %v", err)
	}
}

func TestLoadRefusesWhatIsNotTheDesks(t *testing.T) {
	c := clock.NewFixed(t0)
	_, p := deskPayment(t, c)
	tests := []struct {
		name  string
		edit  func(q *billing.Payment)
		field string
	}{
		{"another practice's", func(q *billing.Payment) { q.Practice = uuid.New() }, "practice"},
		{"an online payment's ref", func(q *billing.Payment) { q.Ref = "pi_123" }, "ref"},
		{"an online method", func(q *billing.Payment) { q.Method.Kind = billing.MethodCardOnline }, "method.kind"},
		{"a key used twice", func(q *billing.Payment) { q.Ledger[1].Key = q.Ledger[0].Key }, "ledger.key"},
		{"a broken ledger", func(q *billing.Payment) { q.Ledger[1].Amount.Amount = 9000 }, ""},
	}
	for _, tt := range tests {
		q := *p
		q.Ledger = append([]billing.Entry(nil), p.Ledger...)
		tt.edit(&q)
		err := newDesk(t).Load(&q)
		if tt.field == "" {
			if err == nil {
				t.Errorf("%s: loaded", tt.name)
			}
			continue
		}
		if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tt.field {
			t.Errorf("%s: %v, want invalid %q", tt.name, err, tt.field)
		}
	}
}
