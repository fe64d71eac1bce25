package sqlstore

import (
	"context"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// ApplyDelivery applies a provider's status report (see notify.Store). A
// report of a message that was not yet marked sent also sets its SentAt,
// so that it counts in Usage. A report's error is sealed for each message
// it names (it may quote the recipient): such a report first reads the
// messages' practices, in the same transaction.
func (s *Notify) ApplyDelivery(ctx context.Context, d notify.Delivery) (bool, error) {
	const op = "sqlstore.ApplyDelivery"
	switch d.Status {
	case notify.StatusSent, notify.StatusDelivered, notify.StatusUndelivered:
	default:
		return false, errs.Invalid(op, "status", "a delivery report is sent, delivered or undelivered, not "+string(d.Status))
	}
	var where string
	var args []any
	switch {
	case d.MessageID != uuid.Nil:
		where, args = "id = ?", []any{d.MessageID}
	case d.ProviderID != "":
		where, args = "channel = ? AND provider_id = ? AND provider_id <> ''", []any{string(d.Channel), d.ProviderID}
	default:
		return false, errs.Invalid(op, "provider_id", "a delivery report names no message")
	}
	at := utc(d.At)
	update := func(ctx context.Context, sealed []byte, where string, args ...any) (int, error) {
		q := s.idb(ctx).NewUpdate().Table("notify_messages").
			Set("status = ?", string(d.Status)).
			Set("provider_id = CASE WHEN provider_id = '' THEN ? ELSE provider_id END", d.ProviderID).
			Set("sent_at = COALESCE(sent_at, ?)", at).
			Set("claim_token = NULL").Set("lease_until = NULL").Set("updated_at = ?", at).
			Where(where, args...).Where("status IN (?)", deliveryOpen)
		if sealed != nil {
			q = q.Set("last_error = ''").Set("last_error_sealed = ?", sealed)
		}
		res, err := q.Exec(ctx)
		return rowsAffected(op, "message", res, err)
	}
	var n int
	var err error
	if d.Error == "" {
		n, err = update(ctx, nil, where, args...)
	} else {
		// The error is sealed for each message it names: a read of their
		// practices, then an update per message, in one transaction.
		err = s.InTx(ctx, func(ctx context.Context) error {
			targets := []struct {
				ID         uuid.UUID `bun:"id"`
				PracticeID uuid.UUID `bun:"practice_id"`
			}{}
			if err := s.idb(ctx).NewSelect().Table("notify_messages").Column("id", "practice_id").
				Where(where, args...).Where("status IN (?)", deliveryOpen).Scan(ctx, &targets); err != nil {
				return failure(op, "message", err)
			}
			for _, t := range targets {
				sealed, err := s.sealError(ctx, op, t.PracticeID, t.ID, d.Error)
				if err != nil {
					return err
				}
				k, err := update(ctx, sealed, "practice_id = ? AND id = ?", t.PracticeID, t.ID)
				if err != nil {
					return err
				}
				n += k
			}
			return nil
		})
	}
	if err != nil || n > 0 {
		return n > 0, err
	}
	found, err := s.idb(ctx).NewSelect().Table("notify_messages").Where(where, args...).Exists(ctx)
	if err != nil {
		return false, failure(op, "message", err)
	}
	return found, nil
}

// deliveryOpen are the statuses a delivery report changes.
var deliveryOpen = bun.List([]string{string(notify.StatusSent), string(notify.StatusSending), string(notify.StatusDead)})

// RememberWebhook records a processed webhook request; KindConflict if it
// was recorded before (a replay).
func (s *Notify) RememberWebhook(ctx context.Context, source, key string, at time.Time) error {
	return s.insertOnce(ctx, "sqlstore.RememberWebhook", "the webhook request was already processed",
		`INSERT INTO notify_webhooks (source, key, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		source, key, utc(at))
}
