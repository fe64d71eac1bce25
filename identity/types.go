package identity

import (
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// AccountID identifies an account. Accounts are global: one account signs in
// to carebook, whatever practices it later works with.
type AccountID = uuid.UUID

// SessionID identifies a session.
type SessionID = uuid.UUID

// InvitationID identifies a staff invitation.
type InvitationID = uuid.UUID

// APIKeyID identifies an API key; it is the visible part of the key.
type APIKeyID = uuid.UUID

// AccountKind tells staff from patients.
type AccountKind string

// The kinds of account.
const (
	Staff   AccountKind = "staff"
	Patient AccountKind = "patient"
)

// Valid reports whether k is a known kind.
func (k AccountKind) Valid() bool { return k == Staff || k == Patient }

// Account is someone who signs in. Email and Phone are each optional and
// unique across carebook, but an account has at least one of them. The
// secrets (password hash, TOTP secret) are never JSON-encoded.
type Account struct {
	ID   AccountID   `json:"id"`
	Kind AccountKind `json:"kind"`
	// PracticeID is the account's home practice, the one that invited or
	// registered it; its session policy applies to the account's sessions.
	PracticeID tenant.PracticeID `json:"practice_id"`
	// Email is lower-case; "" when the account has none.
	Email string `json:"email,omitempty"`
	// Phone is E.164; "" when the account has none.
	Phone string `json:"phone,omitempty"`
	// PasswordHash is the PHC-style argon2id hash of the password.
	PasswordHash string `json:"-"`
	// EmailVerifiedAt is when the email was proven, nil until then.
	EmailVerifiedAt *time.Time `json:"email_verified_at,omitempty"`
	// FailedLogins counts failed sign-ins since the last success or lock.
	FailedLogins int `json:"-"`
	// Lockouts counts locks since the last success; each lock lasts twice
	// as long as the one before.
	Lockouts int `json:"-"`
	// LockedUntil is when a temporary lock ends; nil or past means unlocked.
	LockedUntil *time.Time `json:"locked_until,omitempty"`
	// TOTPSecret is the TOTP secret as stored, set by enrollment ("" if
	// none): sealed with the Service's Config.Keys ("tink:v1:…"), or the
	// base32 secret in clear (a row written by an earlier release).
	TOTPSecret string `json:"-"`
	// TOTPEnabled is true once enrollment is confirmed with a valid code.
	TOTPEnabled bool `json:"totp_enabled"`
	// TOTPLastStep is the time step of the last TOTP code accepted, so that
	// a code is never accepted twice.
	TOTPLastStep int64     `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Locked reports whether the account is locked at now.
func (a *Account) Locked(now time.Time) bool {
	return a.LockedUntil != nil && now.Before(*a.LockedUntil)
}

// LoginState is the part of an account that sign-in attempts change.
type LoginState struct {
	FailedLogins int
	Lockouts     int
	LockedUntil  *time.Time
}

// Session is one signed-in device. Only the SHA-256 hash of its token is
// kept; the token itself is given once, by Login.
type Session struct {
	ID         SessionID         `json:"id"`
	AccountID  AccountID         `json:"account_id"`
	Kind       AccountKind       `json:"kind"`
	PracticeID tenant.PracticeID `json:"practice_id"`
	TokenHash  []byte            `json:"-"`
	Device     string            `json:"device"`
	IP         string            `json:"ip,omitempty"`
	UserAgent  string            `json:"user_agent,omitempty"`
	// NeedsMFAEnrollment marks a staff session of a practice that requires a
	// second factor, signed in by an account that has none yet: it may only
	// be used to enroll one.
	NeedsMFAEnrollment bool      `json:"needs_mfa_enrollment"`
	CreatedAt          time.Time `json:"created_at"`
	LastUsedAt         time.Time `json:"last_used_at"`
	// IdleTimeout is the idle timeout the session was created under.
	IdleTimeout time.Duration `json:"-"`
	// IdleExpiresAt is LastUsedAt plus IdleTimeout.
	IdleExpiresAt time.Time `json:"idle_expires_at"`
	// ExpiresAt is the absolute end of the session, however active.
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Live reports whether the session can be used at now.
func (s *Session) Live(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt) && now.Before(s.IdleExpiresAt)
}

// OnLimit is what a login past the device limit does.
type OnLimit string

// The answers to a login past the device limit.
const (
	// Refuse refuses the new login (KindPreconditionFailed, field "device").
	Refuse OnLimit = "refuse"
	// EvictLRU ends the least recently used session to make room.
	EvictLRU OnLimit = "evict_lru"
)

// SessionLimits are the session rules for one kind of account.
type SessionLimits struct {
	// Idle ends a session unused for this long.
	Idle time.Duration `json:"-"`
	// Absolute ends a session this long after login, however active.
	Absolute time.Duration `json:"-"`
	// Devices is how many live sessions an account may hold at once.
	Devices int `json:"devices"`
	// OnLimit says what a login past Devices does.
	OnLimit OnLimit `json:"on_limit"`
}

// SessionPolicy is a practice's session rules, for the accounts whose home
// practice it is. Durations are not JSON-encoded: APIs show them in minutes.
type SessionPolicy struct {
	Staff   SessionLimits `json:"staff"`
	Patient SessionLimits `json:"patient"`
	// RequireStaffMFA makes staff sign in with a second factor; staff
	// without one get sessions flagged NeedsMFAEnrollment.
	RequireStaffMFA bool `json:"require_staff_mfa"`
}

// DefaultSessionPolicy is the policy of a practice that sets none: staff 15
// minutes idle, 12 hours absolute, 3 devices; patients 30 minutes, 7 days, 5
// devices; a login past the limit evicts the least recently used session;
// second factors are optional.
var DefaultSessionPolicy = SessionPolicy{
	Staff:   SessionLimits{Idle: 15 * time.Minute, Absolute: 12 * time.Hour, Devices: 3, OnLimit: EvictLRU},
	Patient: SessionLimits{Idle: 30 * time.Minute, Absolute: 7 * 24 * time.Hour, Devices: 5, OnLimit: EvictLRU},
}

// For returns the limits for accounts of kind k.
func (p SessionPolicy) For(k AccountKind) SessionLimits {
	if k == Staff {
		return p.Staff
	}
	return p.Patient
}

// Invitation invites someone by email to join a practice's staff with a role.
// It is single-use and expires.
type Invitation struct {
	ID         InvitationID      `json:"id"`
	PracticeID tenant.PracticeID `json:"practice_id"`
	Email      string            `json:"email"`
	// Role is the rbac role to grant once accepted; identity does not
	// interpret it.
	Role       string     `json:"role"`
	InvitedBy  AccountID  `json:"invited_by"`
	TokenHash  []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	// AccountID is the account created by accepting, nil until then.
	AccountID *AccountID `json:"account_id,omitempty"`
}

// Verification is a single-use token that proves an account's email.
type Verification struct {
	TokenHash []byte     `json:"-"`
	AccountID AccountID  `json:"account_id"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
}

// APIKey lets an integrator's program act for a practice with a fixed set
// of permissions. Its plaintext, "cbk_<id>_<secret>", is shown once.
type APIKey struct {
	ID          APIKeyID          `json:"id"`
	PracticeID  tenant.PracticeID `json:"practice_id"`
	Name        string            `json:"name"`
	Permissions []string          `json:"permissions"`
	SecretHash  []byte            `json:"-"`
	CreatedBy   AccountID         `json:"created_by"`
	CreatedAt   time.Time         `json:"created_at"`
	RevokedAt   *time.Time        `json:"revoked_at,omitempty"`
}
