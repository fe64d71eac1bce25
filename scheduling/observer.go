package scheduling

import "context"

// Observer hears of every change to an appointment inside the transaction
// that makes it: what it writes through tx commits or rolls back with the
// change, and an error it returns undoes the change. Package notify uses it
// to put confirmations and reminders in its outbox atomically with the
// booking.
type Observer interface {
	AppointmentChanged(ctx context.Context, tx Store, a *Appointment, c *Change) error
}

// WithObserver makes the Service tell o of every appointment it books,
// reschedules, moves or moves to another status. A Service with an observer
// books in a transaction (Book alone needs none), so that the observer's
// writes join the booking's.
func WithObserver(o Observer) Option { return func(s *Service) { s.observer = o } }

// observe tells the observer, if any, of a change written through tx.
func (s *Service) observe(ctx context.Context, tx Store, a *Appointment, c *Change) error {
	if s.observer == nil {
		return nil
	}
	return s.observer.AppointmentChanged(ctx, tx, a, c)
}
