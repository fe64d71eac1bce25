package billing_test

import (
	"testing"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func usd(n int64) billing.Money { return billing.Money{Amount: n, Currency: "USD"} }

// ledger numbers entries and gives them a time.
func ledger(es ...billing.Entry) []billing.Entry {
	for i := range es {
		es[i].Seq = i + 1
		if es[i].At.IsZero() {
			es[i].At = t0.Add(time.Duration(i) * time.Minute)
		}
	}
	return es
}

func e(k billing.EntryKind, n int64) billing.Entry { return billing.Entry{Kind: k, Amount: usd(n)} }

func rev(seq int, n int64) billing.Entry {
	return billing.Entry{Kind: billing.EntryReversed, Amount: usd(n), Reverses: seq}
}

func TestSummarize(t *testing.T) {
	const (
		auth = billing.EntryAuthorized
		chg  = billing.EntryCharged
		capt = billing.EntryCaptured
		canc = billing.EntryCanceled
		refd = billing.EntryRefunded
	)
	tests := []struct {
		name    string
		entries []billing.Entry
		want    billing.Totals // checked when wantErr is 0
		wantErr errs.Kind      // 0 (internal) means no error expected
		field   string
	}{
		{name: "empty", entries: nil, want: billing.Totals{Held: usd(0), Paid: usd(0), Refunded: usd(0), Net: usd(0), Released: usd(0)}},
		{name: "hold", entries: ledger(e(auth, 1000)), want: billing.Totals{Held: usd(1000), Paid: usd(0), Refunded: usd(0), Net: usd(0), Released: usd(0)}},
		{name: "full capture", entries: ledger(e(auth, 1000), e(capt, 1000)), want: billing.Totals{Held: usd(0), Paid: usd(1000), Refunded: usd(0), Net: usd(1000), Released: usd(0)}},
		{name: "partial capture releases the rest", entries: ledger(e(auth, 1000), e(capt, 600)), want: billing.Totals{Held: usd(0), Paid: usd(600), Refunded: usd(0), Net: usd(600), Released: usd(400)}},
		{name: "capture over the hold", entries: ledger(e(auth, 1000), e(capt, 1001)), wantErr: errs.KindConflict},
		{name: "second capture", entries: ledger(e(auth, 1000), e(capt, 500), e(capt, 500)), wantErr: errs.KindConflict},
		{name: "capture without a hold", entries: ledger(e(chg, 1000), e(capt, 100)), wantErr: errs.KindConflict},
		{name: "capture after cancel", entries: ledger(e(auth, 1000), e(canc, 1000), e(capt, 100)), wantErr: errs.KindConflict},
		{name: "cancel", entries: ledger(e(auth, 1000), e(canc, 1000)), want: billing.Totals{Held: usd(0), Paid: usd(0), Refunded: usd(0), Net: usd(0), Released: usd(1000)}},
		{name: "cancel of part of the hold", entries: ledger(e(auth, 1000), e(canc, 400)), wantErr: errs.KindInvalid, field: "amount"},
		{name: "cancel after capture", entries: ledger(e(auth, 1000), e(capt, 400), e(canc, 600)), wantErr: errs.KindConflict},
		{name: "cancel a charge", entries: ledger(e(chg, 1000), e(canc, 1000)), wantErr: errs.KindConflict},
		{name: "refunds up to the charge", entries: ledger(e(chg, 1000), e(refd, 300), e(refd, 700)), want: billing.Totals{Held: usd(0), Paid: usd(1000), Refunded: usd(1000), Net: usd(0), Released: usd(0)}},
		{name: "refund over the charge", entries: ledger(e(chg, 1000), e(refd, 300), e(refd, 701)), wantErr: errs.KindConflict},
		{name: "refund over the capture", entries: ledger(e(auth, 1000), e(capt, 600), e(refd, 601)), wantErr: errs.KindConflict},
		{name: "refund of a hold", entries: ledger(e(auth, 1000), e(refd, 100)), wantErr: errs.KindConflict},
		{name: "opened twice", entries: ledger(e(chg, 1000), e(chg, 1000)), wantErr: errs.KindConflict},
		{name: "zero amount", entries: ledger(e(chg, 0)), wantErr: errs.KindInvalid, field: "amount"},
		{name: "negative amount", entries: ledger(e(chg, -5)), wantErr: errs.KindInvalid, field: "amount"},
		{name: "other currency", entries: ledger(billing.Entry{Kind: chg, Amount: billing.Money{Amount: 5, Currency: "EUR"}}), wantErr: errs.KindInvalid, field: "amount.currency"},
		{name: "unknown kind", entries: ledger(e("deleted", 5)), wantErr: errs.KindInvalid, field: "kind"},
		{name: "misnumbered", entries: []billing.Entry{{Seq: 2, Kind: chg, Amount: usd(5), At: t0}}, wantErr: errs.KindInvalid, field: "seq"},
		{name: "no time", entries: []billing.Entry{{Seq: 1, Kind: chg, Amount: usd(5)}}, wantErr: errs.KindInvalid, field: "at"},
		{name: "reversed refund", entries: ledger(e(chg, 1000), e(refd, 1000), rev(2, 1000)), want: billing.Totals{Held: usd(0), Paid: usd(1000), Refunded: usd(0), Net: usd(1000), Released: usd(0)}},
		{name: "reversed charge", entries: ledger(e(chg, 1000), rev(1, 1000)), want: billing.Totals{Held: usd(0), Paid: usd(0), Refunded: usd(0), Net: usd(0), Released: usd(0)}},
		{name: "reversed charge then the right one", entries: ledger(e(chg, 1000), rev(1, 1000), e(chg, 800)), want: billing.Totals{Held: usd(0), Paid: usd(800), Refunded: usd(0), Net: usd(800), Released: usd(0)}},
		{name: "reversing a refunded charge", entries: ledger(e(chg, 1000), e(refd, 400), rev(1, 1000)), wantErr: errs.KindConflict},
		{name: "reversed twice", entries: ledger(e(chg, 1000), e(refd, 400), rev(2, 400), rev(2, 400)), wantErr: errs.KindConflict},
		{name: "reversing a reversal", entries: ledger(e(chg, 1000), e(refd, 400), rev(2, 400), rev(3, 400)), wantErr: errs.KindConflict},
		{name: "reversal with another amount", entries: ledger(e(chg, 1000), rev(1, 999)), wantErr: errs.KindInvalid, field: "amount"},
		{name: "reversal of a later entry", entries: ledger(e(chg, 1000), rev(3, 1000), e(refd, 1000)), wantErr: errs.KindInvalid, field: "reverses"},
		{name: "reverses on another kind", entries: ledger(e(chg, 1000), billing.Entry{Kind: refd, Amount: usd(1), Reverses: 1}), wantErr: errs.KindInvalid, field: "reverses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := billing.Summarize("USD", tt.entries)
			if tt.wantErr == errs.KindInternal {
				if err != nil {
					t.Fatalf("Summarize: %v", err)
				}
				if got != tt.want {
					t.Fatalf("Summarize = %+v, want %+v", got, tt.want)
				}
				return
			}
			if !errs.Is(err, tt.wantErr) {
				t.Fatalf("Summarize error = %v, want kind %v", err, tt.wantErr)
			}
			if tt.field != "" && errs.FieldOf(err) != tt.field {
				t.Fatalf("Summarize error field = %q, want %q (%v)", errs.FieldOf(err), tt.field, err)
			}
		})
	}
}

func TestSummarizeUnknownCurrency(t *testing.T) {
	if _, err := billing.Summarize("ZZZ", nil); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "currency" {
		t.Fatalf("error = %v, want invalid currency", err)
	}
}

var desk = actor.Actor{Kind: actor.Staff, ID: "desk-1"}

func newPayment(t *testing.T) *billing.Payment {
	t.Helper()
	p, err := billing.NewPayment(uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8057"), uuid.MustParse("01890a5d-0000-7000-8000-000000000001"), usd(5000), billing.Method{Kind: billing.MethodCash})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewPaymentRefusesBadInput(t *testing.T) {
	id, pr := uuid.New(), uuid.New()
	tests := []struct {
		id, practice uuid.UUID
		amount       billing.Money
		method       billing.Method
		field        string
	}{
		{uuid.Nil, pr, usd(1), billing.Method{Kind: billing.MethodCash}, "id"},
		{id, uuid.Nil, usd(1), billing.Method{Kind: billing.MethodCash}, "practice"},
		{id, pr, usd(0), billing.Method{Kind: billing.MethodCash}, "amount"},
		{id, pr, billing.Money{Amount: 1, Currency: "XXX"}, billing.Method{Kind: billing.MethodCash}, "currency"},
		{id, pr, usd(1), billing.Method{Kind: "bitcoin"}, "method.kind"},
	}
	for _, tt := range tests {
		_, err := billing.NewPayment(tt.id, tt.practice, tt.amount, tt.method)
		if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tt.field {
			t.Errorf("NewPayment(%v) error = %v, want invalid %q", tt.field, err, tt.field)
		}
	}
}

func TestPaymentLedger(t *testing.T) {
	p := newPayment(t)
	status := func(want billing.Status) {
		t.Helper()
		if got, err := p.Status(); err != nil || got != want {
			t.Fatalf("Status = %v, %v, want %v", got, err, want)
		}
	}
	status(billing.StatusPending)
	k0 := p.KeyFor(billing.OpPurchase)
	if k0 != p.KeyFor(billing.OpPurchase) {
		t.Fatal("KeyFor changes without a new entry")
	}
	// A decline: the next try is a new request, under a new key.
	p.Declined()
	k1 := p.KeyFor(billing.OpPurchase)
	if k1 == k0 || k1.Validate("test") != nil {
		t.Fatalf("the key after a decline = %q (before: %q)", k1, k0)
	}
	if _, err := p.Record(billing.Result{Ref: "desk-1", Kind: billing.EntryCharged, Amount: usd(5000), At: t0}, k1, desk, ""); err != nil {
		t.Fatal(err)
	}
	status(billing.StatusPaid)
	if p.Ref != "desk-1" {
		t.Fatalf("Ref = %q", p.Ref)
	}
	if p.KeyFor(billing.OpRefund) == billing.DeriveKey(p.ID, billing.OpRefund, 1) {
		t.Fatal("the next step's key does not move on")
	}
	if _, err := p.Record(billing.Result{Ref: "other", Kind: billing.EntryRefunded, Amount: usd(1), At: t0}, "k", desk, ""); !errs.Is(err, errs.KindConflict) || errs.FieldOf(err) != "ref" {
		t.Fatalf("Record of another ref error = %v", err)
	}
	if _, err := p.Record(billing.Result{Ref: "desk-1", Kind: billing.EntryRefunded, Amount: usd(5001), At: t0}, "k", desk, ""); !errs.Is(err, errs.KindConflict) {
		t.Fatalf("over-refund error = %v", err)
	}
	if len(p.Ledger) != 1 {
		t.Fatalf("a refused entry changed the ledger: %d entries", len(p.Ledger))
	}
	if _, err := p.Record(billing.Result{Ref: "desk-1", Kind: billing.EntryRefunded, Amount: usd(2000), At: t0.Add(time.Hour)}, "k2", desk, "overcharged"); err != nil {
		t.Fatal(err)
	}
	status(billing.StatusPartiallyRefunded)
	if _, err := p.Reverse(2, t0.Add(2*time.Hour), desk, ""); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "reason" {
		t.Fatalf("Reverse without a reason error = %v", err)
	}
	if _, err := p.Reverse(9, t0.Add(2*time.Hour), desk, "typo"); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "seq" {
		t.Fatalf("Reverse of no entry error = %v", err)
	}
	if _, err := p.Reverse(1, t0.Add(2*time.Hour), desk, "wrong patient"); !errs.Is(err, errs.KindConflict) {
		t.Fatalf("Reverse of a refunded charge error = %v", err)
	}
	r, err := p.Reverse(2, t0.Add(2*time.Hour), desk, "refund typed on the wrong payment")
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 3 || r.Reverses != 2 || r.Amount != usd(2000) {
		t.Fatalf("reversal = %+v", r)
	}
	status(billing.StatusPaid)
	if _, err := p.Record(billing.Result{Ref: "desk-1", Kind: billing.EntryRefunded, Amount: usd(5000), At: t0.Add(3 * time.Hour)}, "k4", desk, ""); err != nil {
		t.Fatal(err)
	}
	status(billing.StatusRefunded)
	if got := len(p.Ledger); got != 4 {
		t.Fatalf("ledger has %d entries, want 4", got)
	}
}

func TestPaymentStatusHoldAndCancel(t *testing.T) {
	p := newPayment(t)
	if _, err := p.Append(billing.Entry{Kind: billing.EntryAuthorized, Amount: usd(5000), At: t0}); err != nil {
		t.Fatal(err)
	}
	if s, _ := p.Status(); s != billing.StatusAuthorized {
		t.Fatalf("Status = %v", s)
	}
	if _, err := p.Append(billing.Entry{Kind: billing.EntryCanceled, Amount: usd(5000), At: t0}); err != nil {
		t.Fatal(err)
	}
	if s, _ := p.Status(); s != billing.StatusCanceled {
		t.Fatalf("Status = %v", s)
	}
}
