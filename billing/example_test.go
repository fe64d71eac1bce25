package billing_test

import (
	"fmt"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/google/uuid"
)

// A deposit is held on a card, part of it captured after the visit and some
// of that refunded; a refund typed by mistake is corrected by a reversal.
// Each step's key comes from the payment, and the ledger refuses what the
// rules forbid.
func ExamplePayment() {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	patient := actor.Actor{Kind: actor.Patient, ID: "pat-7"}
	desk := actor.Actor{Kind: actor.Staff, ID: "frontdesk-ana"}
	deposit, _ := billing.NewMoney(10000, "USD")
	p, err := billing.NewPayment(uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8057"), uuid.MustParse("01890a5d-0000-7000-8000-000000000001"),
		deposit, billing.Method{Kind: billing.MethodCardOnline, Token: "pm_card"})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.KeyFor(billing.OpAuthorize))

	// Results as an adapter answers them.
	record := func(op billing.Operation, kind billing.EntryKind, amount int64, by actor.Actor) error {
		_, err := p.Record(billing.Result{Ref: "pi_123", Kind: kind, Amount: billing.Money{Amount: amount, Currency: "USD"}, At: at}, p.KeyFor(op), by, "")
		at = at.Add(time.Hour)
		return err
	}
	fmt.Println(record(billing.OpAuthorize, billing.EntryAuthorized, 10000, patient))
	fmt.Println(record(billing.OpCapture, billing.EntryCaptured, 12000, desk)) // more than the hold
	fmt.Println(record(billing.OpCapture, billing.EntryCaptured, 8000, desk))  // the rest of the hold is released
	fmt.Println(record(billing.OpRefund, billing.EntryRefunded, 3000, desk))
	_, err = p.Reverse(3, at, desk, "refund meant for another patient")
	fmt.Println(err)

	t, _ := p.Totals()
	status, _ := p.Status()
	fmt.Println("paid", t.Paid, "refunded", t.Refunded, "released", t.Released, "status", status)
	// Output:
	// carebook-01890a5d-ac96-774b-bcce-b302099a8057-authorize-1
	// <nil>
	// billing.Summarize: entry 2: the capture of 120.00 USD exceeds the hold of 100.00 USD
	// <nil>
	// <nil>
	// <nil>
	// paid 80.00 USD refunded 0.00 USD released 20.00 USD status paid
}
