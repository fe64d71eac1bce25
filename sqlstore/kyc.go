package sqlstore

import (
	"context"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

var (
	_ tenant.VerificationStore = (*Tenants)(nil)
	_ tenant.SignUpCodeStore   = (*Tenants)(nil)
)

type practiceVerificationRow struct {
	bun.BaseModel `bun:"table:practice_verifications,alias:pv"`

	PracticeID   uuid.UUID `bun:"practice_id,pk"`
	NPI          string    `bun:"npi"`
	RegistryName string    `bun:"registry_name"`
	VerifiedAt   utcTime   `bun:"verified_at"`
	VerifiedBy   string    `bun:"verified_by"`
}

// SaveVerification stores v, replacing the practice's earlier
// verification; an unknown practice is KindNotFound.
func (s *Tenants) SaveVerification(ctx context.Context, v *tenant.Verification) error {
	row := &practiceVerificationRow{PracticeID: v.PracticeID, NPI: v.NPI, RegistryName: v.RegistryName, VerifiedAt: utc(v.VerifiedAt), VerifiedBy: v.VerifiedBy}
	_, err := s.idb(ctx).NewInsert().Model(row).
		On("CONFLICT (practice_id) DO UPDATE").
		Set("npi = EXCLUDED.npi, registry_name = EXCLUDED.registry_name, verified_at = EXCLUDED.verified_at, verified_by = EXCLUDED.verified_by").
		Exec(ctx)
	return failure("sqlstore.SaveVerification", "verification", err)
}

// GetVerification returns the practice's verification, or KindNotFound.
func (s *Tenants) GetVerification(ctx context.Context, practice tenant.PracticeID) (*tenant.Verification, error) {
	var row practiceVerificationRow
	if err := s.idb(ctx).NewSelect().Model(&row).Where("pv.practice_id = ?", practice).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetVerification", "verification", err)
	}
	return &tenant.Verification{PracticeID: row.PracticeID, NPI: row.NPI, RegistryName: row.RegistryName,
		VerifiedAt: row.VerifiedAt.Time(), VerifiedBy: row.VerifiedBy}, nil
}

type signUpCodeRow struct {
	bun.BaseModel `bun:"table:signup_codes,alias:sc"`

	CodeHash     []byte     `bun:"code_hash,pk"`
	Note         string     `bun:"note"`
	CreatedAt    utcTime    `bun:"created_at"`
	UsedAt       *utcTime   `bun:"used_at"`
	UsedPractice *uuid.UUID `bun:"used_practice"`
}

// CreateSignUpCode stores a new, unused sign-up code by its hash.
func (s *Tenants) CreateSignUpCode(ctx context.Context, hash []byte, note string, at time.Time) error {
	_, err := s.idb(ctx).NewInsert().Model(&signUpCodeRow{CodeHash: hash, Note: note, CreatedAt: utc(at)}).Exec(ctx)
	return failure("sqlstore.CreateSignUpCode", "sign-up code", err)
}

// UseSignUpCode marks the unused code hash used, in one UPDATE whose
// condition makes a second use find no row (KindNotFound).
func (s *Tenants) UseSignUpCode(ctx context.Context, hash []byte, practice tenant.PracticeID, at time.Time) error {
	const op = "sqlstore.UseSignUpCode"
	res, err := s.idb(ctx).NewUpdate().Table("signup_codes").
		Set("used_at = ?", utc(at)).Set("used_practice = ?", practice).
		Where("code_hash = ?", hash).Where("used_at IS NULL").Exec(ctx)
	if err != nil {
		return failure(op, "sign-up code", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return failure(op, "sign-up code", err)
	} else if n != 1 {
		return errs.NotFound(op, "sign-up code")
	}
	return nil
}
