package offline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/billingtest"
	"github.com/carebook/carebook/billing/offline"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

var (
	t0       = time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC)
	practice = uuid.MustParse("01890a5d-0000-7000-8000-000000000001")
	clerk    = actor.Actor{Kind: actor.Staff, ID: "frontdesk-ana"}
)

func newDesk(t testing.TB) *offline.Desk {
	t.Helper()
	d, err := offline.New(practice, clock.NewFixed(t0))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestConformance(t *testing.T) {
	newAdapter := func(t testing.TB) billing.Adapter { return newDesk(t) }
	t.Run("CardTerminal", func(t *testing.T) {
		billingtest.Run(t, newAdapter, billingtest.WithMethod(billing.Method{Kind: billing.MethodCardTerminal, Reference: "slip 004211"}))
	})
	t.Run("Cash", func(t *testing.T) {
		billingtest.Run(t, newAdapter, billingtest.WithMethod(billing.Method{Kind: billing.MethodCash}), billingtest.WithoutHolds())
	})
	t.Run("Cheque", func(t *testing.T) {
		billingtest.Run(t, newAdapter, billingtest.WithMethod(billing.Method{Kind: billing.MethodCheque, Reference: "cheque 1187"}), billingtest.WithoutHolds())
	})
	t.Run("InsuranceCopay", func(t *testing.T) {
		billingtest.Run(t, newAdapter, billingtest.WithMethod(billing.Method{Kind: billing.MethodInsuranceCopay, Reference: "claim AB-22"}), billingtest.WithoutHolds())
	})
}

func TestNewRefusesBadInput(t *testing.T) {
	if _, err := offline.New(uuid.Nil, clock.NewFixed(t0)); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "practice" {
		t.Errorf("no practice: %v", err)
	}
	if _, err := offline.New(practice, nil); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "clock" {
		t.Errorf("no clock: %v", err)
	}
}

func TestDeskRefusesWhatItCannotRecord(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t)
	base := func() billing.Charge {
		id := uuid.New()
		return billing.Charge{Payment: id, Amount: billing.Money{Amount: 2500, Currency: "USD"}, Method: billing.Method{Kind: billing.MethodCheque, Reference: "cheque 7"}, Key: billing.DeriveKey(id, billing.OpPurchase, 1), By: clerk}
	}
	tests := []struct {
		name  string
		edit  func(c *billing.Charge)
		field string
	}{
		{"an online card", func(c *billing.Charge) { c.Method = billing.Method{Kind: billing.MethodCardOnline, Token: "tok"} }, "method.kind"},
		{"a cheque without its number", func(c *billing.Charge) { c.Method.Reference = "" }, "method.reference"},
		{"nobody taking it", func(c *billing.Charge) { c.By = actor.Actor{} }, "by"},
		{"a patient taking it", func(c *billing.Charge) { c.By = actor.Actor{Kind: actor.Patient, ID: "p1"} }, "by"},
		{"no payment", func(c *billing.Charge) { c.Payment = uuid.Nil }, "payment"},
	}
	for _, tt := range tests {
		c := base()
		tt.edit(&c)
		if _, err := d.Purchase(ctx, c); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tt.field {
			t.Errorf("%s: %v, want invalid %q", tt.name, err, tt.field)
		}
	}
	c := base()
	r, err := d.Purchase(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Refund(ctx, billing.FollowUp{Ref: r.Ref, Amount: c.Amount, Key: "refund-1"}); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "by" {
		t.Errorf("a refund by nobody: %v", err)
	}
	// A second payment under the same payment ID, with a new key, is the
	// same payment opened twice.
	again := c
	again.Key = billing.DeriveKey(c.Payment, billing.OpPurchase, 2)
	if _, err := d.Purchase(ctx, again); !errs.Is(err, errs.KindConflict) {
		t.Errorf("the payment opened twice: %v", err)
	}
	if _, err := d.Payment("desk-nope"); !errs.Is(err, errs.KindNotFound) {
		t.Errorf("Payment of an unknown ref: %v", err)
	}
}

// deskPayment takes a cash payment, refunds part of it, and records both
// in the caller's own ledger, as the engine will.
func deskPayment(t *testing.T, c *clock.Fixed) (*offline.Desk, *billing.Payment) {
	t.Helper()
	ctx := context.Background()
	d, err := offline.New(practice, c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := billing.NewPayment(uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8057"), practice, billing.Money{Amount: 8500, Currency: "USD"}, billing.Method{Kind: billing.MethodCheque, Reference: "cheque 1187"})
	if err != nil {
		t.Fatal(err)
	}
	key := p.KeyFor(billing.OpPurchase)
	r, err := d.Purchase(ctx, billing.Charge{Payment: p.ID, Amount: p.Amount, Method: p.Method, Key: key, By: clerk, Description: "visit of 2 March"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Record(r, key, clerk, "visit of 2 March"); err != nil {
		t.Fatal(err)
	}
	c.Advance(20 * time.Minute)
	key = p.KeyFor(billing.OpRefund)
	r, err = d.Refund(ctx, billing.FollowUp{Ref: p.Ref, Amount: billing.Money{Amount: 1500, Currency: "USD"}, Key: key, By: clerk, Reason: "lab fee not due"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Record(r, key, clerk, "lab fee not due"); err != nil {
		t.Fatal(err)
	}
	return d, p
}

const wantReceipt = `Riverside Family Clinic
RECEIPT R-01890a5d-ac96-774b-bcce-b302099a8057
----------------------------------------------------------------
Issued     2026-03-02 09:05 EST
Method     cheque
Reference  cheque 1187
----------------------------------------------------------------
 1 2026-03-02 09:05 EST  paid                      85.00 USD
   by staff:frontdesk-ana
   visit of 2 March
 2 2026-03-02 09:25 EST  refunded                 -15.00 USD
   by staff:frontdesk-ana
   lab fee not due
----------------------------------------------------------------
Paid                85.00 USD
Refunded            15.00 USD
Net                 70.00 USD
Status     partially refunded
`

func TestReceiptIsTheSameEveryTime(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	c := clock.NewFixed(t0)
	d, p := deskPayment(t, c)
	first, err := offline.NewReceipt(p, "Riverside Family Clinic", ny)
	if err != nil {
		t.Fatal(err)
	}
	if got := first.Text(); got != wantReceipt {
		t.Fatalf("receipt:\n%s\nwant:\n%s", got, wantReceipt)
	}
	// Printed again later, from the desk's own ledger this time.
	c.Advance(72 * time.Hour)
	again, err := d.Receipt(p.Ref, "Riverside Family Clinic", ny)
	if err != nil {
		t.Fatal(err)
	}
	if again.Text() != first.Text() {
		t.Fatalf("the reprint differs:\n%s\nfirst:\n%s", again.Text(), first.Text())
	}
	if first.Net != (billing.Money{Amount: 7000, Currency: "USD"}) || first.Status != billing.StatusPartiallyRefunded || len(first.Lines) != 2 {
		t.Fatalf("receipt = %+v", first)
	}
}

func TestReceiptShowsReversals(t *testing.T) {
	c := clock.NewFixed(t0)
	_, p := deskPayment(t, c)
	if _, err := p.Reverse(2, t0.Add(time.Hour), clerk, "refund typed on the wrong payment"); err != nil {
		t.Fatal(err)
	}
	r, err := offline.NewReceipt(p, "Riverside\nFamily Clinic", nil)
	if err != nil {
		t.Fatal(err)
	}
	text := r.Text()
	for _, want := range []string{"Riverside Family Clinic\n", " 3 2026-03-02 15:05 UTC  reversal of 2             15.00 USD\n", "Refunded             0.00 USD\n", "Status     paid\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("receipt lacks %q:\n%s", want, text)
		}
	}
	empty, _ := billing.NewPayment(uuid.New(), practice, billing.Money{Amount: 1, Currency: "USD"}, billing.Method{Kind: billing.MethodCash})
	if _, err := offline.NewReceipt(empty, "x", nil); !errs.Is(err, errs.KindConflict) {
		t.Errorf("the receipt of nothing: %v", err)
	}
}
