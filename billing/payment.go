package billing

import (
	"strconv"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// PaymentID identifies a payment (UUIDv7).
type PaymentID = uuid.UUID

// EntryKind is what one ledger entry records.
type EntryKind string

// The kinds of ledger entry.
const (
	EntryAuthorized EntryKind = "authorized" // money held (Authorize)
	EntryCharged    EntryKind = "charged"    // money taken at once (Purchase)
	EntryCaptured   EntryKind = "captured"   // all or part of the hold taken; the rest released
	EntryCanceled   EntryKind = "canceled"   // the whole hold released, nothing taken
	EntryRefunded   EntryKind = "refunded"   // all or part of what was taken given back
	EntryReversed   EntryKind = "reversed"   // an earlier entry recorded by mistake, undone
)

// Valid reports whether k is one of the entry kinds above.
func (k EntryKind) Valid() bool {
	switch k {
	case EntryAuthorized, EntryCharged, EntryCaptured, EntryCanceled, EntryRefunded, EntryReversed:
		return true
	}
	return false
}

// Entry is one line of a payment's ledger. Entries are only ever appended.
type Entry struct {
	Seq    int // 1, 2, 3… in the order appended
	Kind   EntryKind
	Amount Money // what moved; a reversal carries the amount of the entry it undoes
	At     time.Time
	By     actor.Actor // who did it (the desk operator, the patient, a job)
	Key    Key         // the idempotency key the adapter was called with; "" for a reversal
	// ProviderTx is the provider's ID of the operation, for reconciliation.
	ProviderTx string
	// Reverses is, for a reversal, the Seq of the entry it undoes; 0 otherwise.
	Reverses int
	Reason   string // why (a refund, a cancellation, a reversal)
}

// Totals sum a ledger's entries, reversed entries left out.
type Totals struct {
	Held     Money // on hold: capturable or cancelable
	Paid     Money // taken: charged or captured
	Refunded Money // given back
	Net      Money // Paid less Refunded: what the practice keeps
	Released Money // held and let go: canceled, or the rest of a partial capture
}

// Summarize checks a ledger of entries in currency against the rules and
// sums it. It is a pure function; the rules are:
//   - entries are numbered 1, 2, 3… and carry a known kind, a time, and an
//     amount in currency that is more than zero;
//   - a payment opens once, with an authorization or a charge;
//   - a capture takes at most the open hold and closes it; a cancellation
//     releases exactly the open hold, if nothing was captured from it;
//   - refunds never exceed what was taken;
//   - a reversal undoes one earlier entry that is not itself a reversal and
//     was not undone before, with that entry's amount; the ledger without
//     the undone entries must keep every rule above.
//
// A broken rule is an error of errs.KindConflict (what the state forbids)
// or errs.KindInvalid (a malformed entry, naming its field).
func Summarize(currency Currency, entries []Entry) (Totals, error) {
	const op = "billing.Summarize"
	zero := Money{Currency: currency}
	t := Totals{Held: zero, Paid: zero, Refunded: zero, Net: zero, Released: zero}
	if !currency.Known() {
		return t, errs.Invalid(op, "currency", "unknown currency "+quote(string(currency)))
	}
	undone := map[int]bool{}
	for i, e := range entries {
		if e.Seq != i+1 {
			return t, errs.Invalid(op, "seq", "entry "+strconv.Itoa(i+1)+" is numbered "+strconv.Itoa(e.Seq))
		}
		if !e.Kind.Valid() {
			return t, errs.Invalid(op, "kind", "unknown entry kind "+quote(string(e.Kind)))
		}
		if e.At.IsZero() {
			return t, errs.Invalid(op, "at", "entry "+strconv.Itoa(e.Seq)+" has no time")
		}
		if err := positive(op, "amount", e.Amount); err != nil {
			return t, err
		}
		if e.Amount.Currency != currency {
			return t, errs.Invalid(op, "amount.currency", "the amount is in "+string(e.Amount.Currency)+", the payment in "+string(currency))
		}
		if e.Kind != EntryReversed {
			if e.Reverses != 0 {
				return t, errs.Invalid(op, "reverses", "only a reversal undoes an entry")
			}
			continue
		}
		if e.Reverses < 1 || e.Reverses >= e.Seq {
			return t, errs.Invalid(op, "reverses", "a reversal undoes an earlier entry")
		}
		target := entries[e.Reverses-1]
		switch {
		case target.Kind == EntryReversed:
			return t, errs.Conflict(op, "a reversal cannot be reversed")
		case undone[target.Seq]:
			return t, errs.Conflict(op, "entry "+strconv.Itoa(target.Seq)+" is already reversed")
		case target.Amount != e.Amount:
			return t, errs.Invalid(op, "amount", "a reversal carries the amount of the entry it undoes")
		}
		undone[target.Seq] = true
	}
	opened, holdOpen, captured := false, false, false
	for _, e := range entries {
		if e.Kind == EntryReversed || undone[e.Seq] {
			continue
		}
		n := strconv.Itoa(e.Seq)
		switch e.Kind {
		case EntryAuthorized, EntryCharged:
			if opened {
				return t, errs.Conflict(op, "entry "+n+": the payment is already open")
			}
			opened = true
			if e.Kind == EntryAuthorized {
				holdOpen, t.Held = true, e.Amount
			} else {
				t.Paid = e.Amount
			}
		case EntryCaptured:
			if !holdOpen {
				return t, errs.Conflict(op, "entry "+n+": no open hold to capture")
			}
			if e.Amount.Amount > t.Held.Amount {
				return t, errs.Conflict(op, "entry "+n+": the capture of "+e.Amount.String()+" exceeds the hold of "+t.Held.String())
			}
			t.Paid = plus(t.Paid, e.Amount)
			t.Released = Money{Amount: t.Held.Amount - e.Amount.Amount, Currency: currency}
			holdOpen, captured, t.Held = false, true, zero
		case EntryCanceled:
			if captured {
				return t, errs.Conflict(op, "entry "+n+": the hold was captured and cannot be canceled")
			}
			if !holdOpen {
				return t, errs.Conflict(op, "entry "+n+": no open hold to cancel")
			}
			if e.Amount != t.Held {
				return t, errs.Invalid(op, "amount", "a cancellation releases the whole hold of "+t.Held.String())
			}
			t.Released, holdOpen, t.Held = e.Amount, false, zero
		case EntryRefunded:
			if e.Amount.Amount > t.Paid.Amount-t.Refunded.Amount {
				return t, errs.Conflict(op, "entry "+n+": the refund of "+e.Amount.String()+" exceeds the "+Money{Amount: t.Paid.Amount - t.Refunded.Amount, Currency: currency}.String()+" left to refund")
			}
			t.Refunded = plus(t.Refunded, e.Amount)
		}
	}
	t.Net = Money{Amount: t.Paid.Amount - t.Refunded.Amount, Currency: currency}
	return t, nil
}

// plus adds two amounts of one currency. The rules keep every total at
// most one entry's amount (a payment opens once; refunds never exceed it),
// so the sum cannot overflow.
func plus(a, b Money) Money { return Money{Amount: a.Amount + b.Amount, Currency: a.Currency} }

// Status is where a payment stands, derived from its ledger.
type Status string

// The statuses of a payment.
const (
	StatusPending           Status = "pending"            // nothing held or taken
	StatusAuthorized        Status = "authorized"         // held, not yet captured
	StatusPaid              Status = "paid"               // taken, nothing refunded
	StatusPartiallyRefunded Status = "partially_refunded" // taken, part given back
	StatusRefunded          Status = "refunded"           // all given back
	StatusCanceled          Status = "canceled"           // the hold released, nothing taken
)

// Payment is one payment of a practice (a visit's deposit, its fee, a
// no-show fee) with its ledger. It is never deleted: its state is the sum
// of its entries, and a mistake is corrected by a reversal (Reverse).
// A Payment is a value the caller keeps; it is not safe for concurrent use.
type Payment struct {
	ID       PaymentID
	Practice tenant.PracticeID
	// Amount is what is asked of the patient; the ledger tells what was
	// held and taken.
	Amount Money
	Method Method
	Ref    Ref     // the provider's reference, set by the first result recorded
	Ledger []Entry // appended to, never rewritten
	// Provider names the adapter that takes the payment: ProviderDesk for
	// the front desk, or the name an online adapter was registered under.
	Provider string
	// Purpose is what the payment is for; Patient and Appointment, when
	// set, whom and which visit it is about.
	Purpose     Purpose
	Patient     *uuid.UUID
	Appointment *uuid.UUID
	CreatedAt   time.Time
	CreatedBy   actor.Actor
	// Declines counts the tries the provider refused (a card declined),
	// which the ledger does not record: each moves KeyFor on, so that the
	// next try is a new request rather than the replay of the refusal (a
	// provider keeps the answer it gave a key, a decline included).
	Declines int
}

// NewPayment returns a payment of amount (more than zero) by method, with an
// empty ledger. Errors are of errs.KindInvalid naming the field.
func NewPayment(id PaymentID, practice tenant.PracticeID, amount Money, method Method) (*Payment, error) {
	const op = "billing.NewPayment"
	if id == uuid.Nil {
		return nil, errs.Invalid(op, "id", "a payment ID is required")
	}
	if practice == uuid.Nil {
		return nil, errs.Invalid(op, "practice", "a practice is required")
	}
	if err := positive(op, "amount", amount); err != nil {
		return nil, err
	}
	if err := method.Validate(op); err != nil {
		return nil, err
	}
	return &Payment{ID: id, Practice: practice, Amount: amount, Method: method}, nil
}

// Totals sums the payment's ledger (see Summarize).
func (p *Payment) Totals() (Totals, error) { return Summarize(p.Amount.Currency, p.Ledger) }

// Status derives where the payment stands from its ledger.
func (p *Payment) Status() (Status, error) {
	t, err := p.Totals()
	if err != nil {
		return "", err
	}
	switch {
	case !t.Held.IsZero():
		return StatusAuthorized, nil
	case !t.Paid.IsZero() && t.Refunded.IsZero():
		return StatusPaid, nil
	case !t.Paid.IsZero() && t.Net.IsZero():
		return StatusRefunded, nil
	case !t.Paid.IsZero():
		return StatusPartiallyRefunded, nil
	case !t.Released.IsZero():
		return StatusCanceled, nil
	}
	return StatusPending, nil
}

// KeyFor returns the idempotency key of the payment's next step, doing op:
// it depends on the ledger recorded so far and on the declines (Declined),
// so a retry made before the result was recorded sends the key of the
// first try, and the step after a recorded one, or a try after a decline,
// gets a new key.
func (p *Payment) KeyFor(op Operation) Key {
	k := DeriveKey(p.ID, op, len(p.Ledger)+1)
	if p.Declines > 0 {
		k += Key("-retry-" + strconv.Itoa(p.Declines))
	}
	return k
}

// Declined records that the provider refused the step just tried, as a
// decision about the payment (a card declined, insufficient funds), not a
// failure to reach it (which is retried under the same key): the next
// KeyFor is a new key.
func (p *Payment) Declined() { p.Declines++ }

// Append numbers e as the ledger's next entry and appends it if the ledger
// with it keeps every rule of Summarize; otherwise the ledger is unchanged
// and the error says which rule.
func (p *Payment) Append(e Entry) (Entry, error) {
	e.Seq = len(p.Ledger) + 1
	next := append(p.Ledger[:len(p.Ledger):len(p.Ledger)], e)
	if _, err := Summarize(p.Amount.Currency, next); err != nil {
		return Entry{}, err
	}
	p.Ledger = next
	return e, nil
}

// Record appends the entry of an adapter's result, made with key by by.
// The first result recorded sets the payment's Ref; a result about another
// Ref is refused with errs.KindConflict naming "ref".
func (p *Payment) Record(r Result, key Key, by actor.Actor, reason string) (Entry, error) {
	if p.Ref != "" && r.Ref != p.Ref {
		return Entry{}, &errs.Error{Kind: errs.KindConflict, Op: "billing.Payment.Record", Field: "ref", Msg: "the result is about another payment"}
	}
	e, err := p.Append(Entry{Kind: r.Kind, Amount: r.Amount, At: r.At, By: by, Key: key, ProviderTx: r.ProviderTx, Reason: reason})
	if err != nil {
		return Entry{}, err
	}
	if p.Ref == "" {
		p.Ref = r.Ref
	}
	return e, nil
}

// Reverse appends a reversal of entry seq, made at at by by for reason (a
// cash payment recorded twice, a refund typed on the wrong payment). It
// moves no money at a provider: undoing a real charge is a refund. A reason
// is required (errs.KindInvalid naming "reason"), and the ledger without the
// undone entry must keep every rule (a charge that was since refunded cannot
// be reversed before its refund).
func (p *Payment) Reverse(seq int, at time.Time, by actor.Actor, reason string) (Entry, error) {
	const op = "billing.Payment.Reverse"
	if reason == "" {
		return Entry{}, errs.Invalid(op, "reason", "a reversal needs a reason")
	}
	if seq < 1 || seq > len(p.Ledger) {
		return Entry{}, errs.Invalid(op, "seq", "no entry "+strconv.Itoa(seq)+" in the ledger")
	}
	return p.Append(Entry{Kind: EntryReversed, Amount: p.Ledger[seq-1].Amount, At: at, By: by, Reverses: seq, Reason: reason})
}
