package billing

import (
	"context"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// AdapterFor returns the adapter that takes payment p (its Provider's),
// ready for its next step: an adapter that keeps state of its own (the
// desk) is given the payment's ledger first.
type AdapterFor func(ctx context.Context, p *Payment) (Adapter, error)

// Recorder hears of every ledger entry recorded, inside the transaction
// that records it (a receipt to send, a fee's effect on the appointment).
type Recorder func(ctx context.Context, p *Payment, e Entry) error

// Service takes payments through adapters and keeps their ledgers in a
// Store. A step (Do) calls the adapter outside any transaction with the
// key the payment's ledger gives (Payment.KeyFor), then records the result
// in a transaction that holds the payment's row: a retry after a crash
// between the provider's answer and the commit sends the same key and gets
// the first answer back, so money never moves twice, and two steps racing
// on one payment record one entry.
type Service struct {
	store     Store
	clock     clock.Clock
	ids       clock.IDSource
	adapter   AdapterFor
	recorders []Recorder
}

// Option configures a Service.
type Option func(*Service)

// WithRecorder adds r to what hears of every entry recorded.
func WithRecorder(r Recorder) Option {
	return func(s *Service) { s.recorders = append(s.recorders, r) }
}

// NewService returns a Service over store, telling time by c, making IDs
// with ids and finding each payment's adapter with adapter.
func NewService(store Store, c clock.Clock, ids clock.IDSource, adapter AdapterFor, opts ...Option) *Service {
	s := &Service{store: store, clock: c, ids: ids, adapter: adapter}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Store returns the Service's store.
func (s *Service) Store() Store { return s.store }

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// Open is a payment to write before its first step.
type Open struct {
	Practice    tenant.PracticeID
	Provider    string // ProviderDesk, or an online adapter's name
	Amount      Money
	Method      Method
	Purpose     Purpose
	Patient     *uuid.UUID
	Appointment *uuid.UUID
	By          actor.Actor
}

// Open writes a new payment with an empty ledger and returns it. Errors
// are of errs.KindInvalid naming the field; a second fee of one purpose
// for an appointment is errs.KindConflict.
func (s *Service) Open(ctx context.Context, in Open) (*Payment, error) {
	const op = "billing.Open"
	if in.Provider == "" {
		return nil, errs.Invalid(op, "provider", "a payment provider is required")
	}
	if !in.Purpose.Valid() {
		return nil, errs.Invalid(op, "purpose", "unknown purpose "+quote(string(in.Purpose)))
	}
	if in.Purpose.Fee() && in.Appointment == nil {
		return nil, errs.Invalid(op, "appointment", "a fee is charged for an appointment")
	}
	if (in.Provider == ProviderDesk) != in.Method.Kind.AtDesk() {
		return nil, errs.Invalid(op, "method.kind", "the method "+quote(string(in.Method.Kind))+" is not taken by "+quote(in.Provider))
	}
	p, err := NewPayment(s.ids.New(), in.Practice, in.Amount, in.Method)
	if err != nil {
		return nil, err
	}
	p.Provider, p.Purpose, p.Patient, p.Appointment = in.Provider, in.Purpose, in.Patient, in.Appointment
	p.CreatedAt, p.CreatedBy = s.now(), in.By
	if err := s.store.CreatePayment(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Step is one step on a payment: its operation and, for a capture or a
// refund, the amount.
type Step struct {
	Practice tenant.PracticeID
	Payment  PaymentID
	Op       Operation // OpAuthorize, OpPurchase, OpCapture, OpCancel or OpRefund
	Amount   Money     // a capture's or a refund's; the payment's amount for the others
	By       actor.Actor
	Reason   string
	// Description is what an online provider shows of a charge.
	Description string
	// Commit, when set, runs the transaction that records the result in
	// place of the store's InTx (the Engine's guard, so that the
	// activity-log entry commits with the ledger entry).
	Commit func(ctx context.Context, fn func(ctx context.Context) error) error
}

// Do takes the step: it asks the payment's adapter, then records the
// result. A step whose result a racing twin, or an earlier try, already
// recorded returns that entry. A decline (errs.KindPreconditionFailed
// naming "method") is counted, so the next try is a new request.
func (s *Service) Do(ctx context.Context, st Step) (*Payment, Entry, error) {
	const op = "billing.Do"
	p, err := s.store.Payment(ctx, st.Practice, st.Payment)
	if err != nil {
		return nil, Entry{}, err
	}
	a, err := s.adapter(ctx, p)
	if err != nil {
		return nil, Entry{}, err
	}
	key := p.KeyFor(st.Op)
	var r Result
	switch st.Op {
	case OpAuthorize, OpPurchase:
		c := Charge{Payment: p.ID, Amount: p.Amount, Method: p.Method, Key: key, By: st.By, Description: st.Description}
		if st.Op == OpAuthorize {
			r, err = a.Authorize(ctx, c)
		} else {
			r, err = a.Purchase(ctx, c)
		}
	case OpCapture, OpCancel, OpRefund:
		if p.Ref == "" {
			return nil, Entry{}, errs.Conflict(op, "nothing was held or taken on this payment yet")
		}
		f := FollowUp{Ref: p.Ref, Amount: st.Amount, Key: key, By: st.By, Reason: st.Reason}
		switch st.Op {
		case OpCapture:
			r, err = a.Capture(ctx, f)
		case OpCancel:
			r, err = a.Cancel(ctx, f)
		default:
			r, err = a.Refund(ctx, f)
		}
	default:
		return nil, Entry{}, errs.Invalid(op, "op", "unknown step "+quote(string(st.Op)))
	}
	if err != nil {
		if errs.Is(err, errs.KindPreconditionFailed) && errs.FieldOf(err) == "method" {
			if derr := s.declined(ctx, p); derr != nil {
				return nil, Entry{}, derr
			}
		}
		return nil, Entry{}, err
	}
	commit := st.Commit
	if commit == nil {
		commit = s.store.InTx
	}
	var e Entry
	err = commit(ctx, func(ctx context.Context) error {
		cur, err := s.store.LockPayment(ctx, st.Practice, st.Payment)
		if err != nil {
			return err
		}
		p = cur
		if prev := entryKeyed(cur, key); prev != nil {
			e = *prev
			return nil
		}
		if prev := reflected(cur, r); prev != nil {
			e = *prev // a webhook told of it first
			return nil
		}
		e, err = cur.Record(r, key, st.By, st.Reason)
		if err != nil {
			return err
		}
		return s.append(ctx, cur, e)
	})
	if err != nil {
		return nil, Entry{}, err
	}
	return p, e, nil
}

// declined counts a decline of p's current step once, however many
// tries of the same key were refused.
func (s *Service) declined(ctx context.Context, p *Payment) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.LockPayment(ctx, p.Practice, p.ID)
		if err != nil {
			return err
		}
		if cur.Declines != p.Declines || len(cur.Ledger) != len(p.Ledger) {
			return nil
		}
		return s.store.SetDeclines(ctx, p.Practice, p.ID, cur.Declines+1)
	})
}

// Reverse records a reversal of entry seq of a payment (a desk payment
// typed twice), moving no money, for reason. Its Commit works as a
// Step's.
func (s *Service) Reverse(ctx context.Context, practice tenant.PracticeID, id PaymentID, seq int, by actor.Actor, reason string, commit func(ctx context.Context, fn func(ctx context.Context) error) error) (*Payment, Entry, error) {
	if commit == nil {
		commit = s.store.InTx
	}
	var (
		p *Payment
		e Entry
	)
	err := commit(ctx, func(ctx context.Context) error {
		cur, err := s.store.LockPayment(ctx, practice, id)
		if err != nil {
			return err
		}
		if e, err = cur.Reverse(seq, s.now(), by, reason); err != nil {
			return err
		}
		p = cur
		return s.append(ctx, cur, e)
	})
	if err != nil {
		return nil, Entry{}, err
	}
	return p, e, nil
}

// append writes e, the entry just recorded on p, and tells the recorders.
func (s *Service) append(ctx context.Context, p *Payment, e Entry) error {
	if err := s.store.AppendEntry(ctx, p, e); err != nil {
		return err
	}
	for _, r := range s.recorders {
		if err := r(ctx, p, e); err != nil {
			return err
		}
	}
	return nil
}

// entryKeyed returns p's entry made with key, or nil.
func entryKeyed(p *Payment, key Key) *Entry {
	for i := range p.Ledger {
		if p.Ledger[i].Key == key {
			return &p.Ledger[i]
		}
	}
	return nil
}

// reflected returns p's entry that already records r (the same kind of
// operation at the provider), or nil.
func reflected(p *Payment, r Result) *Entry {
	for i := range p.Ledger {
		e := &p.Ledger[i]
		if e.Kind != r.Kind {
			continue
		}
		if r.ProviderTx != "" && e.ProviderTx == r.ProviderTx {
			return e
		}
		// A payment opens once: a second report of its opening is the
		// same one.
		if (r.Kind == EntryAuthorized || r.Kind == EntryCharged) && e.Amount == r.Amount {
			return e
		}
	}
	return nil
}

// webhookActor is who records what a provider's webhook reports.
func webhookActor(provider string) actor.Actor {
	return actor.Actor{Kind: actor.System, ID: "webhook:" + provider}
}

// ApplyEvent applies a provider's verified webhook event once: its ID is
// remembered in the transaction of its effect, so a delivery repeated, or
// racing another, changes nothing. An effect that cannot apply yet (a
// refund reported before the charge it refunds) waits, and applies once
// the events before it have: events may come in any order. applied is
// false when the event was seen before.
func (s *Service) ApplyEvent(ctx context.Context, provider string, ev Event) (applied bool, err error) {
	const op = "billing.ApplyEvent"
	if ev.ID == "" {
		return false, errs.Invalid(op, "id", "the event has no ID")
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		st := StoredEvent{Provider: provider, Event: ev, State: EventApplied, At: s.now()}
		var p *Payment
		if ev.Ref != "" {
			found, err := s.store.PaymentByRef(ctx, provider, ev.Ref)
			switch {
			case errs.Is(err, errs.KindNotFound):
			case err != nil:
				return err
			default:
				// Lock the payment first: the deliveries of its events
				// then take their turns.
				if p, err = s.store.LockPayment(ctx, found.Practice, found.ID); err != nil {
					return err
				}
				st.Practice, st.Payment = p.Practice, &p.ID
			}
		}
		if p == nil && ev.Payment != uuid.Nil {
			found, err := s.store.LockPayment(ctx, ev.Practice, ev.Payment)
			switch {
			case errs.Is(err, errs.KindNotFound):
			case err != nil:
				return err
			default:
				p = found
				st.Practice, st.Payment = p.Practice, &p.ID
				return s.applyCheckout(ctx, provider, p, st, &applied)
			}
		}
		if p == nil || ev.Result.Kind == "" {
			applied, err = s.store.RememberEvent(ctx, st)
			return err
		}
		st.State = EventWaiting
		if applied, err = s.store.RememberEvent(ctx, st); err != nil || !applied {
			return err
		}
		return s.settle(ctx, p, provider)
	})
	return applied, err
}

// applyCheckout applies the event of a hosted checkout (HostedCheckout)
// of p, found by the payment it names, locked in the transaction in ctx.
// One with no Result ended unpaid: counted as a decline, so the next
// attempt gets a new key. One that reports the charge turns an owed
// payment into provider's card payment and records it; a payment that was
// taken otherwise meanwhile (at the desk) keeps its ledger, and the money
// the provider took all the same is recorded on a payment of its own,
// PurposeOverpaid, for the desk to give back (overpaid).
func (s *Service) applyCheckout(ctx context.Context, provider string, p *Payment, st StoredEvent, applied *bool) error {
	var err error
	if len(p.Ledger) > 0 && (p.Provider != provider || st.Event.Result.Kind == "") {
		if *applied, err = s.store.RememberEvent(ctx, st); err != nil || !*applied {
			return err
		}
		if k := st.Event.Result.Kind; p.Provider != provider && (k == EntryCharged || k == EntryAuthorized) {
			return s.overpaid(ctx, provider, p, st.Event.Result)
		}
		return nil
	}
	if st.Event.Result.Kind == "" {
		if *applied, err = s.store.RememberEvent(ctx, st); err != nil || !*applied {
			return err
		}
		return s.store.SetDeclines(ctx, p.Practice, p.ID, p.Declines+1)
	}
	st.State = EventWaiting
	if *applied, err = s.store.RememberEvent(ctx, st); err != nil || !*applied {
		return err
	}
	if p.Provider != provider {
		m := Method{Kind: MethodCardOnline}
		if err := s.store.SetMethod(ctx, p.Practice, p.ID, provider, m); err != nil {
			return err
		}
		p.Provider, p.Method = provider, m
	}
	return s.settle(ctx, p, provider)
}

// overpaid records r, money provider took for p after p was taken
// otherwise, on a new payment of p's patient and appointment
// (PurposeOverpaid) known to the provider by r's Ref: the receipt the
// patient gets for it and the visit's Balance tell of it, and its refund
// gives it back. The provider's later events about r's Ref find it.
func (s *Service) overpaid(ctx context.Context, provider string, p *Payment, r Result) error {
	o, err := NewPayment(s.ids.New(), p.Practice, r.Amount, Method{Kind: MethodCardOnline})
	if err != nil {
		return err
	}
	by := webhookActor(provider)
	o.Provider, o.Purpose, o.Patient, o.Appointment = provider, PurposeOverpaid, p.Patient, p.Appointment
	o.CreatedAt, o.CreatedBy = s.now(), by
	if err := s.store.CreatePayment(ctx, o); err != nil {
		return err
	}
	if r.At.IsZero() {
		r.At = s.now()
	}
	e, err := o.Record(r, "", by, "taken online after payment "+p.ID.String()+" was paid otherwise: to refund")
	if err != nil {
		return err
	}
	return s.append(ctx, o, e)
}

// settle applies p's waiting events, in the order they came, until none
// more applies.
func (s *Service) settle(ctx context.Context, p *Payment, provider string) error {
	for {
		waiting, err := s.store.WaitingEvents(ctx, p.Practice, p.ID)
		if err != nil {
			return err
		}
		progress := false
		for _, w := range waiting {
			ok, err := s.applyEffect(ctx, p, provider, w.Event.Result)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if err := s.store.SettleEvent(ctx, w.Provider, w.Event.ID, s.now()); err != nil {
				return err
			}
			progress = true
		}
		if !progress {
			return nil
		}
	}
}

// applyEffect records r on p unless the ledger has it already; false when
// the ledger's rules refuse it for now.
func (s *Service) applyEffect(ctx context.Context, p *Payment, provider string, r Result) (bool, error) {
	if reflected(p, r) != nil {
		return true, nil
	}
	if r.Ref == "" {
		r.Ref = p.Ref
	}
	if r.At.IsZero() {
		r.At = s.now()
	}
	e, err := p.Record(r, "", webhookActor(provider), "")
	if errs.Is(err, errs.KindConflict) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, s.append(ctx, p, e)
}

// Policy returns the policy of visitType in practice: its own, else the
// practice's default, else DefaultPolicy.
func (s *Service) Policy(ctx context.Context, practice tenant.PracticeID, visitType *uuid.UUID) (*Policy, error) {
	if visitType != nil {
		p, err := s.store.Policy(ctx, practice, visitType)
		if !errs.Is(err, errs.KindNotFound) {
			return p, err
		}
	}
	p, err := s.store.Policy(ctx, practice, nil)
	if errs.Is(err, errs.KindNotFound) {
		return DefaultPolicy(practice), nil
	}
	return p, err
}

// PutPolicy checks and writes p, made by by.
func (s *Service) PutPolicy(ctx context.Context, p *Policy, by actor.Actor) (*Policy, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.UpdatedAt, p.UpdatedBy = s.now(), by
	if err := s.store.PutPolicy(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}
