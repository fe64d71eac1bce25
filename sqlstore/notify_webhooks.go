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
// so that it counts in Usage.
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
	res, err := s.idb(ctx).NewUpdate().Table("notify_messages").
		Set("status = ?", string(d.Status)).
		Set("provider_id = CASE WHEN provider_id = '' THEN ? ELSE provider_id END", d.ProviderID).
		Set("last_error = CASE WHEN ? = '' THEN last_error ELSE ? END", d.Error, d.Error).
		Set("sent_at = COALESCE(sent_at, ?)", at).
		Set("claim_token = NULL").Set("lease_until = NULL").Set("updated_at = ?", at).
		Where(where, args...).
		Where("status IN (?)", bun.List([]string{string(notify.StatusSent), string(notify.StatusSending), string(notify.StatusDead)})).
		Exec(ctx)
	n, err := rowsAffected(op, "message", res, err)
	if err != nil || n > 0 {
		return n > 0, err
	}
	found, err := s.idb(ctx).NewSelect().Table("notify_messages").Where(where, args...).Exists(ctx)
	if err != nil {
		return false, failure(op, "message", err)
	}
	return found, nil
}

// RememberWebhook records a processed webhook request; KindConflict if it
// was recorded before (a replay).
func (s *Notify) RememberWebhook(ctx context.Context, source, key string, at time.Time) error {
	return s.insertOnce(ctx, "sqlstore.RememberWebhook", "the webhook request was already processed",
		`INSERT INTO notify_webhooks (source, key, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		source, key, utc(at))
}
