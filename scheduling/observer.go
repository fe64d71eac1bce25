package scheduling

import "context"

// Observer hears of every change to an appointment inside the transaction
// that makes it: ctx carries that transaction, so what the observer writes
// with ctx commits or rolls back with the change, and an error it returns
// undoes the change. Package notify uses it to put confirmations and
// reminders in its outbox atomically with the booking; billing and the
// directory hear of the same changes.
type Observer interface {
	AppointmentChanged(ctx context.Context, a *Appointment, c *Change) error
}

// ObserverFunc makes a function an Observer.
type ObserverFunc func(ctx context.Context, a *Appointment, c *Change) error

// AppointmentChanged calls f.
func (f ObserverFunc) AppointmentChanged(ctx context.Context, a *Appointment, c *Change) error {
	return f(ctx, a, c)
}

// WithObserver adds o to the observers the Service tells of every
// appointment it books, reschedules, moves or moves to another status, in
// the order they were added; the first to fail undoes the change and the
// later ones are not told. A Service with an observer books in a
// transaction (Book alone needs none), so that the observers' writes join
// the booking's.
func WithObserver(o Observer) Option {
	return func(s *Service) { s.observers = append(s.observers, o) }
}

// observe tells the observers of a change written in ctx's transaction.
func (s *Service) observe(ctx context.Context, a *Appointment, c *Change) error {
	for _, o := range s.observers {
		if err := o.AppointmentChanged(ctx, a, c); err != nil {
			return err
		}
	}
	return nil
}

// BlockObserver hears of every change to an availability block (its
// creation, a change of its times, recurrence, exceptions or one-day
// overrides, its deletion) inside the transaction that makes it, after
// the change is written and under the provider's lock: as with Observer,
// what it writes with ctx commits or rolls back with the change, and an
// error it returns undoes the change. before is the block as it was (nil
// for a new block), after as it is now (nil for a deleted one); they are
// the Service's, not to be changed. The directory uses it to keep the next
// open times it shows fresh.
type BlockObserver interface {
	BlockChanged(ctx context.Context, before, after *Block) error
}

// WithBlockObserver adds o to the observers the Service tells of every
// block it creates, changes or deletes, in the order they were added; the
// first to fail undoes the change and the later ones are not told.
func WithBlockObserver(o BlockObserver) Option {
	return func(s *Service) { s.blockObservers = append(s.blockObservers, o) }
}

// observeBlock tells the block observers of a change written in ctx's
// transaction.
func (s *Service) observeBlock(ctx context.Context, before, after *Block) error {
	for _, o := range s.blockObservers {
		if err := o.BlockChanged(ctx, before, after); err != nil {
			return err
		}
	}
	return nil
}

// LateCancel tells whether a patient may still cancel appointment a once
// the practice's cancellation cut-off has begun: true when the practice
// charges a late-cancellation fee for it (billing), so that the patient
// cancels and pays rather than be told to call.
type LateCancel func(ctx context.Context, a *Appointment) (bool, error)

// WithLateCancel lets f allow a patient's cancellation inside the cut-off;
// without it such a cancellation is always refused.
func WithLateCancel(f LateCancel) Option { return func(s *Service) { s.lateCancel = f } }

// lateCancelAllowed asks the Service's LateCancel, if any, about a.
func (s *Service) lateCancelAllowed(ctx context.Context, a *Appointment) (bool, error) {
	if s.lateCancel == nil {
		return false, nil
	}
	return s.lateCancel(ctx, a)
}
