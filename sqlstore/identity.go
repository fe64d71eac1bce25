package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

type accountRow struct {
	bun.BaseModel `bun:"table:accounts,alias:acc"`

	ID              uuid.UUID `bun:"id,pk"`
	Kind            string    `bun:"kind"`
	PracticeID      uuid.UUID `bun:"practice_id"`
	Email           string    `bun:"email,nullzero"`
	Phone           string    `bun:"phone,nullzero"`
	PasswordHash    string    `bun:"password_hash"`
	EmailVerifiedAt *utcTime  `bun:"email_verified_at"`
	FailedLogins    int       `bun:"failed_logins"`
	Lockouts        int       `bun:"lockouts"`
	LockedUntil     *utcTime  `bun:"locked_until"`
	TOTPSecret      string    `bun:"totp_secret"`
	TOTPEnabled     bool      `bun:"totp_enabled"`
	TOTPLastStep    int64     `bun:"totp_last_step"`
	CreatedAt       utcTime   `bun:"created_at"`
	UpdatedAt       utcTime   `bun:"updated_at"`
}

func (r *accountRow) account() *identity.Account {
	return &identity.Account{
		ID: r.ID, Kind: identity.AccountKind(r.Kind), PracticeID: r.PracticeID,
		Email: r.Email, Phone: r.Phone, PasswordHash: r.PasswordHash,
		EmailVerifiedAt: r.EmailVerifiedAt.timePtr(),
		FailedLogins:    r.FailedLogins, Lockouts: r.Lockouts, LockedUntil: r.LockedUntil.timePtr(),
		TOTPSecret: r.TOTPSecret, TOTPEnabled: r.TOTPEnabled, TOTPLastStep: r.TOTPLastStep,
		CreatedAt: r.CreatedAt.Time(), UpdatedAt: r.UpdatedAt.Time(),
	}
}

type sessionRow struct {
	bun.BaseModel `bun:"table:sessions,alias:ses"`

	AccountID          uuid.UUID `bun:"account_id,pk"`
	ID                 uuid.UUID `bun:"id,pk"`
	TokenHash          []byte    `bun:"token_hash"`
	Kind               string    `bun:"kind"`
	PracticeID         uuid.UUID `bun:"practice_id"`
	Device             string    `bun:"device"`
	IP                 string    `bun:"ip"`
	UserAgent          string    `bun:"user_agent"`
	NeedsMFAEnrollment bool      `bun:"needs_mfa_enrollment"`
	CreatedAt          utcTime   `bun:"created_at"`
	LastUsedAt         utcTime   `bun:"last_used_at"`
	IdleTimeoutUS      micros    `bun:"idle_timeout_us"`
	IdleExpiresAt      utcTime   `bun:"idle_expires_at"`
	ExpiresAt          utcTime   `bun:"expires_at"`
	RevokedAt          *utcTime  `bun:"revoked_at"`
}

func (r *sessionRow) session() *identity.Session {
	return &identity.Session{
		ID: r.ID, AccountID: r.AccountID, Kind: identity.AccountKind(r.Kind), PracticeID: r.PracticeID,
		TokenHash: r.TokenHash, Device: r.Device, IP: r.IP, UserAgent: r.UserAgent,
		NeedsMFAEnrollment: r.NeedsMFAEnrollment, CreatedAt: r.CreatedAt.Time(), LastUsedAt: r.LastUsedAt.Time(),
		IdleTimeout: r.IdleTimeoutUS.Duration(), IdleExpiresAt: r.IdleExpiresAt.Time(),
		ExpiresAt: r.ExpiresAt.Time(), RevokedAt: r.RevokedAt.timePtr(),
	}
}

type recoveryCodeRow struct {
	bun.BaseModel `bun:"table:recovery_codes,alias:rc"`

	AccountID uuid.UUID `bun:"account_id,pk"`
	CodeHash  []byte    `bun:"code_hash,pk"`
	CreatedAt utcTime   `bun:"created_at"`
	UsedAt    *utcTime  `bun:"used_at"`
}

type verificationRow struct {
	bun.BaseModel `bun:"table:email_verifications,alias:ev"`

	TokenHash []byte    `bun:"token_hash,pk"`
	AccountID uuid.UUID `bun:"account_id"`
	CreatedAt utcTime   `bun:"created_at"`
	ExpiresAt utcTime   `bun:"expires_at"`
	UsedAt    *utcTime  `bun:"used_at"`
}

type sessionPolicyRow struct {
	bun.BaseModel `bun:"table:session_policies,alias:sp"`

	PracticeID        uuid.UUID `bun:"practice_id,pk"`
	StaffIdleUS       micros    `bun:"staff_idle_us"`
	StaffAbsoluteUS   micros    `bun:"staff_absolute_us"`
	StaffDevices      int       `bun:"staff_devices"`
	StaffOnLimit      string    `bun:"staff_on_limit"`
	PatientIdleUS     micros    `bun:"patient_idle_us"`
	PatientAbsoluteUS micros    `bun:"patient_absolute_us"`
	PatientDevices    int       `bun:"patient_devices"`
	PatientOnLimit    string    `bun:"patient_on_limit"`
	RequireStaffMFA   bool      `bun:"require_staff_mfa"`
	UpdatedAt         utcTime   `bun:"updated_at"`
}

type invitationRow struct {
	bun.BaseModel `bun:"table:invitations,alias:inv"`

	PracticeID uuid.UUID  `bun:"practice_id,pk"`
	ID         uuid.UUID  `bun:"id,pk"`
	Email      string     `bun:"email"`
	Role       string     `bun:"role"`
	InvitedBy  uuid.UUID  `bun:"invited_by"`
	TokenHash  []byte     `bun:"token_hash"`
	CreatedAt  utcTime    `bun:"created_at"`
	ExpiresAt  utcTime    `bun:"expires_at"`
	AcceptedAt *utcTime   `bun:"accepted_at"`
	AccountID  *uuid.UUID `bun:"account_id"`
}

type apiKeyRow struct {
	bun.BaseModel `bun:"table:api_keys,alias:ak"`

	PracticeID  uuid.UUID        `bun:"practice_id,pk"`
	ID          uuid.UUID        `bun:"id,pk"`
	Name        string           `bun:"name"`
	Permissions jsonList[string] `bun:"permissions"`
	SecretHash  []byte           `bun:"secret_hash"`
	CreatedBy   uuid.UUID        `bun:"created_by"`
	CreatedAt   utcTime          `bun:"created_at"`
	RevokedAt   *utcTime         `bun:"revoked_at"`
}

func (r *apiKeyRow) apiKey() *identity.APIKey {
	return &identity.APIKey{
		ID: r.ID, PracticeID: r.PracticeID, Name: r.Name, Permissions: slice(r.Permissions),
		SecretHash: r.SecretHash, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.Time(),
		RevokedAt: r.RevokedAt.timePtr(),
	}
}

// CreateAccount stores a as given; KindConflict if its email or phone is
// taken, KindNotFound if its practice does not exist.
func (s *Identity) CreateAccount(ctx context.Context, a *identity.Account) error {
	row := &accountRow{
		ID: a.ID, Kind: string(a.Kind), PracticeID: a.PracticeID, Email: a.Email, Phone: a.Phone,
		PasswordHash: a.PasswordHash, EmailVerifiedAt: optTime(a.EmailVerifiedAt),
		FailedLogins: a.FailedLogins, Lockouts: a.Lockouts, LockedUntil: optTime(a.LockedUntil),
		TOTPSecret: a.TOTPSecret, TOTPEnabled: a.TOTPEnabled, TOTPLastStep: a.TOTPLastStep,
		CreatedAt: utc(a.CreatedAt), UpdatedAt: utc(a.UpdatedAt),
	}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateAccount", "account", err)
}

func (s *Identity) accountWhere(ctx context.Context, op, where string, arg any) (*identity.Account, error) {
	var row accountRow
	if err := s.idb(ctx).NewSelect().Model(&row).Where(where, arg).Scan(ctx); err != nil {
		return nil, failure(op, "account", err)
	}
	return row.account(), nil
}

// GetAccount returns the account id, or KindNotFound.
func (s *Identity) GetAccount(ctx context.Context, id identity.AccountID) (*identity.Account, error) {
	return s.accountWhere(ctx, "sqlstore.GetAccount", "acc.id = ?", id)
}

// AccountByEmail returns the account with the lower-case email, or
// KindNotFound.
func (s *Identity) AccountByEmail(ctx context.Context, email string) (*identity.Account, error) {
	if email == "" {
		return nil, errs.NotFound("sqlstore.AccountByEmail", "account")
	}
	return s.accountWhere(ctx, "sqlstore.AccountByEmail", "acc.email = ?", email)
}

// AccountByPhone returns the account with the E.164 phone, or KindNotFound.
func (s *Identity) AccountByPhone(ctx context.Context, phone string) (*identity.Account, error) {
	if phone == "" {
		return nil, errs.NotFound("sqlstore.AccountByPhone", "account")
	}
	return s.accountWhere(ctx, "sqlstore.AccountByPhone", "acc.phone = ?", phone)
}

// updateAccount sets columns of account id and its updated_at.
func (s *Identity) updateAccount(ctx context.Context, op string, id identity.AccountID, at time.Time, set func(q *bun.UpdateQuery) *bun.UpdateQuery) error {
	q := s.idb(ctx).NewUpdate().Table("accounts").Set("updated_at = ?", utc(at)).Where("id = ?", id)
	res, err := set(q).Exec(ctx)
	return affected(op, "account", res, err)
}

// SetLoginState writes an account's failure count and lock.
func (s *Identity) SetLoginState(ctx context.Context, id identity.AccountID, st identity.LoginState, at time.Time) error {
	return s.updateAccount(ctx, "sqlstore.SetLoginState", id, at, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("failed_logins = ?", st.FailedLogins).Set("lockouts = ?", st.Lockouts).
			Set("locked_until = ?", timeArg(st.LockedUntil))
	})
}

// timeArg is an optional instant as a query argument: NULL when nil.
func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return utc(*t)
}

// SetPassword replaces an account's password hash.
func (s *Identity) SetPassword(ctx context.Context, id identity.AccountID, hash string, at time.Time) error {
	return s.updateAccount(ctx, "sqlstore.SetPassword", id, at, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("password_hash = ?", hash)
	})
}

// SetEmailVerified records when an account's email was verified.
func (s *Identity) SetEmailVerified(ctx context.Context, id identity.AccountID, at time.Time) error {
	return s.updateAccount(ctx, "sqlstore.SetEmailVerified", id, at, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("email_verified_at = ?", utc(at))
	})
}

// SetTOTP writes an account's TOTP secret, switch and last accepted step.
func (s *Identity) SetTOTP(ctx context.Context, id identity.AccountID, secret string, enabled bool, lastStep int64, at time.Time) error {
	return s.updateAccount(ctx, "sqlstore.SetTOTP", id, at, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("totp_secret = ?", secret).Set("totp_enabled = ?", enabled).Set("totp_last_step = ?", lastStep)
	})
}

// UseTOTPStep advances an account's last accepted TOTP step to step, in one
// conditional UPDATE; KindConflict if it is already there or beyond.
func (s *Identity) UseTOTPStep(ctx context.Context, id identity.AccountID, step int64) error {
	const op = "sqlstore.UseTOTPStep"
	res, err := s.idb(ctx).NewUpdate().Table("accounts").Set("totp_last_step = ?", step).
		Where("id = ?", id).Where("totp_last_step < ?", step).Exec(ctx)
	return s.once(ctx, op, "account", res, err, "accounts", "id = ?", id)
}

// once checks the result of a conditional UPDATE that must touch one row:
// none touched means KindConflict if a row matching where exists in table
// (the condition failed: used already), else KindNotFound.
func (s *Identity) once(ctx context.Context, op, what string, res sql.Result, err error, table, where string, args ...any) error {
	if err != nil {
		return failure(op, what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return failure(op, what, err)
	}
	if n > 0 {
		return nil
	}
	exists, err := s.idb(ctx).NewSelect().Table(table).Where(where, args...).Exists(ctx)
	if err != nil {
		return failure(op, what, err)
	}
	if exists {
		return errs.Conflict(op, what+" was already used")
	}
	return errs.NotFound(op, what)
}

// ReplaceRecoveryCodes swaps an account's recovery codes for hashes.
func (s *Identity) ReplaceRecoveryCodes(ctx context.Context, account identity.AccountID, hashes [][]byte, at time.Time) error {
	const op = "sqlstore.ReplaceRecoveryCodes"
	return s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.idb(ctx).NewDelete().Table("recovery_codes").Where("account_id = ?", account).Exec(ctx); err != nil {
			return failure(op, "recovery code", err)
		}
		if len(hashes) == 0 {
			return nil
		}
		rows := make([]recoveryCodeRow, len(hashes))
		for i, h := range hashes {
			rows[i] = recoveryCodeRow{AccountID: account, CodeHash: h, CreatedAt: utc(at)}
		}
		_, err := s.idb(ctx).NewInsert().Model(&rows).Exec(ctx)
		return failure(op, "recovery code", err)
	})
}

// UseRecoveryCode marks an unused recovery code used, in one conditional
// UPDATE; KindConflict if used already, KindNotFound if unknown.
func (s *Identity) UseRecoveryCode(ctx context.Context, account identity.AccountID, hash []byte, at time.Time) error {
	const op = "sqlstore.UseRecoveryCode"
	res, err := s.idb(ctx).NewUpdate().Table("recovery_codes").Set("used_at = ?", utc(at)).
		Where("account_id = ?", account).Where("code_hash = ?", hash).Where("used_at IS NULL").Exec(ctx)
	return s.once(ctx, op, "recovery code", res, err, "recovery_codes", "account_id = ? AND code_hash = ?", account, hash)
}

// CountRecoveryCodes returns how many unused recovery codes an account has.
func (s *Identity) CountRecoveryCodes(ctx context.Context, account identity.AccountID) (int, error) {
	n, err := s.idb(ctx).NewSelect().Table("recovery_codes").
		Where("account_id = ?", account).Where("used_at IS NULL").Count(ctx)
	if err != nil {
		return 0, failure("sqlstore.CountRecoveryCodes", "recovery code", err)
	}
	return int(n), nil
}

// CreateSession stores a session as given; KindNotFound if its account does
// not exist.
func (s *Identity) CreateSession(ctx context.Context, x *identity.Session) error {
	row := &sessionRow{
		AccountID: x.AccountID, ID: x.ID, TokenHash: x.TokenHash, Kind: string(x.Kind), PracticeID: x.PracticeID,
		Device: x.Device, IP: x.IP, UserAgent: x.UserAgent, NeedsMFAEnrollment: x.NeedsMFAEnrollment,
		CreatedAt: utc(x.CreatedAt), LastUsedAt: utc(x.LastUsedAt), IdleTimeoutUS: us(x.IdleTimeout),
		IdleExpiresAt: utc(x.IdleExpiresAt), ExpiresAt: utc(x.ExpiresAt), RevokedAt: optTime(x.RevokedAt),
	}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateSession", "session", err)
}

// SessionByTokenHash returns the session with the token hash, or KindNotFound.
func (s *Identity) SessionByTokenHash(ctx context.Context, hash []byte) (*identity.Session, error) {
	var row sessionRow
	if err := s.idb(ctx).NewSelect().Model(&row).Where("ses.token_hash = ?", hash).Scan(ctx); err != nil {
		return nil, failure("sqlstore.SessionByTokenHash", "session", err)
	}
	return row.session(), nil
}

// LiveSessions returns an account's unrevoked, unexpired sessions, least
// recently used first.
func (s *Identity) LiveSessions(ctx context.Context, account identity.AccountID, now time.Time) ([]*identity.Session, error) {
	var rows []sessionRow
	err := s.idb(ctx).NewSelect().Model(&rows).
		Where("ses.account_id = ?", account).Where("ses.revoked_at IS NULL").
		Where("ses.expires_at > ?", utc(now)).Where("ses.idle_expires_at > ?", utc(now)).
		OrderExpr("ses.last_used_at, ses.id").Scan(ctx)
	if err != nil {
		return nil, failure("sqlstore.LiveSessions", "session", err)
	}
	out := make([]*identity.Session, len(rows))
	for i := range rows {
		out[i] = rows[i].session()
	}
	return out, nil
}

// TouchSession records a session's use.
func (s *Identity) TouchSession(ctx context.Context, account identity.AccountID, id identity.SessionID, at, idleExpiresAt time.Time) error {
	res, err := s.idb(ctx).NewUpdate().Table("sessions").
		Set("last_used_at = ?", utc(at)).Set("idle_expires_at = ?", utc(idleExpiresAt)).
		Where("account_id = ?", account).Where("id = ?", id).Exec(ctx)
	return affected("sqlstore.TouchSession", "session", res, err)
}

// RevokeSession revokes one unrevoked session of an account, or returns
// KindNotFound.
func (s *Identity) RevokeSession(ctx context.Context, account identity.AccountID, id identity.SessionID, at time.Time) error {
	res, err := s.idb(ctx).NewUpdate().Table("sessions").Set("revoked_at = ?", utc(at)).
		Where("account_id = ?", account).Where("id = ?", id).Where("revoked_at IS NULL").Exec(ctx)
	return affected("sqlstore.RevokeSession", "session", res, err)
}

// RevokeSessions revokes every unrevoked session of an account but except.
func (s *Identity) RevokeSessions(ctx context.Context, account identity.AccountID, except identity.SessionID, at time.Time) (int, error) {
	const op = "sqlstore.RevokeSessions"
	res, err := s.idb(ctx).NewUpdate().Table("sessions").Set("revoked_at = ?", utc(at)).
		Where("account_id = ?", account).Where("id <> ?", except).Where("revoked_at IS NULL").Exec(ctx)
	if err != nil {
		return 0, failure(op, "session", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, failure(op, "session", err)
	}
	return int(n), nil
}

// GetSessionPolicy returns a practice's session policy, or KindNotFound.
func (s *Identity) GetSessionPolicy(ctx context.Context, practice tenant.PracticeID) (*identity.SessionPolicy, error) {
	var r sessionPolicyRow
	if err := s.idb(ctx).NewSelect().Model(&r).Where("sp.practice_id = ?", practice).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetSessionPolicy", "session policy", err)
	}
	return &identity.SessionPolicy{
		Staff: identity.SessionLimits{Idle: r.StaffIdleUS.Duration(), Absolute: r.StaffAbsoluteUS.Duration(),
			Devices: r.StaffDevices, OnLimit: identity.OnLimit(r.StaffOnLimit)},
		Patient: identity.SessionLimits{Idle: r.PatientIdleUS.Duration(), Absolute: r.PatientAbsoluteUS.Duration(),
			Devices: r.PatientDevices, OnLimit: identity.OnLimit(r.PatientOnLimit)},
		RequireStaffMFA: r.RequireStaffMFA,
	}, nil
}

// PutSessionPolicy creates or replaces a practice's session policy;
// KindNotFound if the practice does not exist.
func (s *Identity) PutSessionPolicy(ctx context.Context, practice tenant.PracticeID, p identity.SessionPolicy, at time.Time) error {
	row := &sessionPolicyRow{
		PracticeID:  practice,
		StaffIdleUS: us(p.Staff.Idle), StaffAbsoluteUS: us(p.Staff.Absolute),
		StaffDevices: p.Staff.Devices, StaffOnLimit: string(p.Staff.OnLimit),
		PatientIdleUS: us(p.Patient.Idle), PatientAbsoluteUS: us(p.Patient.Absolute),
		PatientDevices: p.Patient.Devices, PatientOnLimit: string(p.Patient.OnLimit),
		RequireStaffMFA: p.RequireStaffMFA, UpdatedAt: utc(at),
	}
	_, err := s.idb(ctx).NewInsert().Model(row).
		On("CONFLICT (practice_id) DO UPDATE").
		Set("staff_idle_us = EXCLUDED.staff_idle_us").
		Set("staff_absolute_us = EXCLUDED.staff_absolute_us").
		Set("staff_devices = EXCLUDED.staff_devices").
		Set("staff_on_limit = EXCLUDED.staff_on_limit").
		Set("patient_idle_us = EXCLUDED.patient_idle_us").
		Set("patient_absolute_us = EXCLUDED.patient_absolute_us").
		Set("patient_devices = EXCLUDED.patient_devices").
		Set("patient_on_limit = EXCLUDED.patient_on_limit").
		Set("require_staff_mfa = EXCLUDED.require_staff_mfa").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	return failure("sqlstore.PutSessionPolicy", "session policy", err)
}

// CreateInvitation stores an invitation as given; KindNotFound if its
// practice does not exist.
func (s *Identity) CreateInvitation(ctx context.Context, inv *identity.Invitation) error {
	row := &invitationRow{
		PracticeID: inv.PracticeID, ID: inv.ID, Email: inv.Email, Role: inv.Role, InvitedBy: inv.InvitedBy,
		TokenHash: inv.TokenHash, CreatedAt: utc(inv.CreatedAt), ExpiresAt: utc(inv.ExpiresAt),
		AcceptedAt: optTime(inv.AcceptedAt), AccountID: inv.AccountID,
	}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateInvitation", "invitation", err)
}

// InvitationByTokenHash returns the invitation with the token hash, or
// KindNotFound.
func (s *Identity) InvitationByTokenHash(ctx context.Context, hash []byte) (*identity.Invitation, error) {
	var r invitationRow
	if err := s.idb(ctx).NewSelect().Model(&r).Where("inv.token_hash = ?", hash).Scan(ctx); err != nil {
		return nil, failure("sqlstore.InvitationByTokenHash", "invitation", err)
	}
	return &identity.Invitation{
		ID: r.ID, PracticeID: r.PracticeID, Email: r.Email, Role: r.Role, InvitedBy: r.InvitedBy,
		TokenHash: r.TokenHash, CreatedAt: r.CreatedAt.Time(), ExpiresAt: r.ExpiresAt.Time(),
		AcceptedAt: r.AcceptedAt.timePtr(), AccountID: r.AccountID,
	}, nil
}

// AcceptInvitation marks an unaccepted invitation accepted, in one
// conditional UPDATE; KindConflict if accepted already.
func (s *Identity) AcceptInvitation(ctx context.Context, practice tenant.PracticeID, id identity.InvitationID, account identity.AccountID, at time.Time) error {
	res, err := s.idb(ctx).NewUpdate().Table("invitations").
		Set("accepted_at = ?", utc(at)).Set("account_id = ?", account).
		Where("practice_id = ?", practice).Where("id = ?", id).Where("accepted_at IS NULL").Exec(ctx)
	return s.once(ctx, "sqlstore.AcceptInvitation", "invitation", res, err,
		"invitations", "practice_id = ? AND id = ?", practice, id)
}

// CreateVerification stores a verification as given; KindNotFound if its
// account does not exist.
func (s *Identity) CreateVerification(ctx context.Context, v *identity.Verification) error {
	row := &verificationRow{TokenHash: v.TokenHash, AccountID: v.AccountID, CreatedAt: utc(v.CreatedAt),
		ExpiresAt: utc(v.ExpiresAt), UsedAt: optTime(v.UsedAt)}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateVerification", "verification", err)
}

// VerificationByTokenHash returns the verification with the token hash, or
// KindNotFound.
func (s *Identity) VerificationByTokenHash(ctx context.Context, hash []byte) (*identity.Verification, error) {
	var r verificationRow
	if err := s.idb(ctx).NewSelect().Model(&r).Where("ev.token_hash = ?", hash).Scan(ctx); err != nil {
		return nil, failure("sqlstore.VerificationByTokenHash", "verification", err)
	}
	return &identity.Verification{TokenHash: r.TokenHash, AccountID: r.AccountID, CreatedAt: r.CreatedAt.Time(),
		ExpiresAt: r.ExpiresAt.Time(), UsedAt: r.UsedAt.timePtr()}, nil
}

// UseVerification marks an unused verification used, in one conditional
// UPDATE; KindConflict if used already.
func (s *Identity) UseVerification(ctx context.Context, hash []byte, at time.Time) error {
	res, err := s.idb(ctx).NewUpdate().Table("email_verifications").Set("used_at = ?", utc(at)).
		Where("token_hash = ?", hash).Where("used_at IS NULL").Exec(ctx)
	return s.once(ctx, "sqlstore.UseVerification", "verification", res, err,
		"email_verifications", "token_hash = ?", hash)
}

// CreateAPIKey stores a key as given; KindNotFound if its practice does not
// exist.
func (s *Identity) CreateAPIKey(ctx context.Context, k *identity.APIKey) error {
	row := &apiKeyRow{
		PracticeID: k.PracticeID, ID: k.ID, Name: k.Name, Permissions: list(k.Permissions),
		SecretHash: k.SecretHash, CreatedBy: k.CreatedBy, CreatedAt: utc(k.CreatedAt), RevokedAt: optTime(k.RevokedAt),
	}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateAPIKey", "API key", err)
}

// APIKeyByID returns the key id, of whatever practice, or KindNotFound.
func (s *Identity) APIKeyByID(ctx context.Context, id identity.APIKeyID) (*identity.APIKey, error) {
	var r apiKeyRow
	if err := s.idb(ctx).NewSelect().Model(&r).Where("ak.id = ?", id).Scan(ctx); err != nil {
		return nil, failure("sqlstore.APIKeyByID", "API key", err)
	}
	return r.apiKey(), nil
}

// ListAPIKeys returns a practice's keys, oldest first.
func (s *Identity) ListAPIKeys(ctx context.Context, practice tenant.PracticeID) ([]*identity.APIKey, error) {
	var rows []apiKeyRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("ak.practice_id = ?", practice).
		OrderExpr("ak.created_at, ak.id").Scan(ctx); err != nil {
		return nil, failure("sqlstore.ListAPIKeys", "API key", err)
	}
	out := make([]*identity.APIKey, len(rows))
	for i := range rows {
		out[i] = rows[i].apiKey()
	}
	return out, nil
}

// RevokeAPIKey revokes an unrevoked key of a practice, or returns
// KindNotFound.
func (s *Identity) RevokeAPIKey(ctx context.Context, practice tenant.PracticeID, id identity.APIKeyID, at time.Time) error {
	res, err := s.idb(ctx).NewUpdate().Table("api_keys").Set("revoked_at = ?", utc(at)).
		Where("practice_id = ?", practice).Where("id = ?", id).Where("revoked_at IS NULL").Exec(ctx)
	return affected("sqlstore.RevokeAPIKey", "API key", res, err)
}
