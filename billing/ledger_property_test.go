package billing_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/google/uuid"
)

// TestLedgerInvariants appends random entries (most of them breaking some
// rule) to payments in currencies of 0, 2 and 3 decimals and checks, after
// every accepted one, what must always hold: nothing taken beyond the hold
// or the charge, nothing refunded beyond what was taken, Net = Paid -
// Refunded, and a refused entry leaves the ledger as it was.
func TestLedgerInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2026))
	kinds := []billing.EntryKind{billing.EntryAuthorized, billing.EntryCharged, billing.EntryCaptured, billing.EntryCanceled, billing.EntryRefunded, billing.EntryReversed}
	for _, cur := range []billing.Currency{"JPY", "USD", "KWD"} {
		for run := 0; run < 300; run++ {
			p, err := billing.NewPayment(uuid.New(), uuid.New(), billing.Money{Amount: 1 + rng.Int64N(100000), Currency: cur}, billing.Method{Kind: billing.MethodCardOnline})
			if err != nil {
				t.Fatal(err)
			}
			var opened int64 // the amount of the authorization or charge in force
			at := t0
			for step := 0; step < 12; step++ {
				at = at.Add(time.Minute)
				before := len(p.Ledger)
				kind := kinds[rng.IntN(len(kinds))]
				var err error
				if kind == billing.EntryReversed {
					if before == 0 {
						continue
					}
					_, err = p.Reverse(1+rng.IntN(before), at, desk, "test")
				} else {
					amount := 1 + rng.Int64N(100000)
					if opened > 0 && rng.IntN(2) == 0 {
						amount = 1 + rng.Int64N(opened) // within what is open, more often accepted
					}
					_, err = p.Append(billing.Entry{Kind: kind, Amount: billing.Money{Amount: amount, Currency: cur}, At: at, By: desk})
				}
				if err != nil {
					if len(p.Ledger) != before {
						t.Fatalf("a refused %s changed the ledger", kind)
					}
					continue
				}
				tot, err := p.Totals()
				if err != nil {
					t.Fatalf("an accepted ledger does not sum: %v", err)
				}
				opened = openedAmount(p.Ledger)
				if tot.Paid.Amount > opened || tot.Refunded.Amount > tot.Paid.Amount || tot.Held.Amount > opened {
					t.Fatalf("totals %+v break the rules for an opening of %d: %+v", tot, opened, p.Ledger)
				}
				if tot.Net.Amount != tot.Paid.Amount-tot.Refunded.Amount {
					t.Fatalf("Net %v is not Paid %v - Refunded %v", tot.Net, tot.Paid, tot.Refunded)
				}
				for _, m := range []billing.Money{tot.Held, tot.Paid, tot.Refunded, tot.Net, tot.Released} {
					if m.Currency != cur || m.Amount < 0 {
						t.Fatalf("a total %v is negative or in another currency than %s", m, cur)
					}
				}
			}
		}
	}
}

// openedAmount returns the amount of the authorization or charge that is
// not reversed, 0 if none.
func openedAmount(ledger []billing.Entry) int64 {
	undone := map[int]bool{}
	for _, e := range ledger {
		if e.Kind == billing.EntryReversed {
			undone[e.Reverses] = true
		}
	}
	for _, e := range ledger {
		if (e.Kind == billing.EntryAuthorized || e.Kind == billing.EntryCharged) && !undone[e.Seq] {
			return e.Amount.Amount
		}
	}
	return 0
}
