package sqlstore

import (
	"context"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Trials and the read-only state (billing.UsageStore):
// billing_payment_methods holds one payment method a practice, for the
// operator's invoices; practice_read_only one row per reason a practice is
// read-only, so that a trial's end and a failed payment are restored each
// by its own remedy.

type paymentMethodRow struct {
	bun.BaseModel `bun:"table:billing_payment_methods,alias:bpm"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	Provider   string    `bun:"provider"`
	SetupRef   string    `bun:"setup_ref"`
	Token      string    `bun:"token"`
	Label      string    `bun:"label"`
	SavedAt    utcTime   `bun:"saved_at"`
	SavedBy    string    `bun:"saved_by"`
}

type readOnlyRow struct {
	bun.BaseModel `bun:"table:practice_read_only,alias:pro"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	Reason     string    `bun:"reason,pk"`
	Since      utcTime   `bun:"since"`
}

// LockSubscription reads the practice's subscription and holds its row
// until the transaction in ctx ends (FOR UPDATE on PostgreSQL; SQLite's
// one writer); outside a transaction it is KindInternal.
func (s *Billing) LockSubscription(ctx context.Context, practice tenant.PracticeID) (*billing.Subscription, error) {
	const op = "sqlstore.LockSubscription"
	if !s.HasTx(ctx) {
		return nil, errs.E(errs.KindInternal, op, "LockSubscription called outside InTx")
	}
	return s.readSubscription(ctx, op, practice, true)
}

// SetSubscriptionStatus changes the practice's subscription's status
// (billing.UsageStore).
func (s *Billing) SetSubscriptionStatus(ctx context.Context, practice tenant.PracticeID, status billing.SubscriptionStatus, at time.Time) (bool, error) {
	const op = "sqlstore.SetSubscriptionStatus"
	if !status.Valid() {
		return false, errs.Invalid(op, "status", "unknown subscription status "+string(status))
	}
	res, err := s.idb(ctx).NewUpdate().Model((*subscriptionRow)(nil)).
		Set("status = ?, updated_at = ?", string(status), utc(at)).
		Where("practice_id = ?", practice).Exec(ctx)
	if err != nil {
		return false, failure(op, "subscription", err)
	}
	n, err := res.RowsAffected()
	return n == 1, failure(op, "subscription", err)
}

// TrialsEnded lists the trialing subscriptions whose trial ended at or
// before now (billing.UsageStore).
func (s *Billing) TrialsEnded(ctx context.Context, now time.Time, limit int) ([]*billing.Subscription, error) {
	const op = "sqlstore.TrialsEnded"
	if limit <= 0 || limit > 1000 {
		return nil, errs.Invalid(op, "limit", "is 1 to 1000")
	}
	var rows []subscriptionRow
	err := s.idb(ctx).NewSelect().Model(&rows).
		Where("bsu.status = ? AND bsu.trial_end <= ?", string(billing.SubscriptionTrialing), utc(now)).
		Order("bsu.trial_end", "bsu.practice_id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, failure(op, "subscription", err)
	}
	out := make([]*billing.Subscription, len(rows))
	for i := range rows {
		out[i] = rows[i].subscription()
	}
	return out, nil
}

// PutPaymentMethod writes the practice's payment method
// (billing.UsageStore); an unknown practice is KindNotFound.
func (s *Billing) PutPaymentMethod(ctx context.Context, m *billing.PaymentMethod) error {
	row := &paymentMethodRow{PracticeID: m.Practice, Provider: m.Provider, SetupRef: m.SetupRef, Token: m.Token,
		Label: m.Label, SavedAt: utc(m.SavedAt), SavedBy: m.SavedBy}
	_, err := s.idb(ctx).NewInsert().Model(row).
		On("CONFLICT (practice_id) DO UPDATE").
		Set("provider = EXCLUDED.provider, setup_ref = EXCLUDED.setup_ref, token = EXCLUDED.token").
		Set("label = EXCLUDED.label, saved_at = EXCLUDED.saved_at, saved_by = EXCLUDED.saved_by").
		Exec(ctx)
	return failure("sqlstore.PutPaymentMethod", "payment method", err)
}

// PaymentMethod reads the practice's payment method (billing.UsageStore).
func (s *Billing) PaymentMethod(ctx context.Context, practice tenant.PracticeID) (*billing.PaymentMethod, error) {
	var row paymentMethodRow
	if err := s.idb(ctx).NewSelect().Model(&row).Where("bpm.practice_id = ?", practice).Scan(ctx); err != nil {
		return nil, failure("sqlstore.PaymentMethod", "payment method", err)
	}
	return &billing.PaymentMethod{Practice: row.PracticeID, Provider: row.Provider, SetupRef: row.SetupRef, Token: row.Token,
		Label: row.Label, SavedAt: row.SavedAt.Time(), SavedBy: row.SavedBy}, nil
}

// EnterReadOnly records one reason the practice is read-only, once
// (billing.UsageStore).
func (s *Billing) EnterReadOnly(ctx context.Context, ro billing.ReadOnly) (bool, error) {
	const op = "sqlstore.EnterReadOnly"
	if !ro.Reason.Valid() {
		return false, errs.Invalid(op, "reason", `must be "trial_ended" or "payment_failed"`)
	}
	row := &readOnlyRow{PracticeID: ro.Practice, Reason: string(ro.Reason), Since: utc(ro.Since)}
	res, err := s.idb(ctx).NewInsert().Model(row).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return false, failure(op, "read-only state", err)
	}
	n, err := res.RowsAffected()
	return n == 1, failure(op, "read-only state", err)
}

// LeaveReadOnly removes one reason the practice is read-only
// (billing.UsageStore).
func (s *Billing) LeaveReadOnly(ctx context.Context, practice tenant.PracticeID, reason billing.ReadOnlyReason) (bool, error) {
	const op = "sqlstore.LeaveReadOnly"
	res, err := s.idb(ctx).NewDelete().Model((*readOnlyRow)(nil)).
		Where("practice_id = ? AND reason = ?", practice, string(reason)).Exec(ctx)
	if err != nil {
		return false, failure(op, "read-only state", err)
	}
	n, err := res.RowsAffected()
	return n == 1, failure(op, "read-only state", err)
}

// ReadOnly lists the reasons the practice is read-only, the oldest first
// (billing.UsageStore).
func (s *Billing) ReadOnly(ctx context.Context, practice tenant.PracticeID) ([]billing.ReadOnly, error) {
	var rows []readOnlyRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("pro.practice_id = ?", practice).
		Order("pro.since", "pro.reason").Scan(ctx); err != nil {
		return nil, failure("sqlstore.ReadOnly", "read-only state", err)
	}
	out := make([]billing.ReadOnly, len(rows))
	for i, r := range rows {
		out[i] = billing.ReadOnly{Practice: r.PracticeID, Reason: billing.ReadOnlyReason(r.Reason), Since: r.Since.Time()}
	}
	return out, nil
}
