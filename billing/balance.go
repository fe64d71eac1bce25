package billing

import (
	"time"

	"github.com/carebook/carebook/errs"
)

// Balance is where a visit's own money stands (its fees aside, which are
// payments of their own): what the visit costs, what was taken or is held
// for it and how, what its payments still ask, and what is left to pay.
// The front desk reads it before taking money, so that a visit paid online
// is not paid again at the desk.
type Balance struct {
	// Due is the visit's price; its Amount is 0 when the practice's policy
	// names none (a deposit whose rest is what the desk says).
	Due Money
	// Parts are the payments that took or hold money for the visit, in the
	// order they were made.
	Parts []BalancePart
	// Taken is what the practice holds or keeps of the visit's money: the
	// holds, and what was taken less what was given back; money taken
	// twice (PurposeOverpaid) is not counted, it is Overpaid.
	Taken Money
	// Pending is what the visit's owed payments (nothing recorded on them
	// yet) ask: the desk takes those with their own Pay at the desk.
	Pending Money
	// Owed is Due less Taken and Pending, never below 0: what a new
	// payment at the desk may take. Without a Due it is 0.
	Owed Money
	// Overpaid is what is to give back by a refund: the payments of money
	// taken twice (PurposeOverpaid) not refunded yet, and what Taken
	// exceeds Due by.
	Overpaid Money
}

// BalancePart is one payment that took or holds money for a visit.
type BalancePart struct {
	Payment  PaymentID
	Provider string // ProviderDesk, or the online adapter's name
	Method   MethodKind
	Purpose  Purpose
	Amount   Money     // held, or taken less given back
	Held     bool      // a hold, not yet taken
	At       time.Time // when it was first recorded
}

// Known reports whether b has a Due: then Owed bounds what the desk takes.
func (b Balance) Known() bool { return b.Due.Amount > 0 }

// Online reports whether the part was paid through an online provider.
func (p BalancePart) Online() bool { return p.Provider != ProviderDesk }

// BalanceOf sums a visit's payments ps (those of one appointment; fees and
// other purposes are left out, see Purpose.Visit) against its price, in price's currency: a payment in another
// currency is KindConflict. A ledger that breaks the rules is Summarize's
// error.
func BalanceOf(price Money, ps []*Payment) (Balance, error) {
	const op = "billing.BalanceOf"
	cur := price.Currency
	for _, p := range ps {
		if cur == "" {
			cur = p.Amount.Currency
		}
	}
	zero := Money{Currency: cur}
	b := Balance{Due: price, Taken: zero, Pending: zero, Owed: zero, Overpaid: zero}
	if b.Due.Currency == "" {
		b.Due = zero
	}
	for _, p := range ps {
		if !p.Purpose.Visit() {
			continue
		}
		if p.Amount.Currency != cur {
			return b, errs.Conflict(op, "the visit's payments are in "+string(p.Amount.Currency)+" and "+string(cur))
		}
		if p.Owed() {
			b.Pending = plus(b.Pending, p.Amount)
			continue
		}
		t, err := p.Totals()
		if err != nil {
			return b, err
		}
		kept := plus(t.Held, t.Net)
		if kept.IsZero() {
			continue
		}
		b.Parts = append(b.Parts, BalancePart{Payment: p.ID, Provider: p.Provider, Method: p.Method.Kind, Purpose: p.Purpose,
			Amount: kept, Held: !t.Held.IsZero(), At: p.Ledger[0].At})
		if p.Purpose == PurposeOverpaid {
			b.Overpaid = plus(b.Overpaid, kept)
			continue
		}
		b.Taken = plus(b.Taken, kept)
	}
	if !b.Known() {
		return b, nil
	}
	left := b.Due.Amount - b.Taken.Amount - b.Pending.Amount
	switch {
	case left > 0:
		b.Owed.Amount = left
	case b.Taken.Amount > b.Due.Amount:
		b.Overpaid.Amount += b.Taken.Amount - b.Due.Amount
	}
	return b, nil
}
