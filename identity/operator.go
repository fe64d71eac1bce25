package identity

import (
	"time"

	"github.com/google/uuid"
)

// OperatorStaff is a member of the operator's support staff: a principal
// of its own, outside every practice (it is no Account and holds no
// grant), signed in with a password hashed as accounts' are
// (HashPassword).
type OperatorStaff struct {
	ID           uuid.UUID
	Email        string // lower case, unique
	PasswordHash string
	CreatedAt    time.Time
	DisabledAt   *time.Time // set: the member may no longer sign in
	// Login counts the failed sign-ins in a row and the lock they led to,
	// as an Account's (Service.Failed).
	Login LoginState
}

// OperatorSession is a signed-in support session. Only the SHA-256 hash of
// its token is kept (HashToken), as for a Session.
type OperatorSession struct {
	ID            uuid.UUID
	StaffID       uuid.UUID
	TokenHash     []byte
	CreatedAt     time.Time
	LastUsedAt    time.Time
	IdleExpiresAt time.Time
	ExpiresAt     time.Time
	RevokedAt     *time.Time
}

// Live reports whether the session can be used at now.
func (s *OperatorSession) Live(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt) && now.Before(s.IdleExpiresAt)
}
