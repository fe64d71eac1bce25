// Package offline is the billing.Adapter of the front desk: payments taken in
// person by cash, on the practice's card terminal, by cheque, or as an
// insurance plan's copay. It moves no money itself: it records who took the
// payment, by which method and with which outside reference (the terminal's
// slip, the cheque's number, the claim), in a billing.Payment ledger held to
// the same rules as every other adapter's, and prints receipts that are the
// same every time they are printed.
//
// A Desk keeps its ledgers in memory, for one practice; the caller records
// each Result in its own stored billing.Payment (Payment.Record), which is the
// durable record, and gives a new desk the payments it needs with Load.
package offline

import (
	"context"
	"strconv"
	"sync"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Desk takes a practice's payments at the front desk. It is safe for
// concurrent use. Its ledgers are its idempotency record: a key names the
// entry it made, and a replay answers that entry.
type Desk struct {
	practice tenant.PracticeID
	clock    clock.Clock

	mu       sync.Mutex
	payments map[billing.Ref]*billing.Payment
	keys     map[billing.Key]made
}

// made is where a key's entry is: its payment and its Seq.
type made struct {
	ref billing.Ref
	seq int
}

var _ billing.Adapter = (*Desk)(nil)

// New returns the desk of practice, telling time by c.
func New(practice tenant.PracticeID, c clock.Clock) (*Desk, error) {
	const op = "offline.New"
	if practice == uuid.Nil {
		return nil, errs.Invalid(op, "practice", "a practice is required")
	}
	if c == nil {
		return nil, errs.Invalid(op, "clock", "a clock is required")
	}
	return &Desk{practice: practice, clock: c, payments: map[billing.Ref]*billing.Payment{}, keys: map[billing.Key]made{}}, nil
}

// Load gives the desk a payment recorded earlier (read from the store), so
// that a desk made after a restart, or on another replica, answers replays
// of its steps and takes its next ones. The payment must be the practice's,
// a desk payment (its Ref empty or RefOf its ID), with a ledger that keeps
// billing's rules and uses each key once; errors are of errs.KindInvalid
// naming the field, or errs.KindConflict if the desk already holds it.
func (d *Desk) Load(p *billing.Payment) error {
	const op = "offline.Desk.Load"
	if p.Practice != d.practice {
		return errs.Invalid(op, "practice", "the payment is another practice's")
	}
	ref := RefOf(p.ID)
	if p.Ref != "" && p.Ref != ref {
		return errs.Invalid(op, "ref", "not a desk payment")
	}
	if !p.Method.Kind.AtDesk() {
		return errs.Invalid(op, "method.kind", "not a desk payment")
	}
	if _, err := p.Totals(); err != nil {
		return err
	}
	cp := *p
	cp.Ref = ref
	cp.Ledger = append([]billing.Entry(nil), p.Ledger...)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.payments[ref]; ok {
		return errs.Conflict(op, "the desk already holds this payment")
	}
	seen := map[billing.Key]bool{}
	for _, e := range cp.Ledger {
		if e.Key == "" {
			continue
		}
		if _, taken := d.keys[e.Key]; taken || seen[e.Key] {
			return errs.Invalid(op, "ledger.key", "the idempotency key "+string(e.Key)+" is used twice")
		}
		seen[e.Key] = true
	}
	for _, e := range cp.Ledger {
		if e.Key != "" {
			d.keys[e.Key] = made{ref: ref, seq: e.Seq}
		}
	}
	d.payments[ref] = &cp
	return nil
}

// RefOf returns the Ref the desk gives payment.
func RefOf(payment billing.PaymentID) billing.Ref { return billing.Ref("desk-" + payment.String()) }

// Authorize holds c.Amount on the practice's card terminal (a
// pre-authorization); the other desk methods cannot be held and are
// refused with errs.KindInvalid naming "method.kind".
func (d *Desk) Authorize(_ context.Context, c billing.Charge) (billing.Result, error) {
	const op = "offline.Authorize"
	if err := checkCharge(op, c); err != nil {
		return billing.Result{}, err
	}
	if c.Method.Kind != billing.MethodCardTerminal {
		return billing.Result{}, errs.Invalid(op, "method.kind", "only a card terminal can hold a payment, not "+string(c.Method.Kind))
	}
	return d.open(op, c, billing.EntryAuthorized)
}

// Purchase records a payment taken at once at the desk.
func (d *Desk) Purchase(_ context.Context, c billing.Charge) (billing.Result, error) {
	const op = "offline.Purchase"
	if err := checkCharge(op, c); err != nil {
		return billing.Result{}, err
	}
	return d.open(op, c, billing.EntryCharged)
}

// Capture records the capture of all or part of a terminal's hold.
func (d *Desk) Capture(_ context.Context, f billing.FollowUp) (billing.Result, error) {
	return d.follow("offline.Capture", f, billing.EntryCaptured)
}

// Cancel records the release of a terminal's hold nothing was captured from.
func (d *Desk) Cancel(_ context.Context, f billing.FollowUp) (billing.Result, error) {
	return d.follow("offline.Cancel", f, billing.EntryCanceled)
}

// Refund records money given back at the desk.
func (d *Desk) Refund(_ context.Context, f billing.FollowUp) (billing.Result, error) {
	return d.follow("offline.Refund", f, billing.EntryRefunded)
}

// Payment returns a copy of the desk's ledger of ref, or an error of
// errs.KindNotFound.
func (d *Desk) Payment(ref billing.Ref) (*billing.Payment, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, ok := d.payments[ref]
	if !ok {
		return nil, errs.NotFound("offline.Desk.Payment", "payment")
	}
	cp := *p
	cp.Ledger = append([]billing.Entry(nil), p.Ledger...)
	return &cp, nil
}

func checkCharge(op string, c billing.Charge) error {
	if err := c.Validate(op); err != nil {
		return err
	}
	if c.Payment == uuid.Nil {
		return errs.Invalid(op, "payment", "a payment ID is required")
	}
	if !c.Method.Kind.AtDesk() {
		return errs.Invalid(op, "method.kind", "the desk takes cash, a card terminal, a cheque or an insurance copay, not "+string(c.Method.Kind))
	}
	if c.Method.Kind != billing.MethodCash && c.Method.Reference == "" {
		return errs.Invalid(op, "method.reference", "a "+string(c.Method.Kind)+" payment needs its reference (slip, cheque number or claim)")
	}
	return checkBy(op, c.By)
}

func checkBy(op string, by actor.Actor) error {
	if !by.Valid() || by.Kind != actor.Staff {
		return errs.Invalid(op, "by", "a desk payment is taken by a member of staff")
	}
	return nil
}

// remember runs fn under key, holding the desk's lock: a key that made an
// entry answers that entry's result if same says the request is the one
// that made it, and is refused otherwise; a new key runs fn, whose entry
// the key then names.
func (d *Desk) remember(op string, key billing.Key, same func(p *billing.Payment, e billing.Entry) bool, fn func() (billing.Result, error)) (billing.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if m, ok := d.keys[key]; ok {
		p := d.payments[m.ref]
		e := p.Ledger[m.seq-1]
		if !same(p, e) {
			return billing.Result{}, &errs.Error{Kind: errs.KindConflict, Op: op, Field: "key", Msg: "the idempotency key was used for another request"}
		}
		return result(m.ref, e), nil
	}
	r, err := fn()
	if err != nil {
		return billing.Result{}, err
	}
	d.keys[key] = made{ref: r.Ref, seq: d.payments[r.Ref].Ledger[len(d.payments[r.Ref].Ledger)-1].Seq}
	return r, nil
}

func (d *Desk) open(op string, c billing.Charge, kind billing.EntryKind) (billing.Result, error) {
	same := func(p *billing.Payment, e billing.Entry) bool {
		return e.Kind == kind && p.ID == c.Payment && e.Amount == c.Amount && p.Method.Kind == c.Method.Kind && p.Method.Reference == c.Method.Reference
	}
	return d.remember(op, c.Key, same, func() (billing.Result, error) {
		ref := RefOf(c.Payment)
		p, ok := d.payments[ref]
		if !ok {
			var err error
			if p, err = billing.NewPayment(c.Payment, d.practice, c.Amount, c.Method); err != nil {
				return billing.Result{}, err
			}
		}
		r, err := d.append(op, ref, p, billing.Entry{Kind: kind, Amount: c.Amount, By: c.By, Key: c.Key, Reason: c.Description})
		if err != nil {
			return billing.Result{}, err
		}
		d.payments[ref] = p
		return r, nil
	})
}

func (d *Desk) follow(op string, f billing.FollowUp, kind billing.EntryKind) (billing.Result, error) {
	if err := f.Validate(op, kind == billing.EntryCanceled); err != nil {
		return billing.Result{}, err
	}
	if err := checkBy(op, f.By); err != nil {
		return billing.Result{}, err
	}
	same := func(p *billing.Payment, e billing.Entry) bool {
		if e.Kind != kind || p.Ref != f.Ref {
			return false
		}
		if kind == billing.EntryCanceled && f.Amount.IsZero() {
			return f.Amount.Currency == "" || f.Amount.Currency == e.Amount.Currency
		}
		return e.Amount == f.Amount
	}
	return d.remember(op, f.Key, same, func() (billing.Result, error) {
		p, ok := d.payments[f.Ref]
		if !ok {
			return billing.Result{}, errs.NotFound(op, "payment")
		}
		amount := f.Amount
		if amount.Currency != "" && amount.Currency != p.Amount.Currency {
			return billing.Result{}, errs.Invalid(op, "amount.currency", "the amount is in "+string(amount.Currency)+", the payment in "+string(p.Amount.Currency))
		}
		if kind == billing.EntryCanceled && amount.IsZero() {
			t, err := p.Totals()
			if err != nil {
				return billing.Result{}, err
			}
			if t.Held.IsZero() {
				return billing.Result{}, errs.Conflict(op, "no open hold to cancel")
			}
			amount = t.Held
		}
		return d.append(op, f.Ref, p, billing.Entry{Kind: kind, Amount: amount, By: f.By, Key: f.Key, Reason: f.Reason})
	})
}

// result is the Result of entry e of the payment ref.
func result(ref billing.Ref, e billing.Entry) billing.Result {
	return billing.Result{Ref: ref, Kind: e.Kind, Amount: e.Amount, ProviderTx: string(ref) + "-" + strconv.Itoa(e.Seq), At: e.At}
}

// append adds e to p's ledger at the clock's time, under billing's rules.
func (d *Desk) append(op string, ref billing.Ref, p *billing.Payment, e billing.Entry) (billing.Result, error) {
	e.At = d.clock.Now().UTC()
	e, err := p.Append(e)
	if err != nil {
		if ee, ok := errs.As(err); ok {
			cp := *ee
			cp.Op = op
			return billing.Result{}, &cp
		}
		return billing.Result{}, err
	}
	p.Ref = ref
	return result(ref, e), nil
}
