package offline_test

import (
	"context"
	"fmt"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/offline"
	"github.com/carebook/carebook/clock"
	"github.com/google/uuid"
)

// A front desk operator takes a visit's fee in cash, gives part of it back,
// and prints the receipt. Each step's idempotency key comes from the payment,
// so a retried step is recorded once.
func Example() {
	ctx := context.Background()
	practice := uuid.MustParse("01890a5d-0000-7000-8000-000000000001")
	clk := clock.NewFixed(time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC))
	desk, err := offline.New(practice, clk)
	if err != nil {
		panic(err)
	}
	clerk := actor.Actor{Kind: actor.Staff, ID: "frontdesk-ana"}
	fee := billing.Money{Amount: 6000, Currency: "USD"}
	p, err := billing.NewPayment(uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8057"), practice, fee, billing.Method{Kind: billing.MethodCash})
	if err != nil {
		panic(err)
	}

	key := p.KeyFor(billing.OpPurchase)
	charge := billing.Charge{Payment: p.ID, Amount: fee, Method: p.Method, Key: key, By: clerk}
	r, err := desk.Purchase(ctx, charge)
	if err != nil {
		panic(err)
	}
	retry, _ := desk.Purchase(ctx, charge) // the same key: the same result, nothing taken twice
	fmt.Println("retry answered the first result:", retry == r)
	if _, err := p.Record(r, key, clerk, ""); err != nil {
		panic(err)
	}

	clk.Advance(10 * time.Minute)
	key = p.KeyFor(billing.OpRefund)
	r, err = desk.Refund(ctx, billing.FollowUp{Ref: p.Ref, Amount: billing.Money{Amount: 1000, Currency: "USD"}, Key: key, By: clerk, Reason: "established patient rate"})
	if err != nil {
		panic(err)
	}
	if _, err := p.Record(r, key, clerk, "established patient rate"); err != nil {
		panic(err)
	}
	_, err = desk.Refund(ctx, billing.FollowUp{Ref: p.Ref, Amount: fee, Key: p.KeyFor(billing.OpRefund), By: clerk})
	fmt.Println("refund above what is left:", err)

	receipt, err := offline.NewReceipt(p, "Riverside Family Clinic", time.UTC)
	if err != nil {
		panic(err)
	}
	fmt.Print(receipt.Text())
	// Output:
	// retry answered the first result: true
	// refund above what is left: offline.Refund: entry 3: the refund of 60.00 USD exceeds the 50.00 USD left to refund
	// Riverside Family Clinic
	// RECEIPT R-01890a5d-ac96-774b-bcce-b302099a8057
	// ----------------------------------------------------------------
	// Issued     2026-03-02 14:05 UTC
	// Method     cash
	// ----------------------------------------------------------------
	//  1 2026-03-02 14:05 UTC  paid                      60.00 USD
	//    by staff:frontdesk-ana
	//  2 2026-03-02 14:15 UTC  refunded                 -10.00 USD
	//    by staff:frontdesk-ana
	//    established patient rate
	// ----------------------------------------------------------------
	// Paid                60.00 USD
	// Refunded            10.00 USD
	// Net                 50.00 USD
	// Status     partially refunded
}
