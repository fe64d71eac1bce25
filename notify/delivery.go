package notify

import (
	"context"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// RememberWebhook records that a provider's webhook request, known by keys
// (what the provider signed, or its idempotency token), was processed,
// at the clock's time. It returns KindConflict when any key was seen
// before: the request is a replay. Call it in the transaction that acts on
// the request, so that a request that fails is not remembered.
func (s *Service) RememberWebhook(ctx context.Context, source string, keys ...string) error {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	for _, k := range keys {
		if err := s.store.RememberWebhook(ctx, source, k, now); err != nil {
			return err
		}
	}
	return nil
}

// ApplyDelivery applies a provider's status report (see Store.ApplyDelivery)
// and reports whether it named a known message. With a practice other than
// the nil ID, a report naming a message by its ID (MessageID) is applied
// only when the message is that practice's, so a callback signed for one
// practice cannot change another's messages; otherwise it is ignored, as a
// message not found.
func (s *Service) ApplyDelivery(ctx context.Context, practice tenant.PracticeID, d Delivery) (bool, error) {
	if practice != uuid.Nil && d.MessageID != uuid.Nil {
		if _, err := s.store.Message(ctx, practice, d.MessageID); errs.Is(err, errs.KindNotFound) {
			return false, nil
		} else if err != nil {
			return false, err
		}
	}
	return s.store.ApplyDelivery(ctx, d)
}
