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
	var sms, rest []*Message
	if s.quota != nil {
		for _, m := range msgs {
			if m.Channel == SMS {
				sms = append(sms, m)
			} else {
				rest = append(rest, m)
			}
		}
	}
	if len(sms) == 0 {
		return s.store.Enqueue(ctx, msgs...)
	}
	var n int
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if strict {
			// Only the SMS written count (a message queued before is
			// skipped); past the quota, the error rolls them back.
			k, err := s.store.Enqueue(ctx, sms...)
			if err != nil {
				return err
			}
			if k > 0 {
				if err := s.quota.TakeSMS(ctx, practice, k); err != nil {
					return err
				}
			}
			n = k
		} else {
			// The change's SMS are counted before they are written, so
			// that past the quota they are left out and the change goes on.
			err := s.quota.TakeSMS(ctx, practice, len(sms))
			switch {
			case err == nil:
				rest = append(rest, sms...)
			case !errs.Is(err, errs.KindPreconditionFailed):
				return err
			}
		}
		if len(rest) == 0 {
			return nil
		}
		k, err := s.store.Enqueue(ctx, rest...)
		n += k
		return err
	})
	return n, err
}
