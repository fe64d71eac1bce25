package sqlstore

import (
	"context"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// The break-glass accesses (ehr.BreakGlasses) are kept in ehr_break_glass:
// the practice, the patient, the account and the times in clear, for the
// access guard's question and the review; the reason sealed, bound to the
// row, as the rights' texts are.

const breakGlassTable = "ehr_break_glass"

type breakGlassRow struct {
	bun.BaseModel `bun:"table:ehr_break_glass,alias:bg"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	ID         uuid.UUID `bun:"id,pk"`
	PatientID  uuid.UUID `bun:"patient_id"`
	AccountID  uuid.UUID `bun:"account_id"`
	OpenedAt   utcTime   `bun:"opened_at"`
	ExpiresAt  utcTime   `bun:"expires_at"`
	Sealed     []byte    `bun:"sealed"`
	SealedKey  int64     `bun:"sealed_key"`
}

// OpenBreakGlass stores b, its reason sealed (ehr.BreakGlasses); b's times
// are set to what is stored.
func (s *EHR) OpenBreakGlass(ctx context.Context, b *ehr.BreakGlass) error {
	const op = "sqlstore.OpenBreakGlass"
	switch {
	case b == nil:
		return errs.Invalid(op, "break_glass", "is required")
	case b.ID == uuid.Nil || b.PracticeID == uuid.Nil || b.PatientID == uuid.Nil || b.AccountID == uuid.Nil:
		return errs.Invalid(op, "id", "the access, its practice, its patient and its account are required")
	case !b.ExpiresAt.After(b.OpenedAt):
		return errs.Invalid(op, "expires_at", "must be after opened_at")
	}
	normalizeTimes(&b.OpenedAt, &b.ExpiresAt)
	row := &breakGlassRow{PracticeID: b.PracticeID, ID: b.ID, PatientID: b.PatientID, AccountID: b.AccountID,
		OpenedAt: utc(b.OpenedAt), ExpiresAt: utc(b.ExpiresAt)}
	var err error
	if row.Sealed, row.SealedKey, err = s.sealFields(ctx, op, b.PracticeID, rightsBinding(breakGlassTable, b.ID), b.Reason); err != nil {
		return err
	}
	_, err = s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure(op, "break-glass access", err)
}

// BreakGlassActive reports whether account holds a break-glass access to
// patient's chart in force at now (ehr.BreakGlasses).
func (s *EHR) BreakGlassActive(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, account uuid.UUID, now time.Time) (bool, error) {
	n, err := s.idb(ctx).NewSelect().Model((*breakGlassRow)(nil)).
		Where("bg.practice_id = ? AND bg.patient_id = ? AND bg.account_id = ?", practice, patient, account).
		Where("bg.opened_at <= ? AND bg.expires_at > ?", utc(now), utc(now)).
		Limit(1).Count(ctx)
	if err != nil {
		return false, failure("sqlstore.BreakGlassActive", "break-glass access", err)
	}
	return n > 0, nil
}

// BreakGlassesOpened returns the practice's break-glass accesses opened
// at or after from and before to, newest first, their reasons opened
// (ehr.BreakGlasses).
func (s *EHR) BreakGlassesOpened(ctx context.Context, practice tenant.PracticeID, from, to time.Time) ([]*ehr.BreakGlass, error) {
	const op = "sqlstore.BreakGlassesOpened"
	var rows []breakGlassRow
	if err := s.idb(ctx).NewSelect().Model(&rows).
		Where("bg.practice_id = ? AND bg.opened_at >= ? AND bg.opened_at < ?", practice, utc(from), utc(to)).
		OrderExpr("bg.opened_at DESC, bg.id").Scan(ctx); err != nil {
		return nil, failure(op, "break-glass access", err)
	}
	out := make([]*ehr.BreakGlass, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		f, err := s.openFields(ctx, op, r.PracticeID, rightsBinding(breakGlassTable, r.ID), r.Sealed, 1)
		if err != nil {
			return nil, err
		}
		out = append(out, &ehr.BreakGlass{ID: r.ID, PracticeID: r.PracticeID, PatientID: r.PatientID, AccountID: r.AccountID,
			Reason: f[0], OpenedAt: r.OpenedAt.Time(), ExpiresAt: r.ExpiresAt.Time()})
	}
	return out, nil
}
