package sqlstore

import (
	"context"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Operators keeps the operator's support staff and their sessions: tables
// of no practice (operator_staff, operator_sessions), since support staff
// are principals of their own, outside every tenant.
type Operators struct{ *conn }

type operatorStaffRow struct {
	bun.BaseModel `bun:"table:operator_staff,alias:ops"`

	ID           uuid.UUID `bun:"id,pk"`
	Email        string    `bun:"email"`
	PasswordHash string    `bun:"password_hash"`
	CreatedAt    utcTime   `bun:"created_at"`
	DisabledAt   *utcTime  `bun:"disabled_at"`
	FailedLogins int       `bun:"failed_logins"`
	Lockouts     int       `bun:"lockouts"`
	LockedUntil  *utcTime  `bun:"locked_until"`
}

func (r *operatorStaffRow) staff() *identity.OperatorStaff {
	return &identity.OperatorStaff{ID: r.ID, Email: r.Email, PasswordHash: r.PasswordHash,
		CreatedAt: r.CreatedAt.Time(), DisabledAt: r.DisabledAt.timePtr(),
		Login: identity.LoginState{FailedLogins: r.FailedLogins, Lockouts: r.Lockouts, LockedUntil: r.LockedUntil.timePtr()}}
}

type operatorSessionRow struct {
	bun.BaseModel `bun:"table:operator_sessions,alias:oss"`

	ID            uuid.UUID `bun:"id,pk"`
	StaffID       uuid.UUID `bun:"staff_id"`
	TokenHash     []byte    `bun:"token_hash"`
	CreatedAt     utcTime   `bun:"created_at"`
	LastUsedAt    utcTime   `bun:"last_used_at"`
	IdleExpiresAt utcTime   `bun:"idle_expires_at"`
	ExpiresAt     utcTime   `bun:"expires_at"`
	RevokedAt     *utcTime  `bun:"revoked_at"`
}

// CreateStaff adds a support staff member; an email already taken is
// KindConflict.
func (s *Operators) CreateStaff(ctx context.Context, m *identity.OperatorStaff) error {
	row := &operatorStaffRow{ID: m.ID, Email: m.Email, PasswordHash: m.PasswordHash,
		CreatedAt: utc(m.CreatedAt), DisabledAt: optTime(m.DisabledAt)}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateStaff", "email", err)
}

// StaffByEmail returns the support staff member of a lower-case email, or
// KindNotFound.
func (s *Operators) StaffByEmail(ctx context.Context, email string) (*identity.OperatorStaff, error) {
	return s.staffWhere(ctx, "ops.email = ?", email, false)
}

// Staff returns the support staff member of id, or KindNotFound.
func (s *Operators) Staff(ctx context.Context, id uuid.UUID) (*identity.OperatorStaff, error) {
	return s.staffWhere(ctx, "ops.id = ?", id, false)
}

// LockStaff is Staff, holding the member's row until the transaction in
// ctx ends, so that sign-ins of one member count their failures one after
// the other.
func (s *Operators) LockStaff(ctx context.Context, id uuid.UUID) (*identity.OperatorStaff, error) {
	if !s.HasTx(ctx) {
		return nil, errs.E(errs.KindInternal, "sqlstore.LockStaff", "LockStaff called outside InTx")
	}
	return s.staffWhere(ctx, "ops.id = ?", id, true)
}

func (s *Operators) staffWhere(ctx context.Context, where string, arg any, lock bool) (*identity.OperatorStaff, error) {
	var row operatorStaffRow
	q := s.idb(ctx).NewSelect().Model(&row).Where(where, arg)
	if lock && s.dialect == Postgres {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure("sqlstore.Staff", "operator staff", err)
	}
	return row.staff(), nil
}

// SetStaffLogin records a support staff member's login state: its failed
// sign-ins in a row and its lock.
func (s *Operators) SetStaffLogin(ctx context.Context, id uuid.UUID, st identity.LoginState) error {
	row := &operatorStaffRow{ID: id, FailedLogins: st.FailedLogins, Lockouts: st.Lockouts, LockedUntil: optTime(st.LockedUntil)}
	_, err := s.idb(ctx).NewUpdate().Model(row).Column("failed_logins", "lockouts", "locked_until").WherePK().Exec(ctx)
	return failure("sqlstore.SetStaffLogin", "operator staff", err)
}

// CreateSession adds a support session.
func (s *Operators) CreateSession(ctx context.Context, x *identity.OperatorSession) error {
	row := &operatorSessionRow{ID: x.ID, StaffID: x.StaffID, TokenHash: x.TokenHash, CreatedAt: utc(x.CreatedAt),
		LastUsedAt: utc(x.LastUsedAt), IdleExpiresAt: utc(x.IdleExpiresAt), ExpiresAt: utc(x.ExpiresAt), RevokedAt: optTime(x.RevokedAt)}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateOperatorSession", "session", err)
}

// SessionByTokenHash returns the support session of a token hash, live or
// not, or KindNotFound.
func (s *Operators) SessionByTokenHash(ctx context.Context, hash []byte) (*identity.OperatorSession, error) {
	var r operatorSessionRow
	if err := s.idb(ctx).NewSelect().Model(&r).Where("oss.token_hash = ?", hash).Scan(ctx); err != nil {
		return nil, failure("sqlstore.OperatorSessionByTokenHash", "session", err)
	}
	return &identity.OperatorSession{ID: r.ID, StaffID: r.StaffID, TokenHash: r.TokenHash, CreatedAt: r.CreatedAt.Time(),
		LastUsedAt: r.LastUsedAt.Time(), IdleExpiresAt: r.IdleExpiresAt.Time(), ExpiresAt: r.ExpiresAt.Time(),
		RevokedAt: r.RevokedAt.timePtr()}, nil
}

// TouchSession records a support session's use.
func (s *Operators) TouchSession(ctx context.Context, id uuid.UUID, at, idleExpiresAt time.Time) error {
	res, err := s.idb(ctx).NewUpdate().Table("operator_sessions").
		Set("last_used_at = ?", utc(at)).Set("idle_expires_at = ?", utc(idleExpiresAt)).Where("id = ?", id).Exec(ctx)
	return affected("sqlstore.TouchOperatorSession", "session", res, err)
}

// RevokeSession ends an unrevoked support session, or returns KindNotFound.
func (s *Operators) RevokeSession(ctx context.Context, id uuid.UUID, at time.Time) error {
	res, err := s.idb(ctx).NewUpdate().Table("operator_sessions").Set("revoked_at = ?", utc(at)).
		Where("id = ?", id).Where("revoked_at IS NULL").Exec(ctx)
	return affected("sqlstore.RevokeOperatorSession", "session", res, err)
}

// SupportAction is one support action on a practice with the reason given
// for it.
type SupportAction struct {
	PracticeID uuid.UUID
	ID         uuid.UUID
	StaffEmail string
	Action     string // the activity log's action, such as "support.trial.extend"
	Detail     string // what it did, such as the new trial end or plan
	Reason     string
	At         time.Time
}

type supportActionRow struct {
	bun.BaseModel `bun:"table:support_actions,alias:sa"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	ID         uuid.UUID `bun:"id,pk"`
	StaffEmail string    `bun:"staff_email"`
	Action     string    `bun:"action"`
	Detail     string    `bun:"detail"`
	Reason     string    `bun:"reason"`
	At         utcTime   `bun:"at"`
}

// AddAction records a support action.
func (s *Operators) AddAction(ctx context.Context, a SupportAction) error {
	row := &supportActionRow{PracticeID: a.PracticeID, ID: a.ID, StaffEmail: a.StaffEmail, Action: a.Action,
		Detail: a.Detail, Reason: a.Reason, At: utc(a.At)}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.AddSupportAction", "practice_id", err)
}

// Actions returns a practice's support actions, the latest first, at most
// limit.
func (s *Operators) Actions(ctx context.Context, practice uuid.UUID, limit int) ([]SupportAction, error) {
	var rows []supportActionRow
	err := s.idb(ctx).NewSelect().Model(&rows).Where("sa.practice_id = ?", practice).
		OrderExpr("sa.at DESC, sa.id DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, failure("sqlstore.SupportActions", "practice_id", err)
	}
	out := make([]SupportAction, len(rows))
	for i, r := range rows {
		out[i] = SupportAction{PracticeID: r.PracticeID, ID: r.ID, StaffEmail: r.StaffEmail, Action: r.Action,
			Detail: r.Detail, Reason: r.Reason, At: r.At.Time()}
	}
	return out, nil
}
