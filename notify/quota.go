package notify

import (
	"context"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
)

// Quota counts the SMS messages a practice's plan allows per period. The
// root package wires it to the practice's subscription (billing).
type Quota interface {
	// TakeSMS counts n more SMS messages of the practice in its current
	// period, in the transaction ctx carries, or refuses them with
	// KindPreconditionFailed (changing nothing, and leaving the transaction
	// usable) when they would pass its plan's quota.
	TakeSMS(ctx context.Context, practice tenant.PracticeID, n int) error
}

// WithQuota makes the Service count the SMS messages it queues against q:
// a campaign whose SMS would pass the quota is refused with q's error and
// queues nothing of its page; the SMS of an appointment's change or a
// receipt are left out (their email and in-app messages are still
// written), so that the change itself is never refused for a quota.
func WithQuota(q Quota) Option { return func(s *Service) { s.quota = q } }

// enqueue writes msgs of practice in the transaction of ctx (or one of its
// own), their SMS counted against the quota first. strict refuses them all
// with the quota's error; otherwise the SMS are left out.
func (s *Service) enqueue(ctx context.Context, practice tenant.PracticeID, strict bool, msgs ...*Message) (int, error) {
	if s.quota == nil {
		return s.store.Enqueue(ctx, msgs...)
	}
	sms := 0
	for _, m := range msgs {
		if m.Channel == SMS {
			sms++
		}
	}
	if sms == 0 {
		return s.store.Enqueue(ctx, msgs...)
	}
	var n int
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		err := s.quota.TakeSMS(ctx, practice, sms)
		switch {
		case err == nil:
		case strict || !errs.Is(err, errs.KindPreconditionFailed):
			return err
		default:
			kept := make([]*Message, 0, len(msgs)-sms)
			for _, m := range msgs {
				if m.Channel != SMS {
					kept = append(kept, m)
				}
			}
			msgs = kept
		}
		if len(msgs) == 0 {
			return nil
		}
		n, err = s.store.Enqueue(ctx, msgs...)
		return err
	})
	return n, err
}
