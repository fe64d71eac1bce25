package billing

import (
	"strconv"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Collect is when and how a practice asks for a visit's money.
type Collect string

// The ways of collecting a visit's money.
const (
	CollectAtDesk     Collect = "desk"         // paid at the desk, after or before the visit
	CollectDeposit    Collect = "deposit"      // a deposit held when the visit is booked, the rest at the desk
	CollectPrepay     Collect = "prepay"       // the whole price paid online before the visit
	CollectCardOnFile Collect = "card_on_file" // a card saved when booking, charged only for fees
)

// Valid reports whether c is one of the ways above.
func (c Collect) Valid() bool {
	switch c {
	case CollectAtDesk, CollectDeposit, CollectPrepay, CollectCardOnFile:
		return true
	}
	return false
}

// Online reports whether c needs the patient to pay, or save a card,
// online when booking.
func (c Collect) Online() bool { return c.Valid() && c != CollectAtDesk }

// MaxPercent is the largest percentage a fee may take of a visit's price.
const MaxPercent = 100

// Fee is a fee the practice charges on its own: a fixed amount, or a
// percentage of the visit's price; the zero Fee charges nothing.
type Fee struct {
	Fixed   Money // a fixed amount (Amount 0: none)
	Percent int   // 0..MaxPercent of the visit's price, when Fixed is zero
}

// IsZero reports whether f charges nothing.
func (f Fee) IsZero() bool { return f.Fixed.Amount == 0 && f.Percent == 0 }

// Of returns what f charges on a visit of price: the fixed amount, or the
// percentage of price rounded half up to the minor unit.
func (f Fee) Of(price Money) Money {
	if f.Fixed.Amount > 0 {
		return f.Fixed
	}
	return Money{Amount: (price.Amount*int64(f.Percent) + 50) / 100, Currency: price.Currency}
}

// Policy is a practice's rule for a visit's money: the practice's default
// (VisitType nil) or one visit type's.
type Policy struct {
	Practice  tenant.PracticeID
	VisitType *uuid.UUID // nil: the practice's default for visit types without their own
	// Collect is how the visit is paid; FirstVisit, when set, replaces it
	// for a patient new to the practice's provider.
	Collect    Collect
	FirstVisit Collect
	// Price is what the visit costs, in the practice's currency; Deposit
	// what CollectDeposit holds of it.
	Price   Money
	Deposit Money
	// NoShow is charged when the visit moves to no-visit; LateCancel when
	// the patient cancels it inside the cancellation cut-off. Each at most
	// once per appointment.
	NoShow     Fee
	LateCancel Fee
	UpdatedAt  time.Time
	UpdatedBy  actor.Actor
}

// DefaultPolicy is the policy of a practice that set none: pay at the desk,
// no fees.
func DefaultPolicy(practice tenant.PracticeID) *Policy {
	return &Policy{Practice: practice, Collect: CollectAtDesk}
}

// Validate checks p; errors are of errs.KindInvalid and name the field
// ("collect", "first_visit", "price", "deposit", "no_show.fixed",
// "late_cancel.percent"…).
func (p *Policy) Validate() error {
	const op = "billing.Policy"
	if p.Practice == uuid.Nil {
		return errs.Invalid(op, "practice", "a practice is required")
	}
	if !p.Collect.Valid() {
		return errs.Invalid(op, "collect", `must be "desk", "deposit", "prepay" or "card_on_file"`)
	}
	if p.FirstVisit != "" && !p.FirstVisit.Valid() {
		return errs.Invalid(op, "first_visit", `must be empty, "desk", "deposit", "prepay" or "card_on_file"`)
	}
	needsPrice := p.Collect == CollectPrepay || p.FirstVisit == CollectPrepay || p.NoShow.Percent > 0 || p.LateCancel.Percent > 0
	if needsPrice || p.Price.Amount > 0 {
		if err := positive(op, "price", p.Price); err != nil {
			return err
		}
	}
	cur := p.Price.Currency
	if p.Collect == CollectDeposit || p.FirstVisit == CollectDeposit {
		if err := positive(op, "deposit", p.Deposit); err != nil {
			return err
		}
		if cur == "" {
			cur = p.Deposit.Currency
		}
		if p.Deposit.Currency != cur {
			return errs.Invalid(op, "deposit.currency", "the deposit must be in the price's currency, "+string(cur))
		}
		if p.Price.Amount > 0 && p.Deposit.Amount > p.Price.Amount {
			return errs.Invalid(op, "deposit", "the deposit cannot exceed the price of "+p.Price.String())
		}
	}
	for _, f := range []struct {
		name string
		fee  Fee
	}{{"no_show", p.NoShow}, {"late_cancel", p.LateCancel}} {
		if err := f.fee.validate(op, f.name, cur); err != nil {
			return err
		}
	}
	return nil
}

func (f Fee) validate(op, name string, currency Currency) error {
	if f.Percent < 0 || f.Percent > MaxPercent {
		return errs.Invalid(op, name+".percent", "must be 0 to "+strconv.Itoa(MaxPercent))
	}
	if f.Fixed.Amount == 0 {
		return nil
	}
	if f.Percent != 0 {
		return errs.Invalid(op, name, "a fee is a fixed amount or a percentage, not both")
	}
	if err := positive(op, name+".fixed", f.Fixed); err != nil {
		return err
	}
	if currency != "" && f.Fixed.Currency != currency {
		return errs.Invalid(op, name+".fixed.currency", "the fee must be in the price's currency, "+string(currency))
	}
	return nil
}

// CollectFor returns how p collects a visit of a patient new to the
// provider (firstVisit) or not.
func (p *Policy) CollectFor(firstVisit bool) Collect {
	if firstVisit && p.FirstVisit != "" {
		return p.FirstVisit
	}
	return p.Collect
}

// FeeFor returns the fee p charges for purpose (PurposeNoShowFee or
// PurposeLateCancel), and false when there is none.
func (p *Policy) FeeFor(purpose Purpose) (Money, bool) {
	var f Fee
	switch purpose {
	case PurposeNoShowFee:
		f = p.NoShow
	case PurposeLateCancel:
		f = p.LateCancel
	default:
		return Money{}, false
	}
	if f.IsZero() {
		return Money{}, false
	}
	m := f.Of(p.Price)
	return m, m.Amount > 0
}

// FeeOf tells which fee an appointment's change causes, if any: a no-show
// fee when it moves to no-visit ("no-visit"), a late-cancellation fee when
// the patient themself cancels it ("cancel", byPatient) at a time at which
// the visit starts within the practice's cancellation cut-off. Staff
// canceling, or any other change, causes none.
func FeeOf(action string, byPatient bool, at, start time.Time, cutoff time.Duration) (Purpose, bool) {
	switch {
	case action == "no-visit":
		return PurposeNoShowFee, true
	case action == "cancel" && byPatient && at.Add(cutoff).After(start):
		return PurposeLateCancel, true
	}
	return "", false
}
