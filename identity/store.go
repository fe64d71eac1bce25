package identity

import (
	"context"
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Store keeps accounts, sessions, second factors, invitations, email
// verifications, session policies and API keys. It is the one interface a
// storage adapter implements for identity; identity/identitytest checks
// every implementation.
//
// The contract every implementation keeps:
//   - It is safe for concurrent use, also by several processes on one database.
//   - Accounts are global; everything else is scoped: sessions, recovery
//     codes and verifications by their account, invitations, session
//     policies and API keys by their practice. A record of another account
//     or practice is never returned, changed or deleted, and reads as not
//     found. The lookups by token hash and by API key ID are global by
//     design: they are how a caller finds out who it is.
//   - Get and lookup methods, and updates of a record that does not exist,
//     return an *errs.Error of KindNotFound. Create methods store the value as
//     given (IDs, hashes and timestamps are set by the Service); they return
//     KindConflict on a duplicate unique key (an account's email or phone)
//     and KindNotFound when a referenced practice or account does not exist.
//   - The Use and Accept methods are single-use under concurrency: of any
//     number of concurrent calls for one token or code, exactly one succeeds
//     and the others get KindConflict.
//   - Slices come back non-nil (empty when none) and in the documented order.
//   - Times come back in UTC with at least microsecond precision.
type Store interface {
	// InTx runs fn in one transaction, carried in the context fn receives:
	// every method called with that context runs in the transaction, which
	// commits if fn returns nil and rolls back otherwise. Called with a
	// context that already carries a transaction, it runs fn in that one.
	// An adapter serving several domains over one database shares its
	// transactions between them: the change of one domain and another's
	// writes made with the same context commit together.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// Lock takes exclusive locks on keys (account IDs) held until the
	// transaction ends, so that concurrent logins of one account run one
	// after the other, across processes. It must be called inside
	// InTx.
	Lock(ctx context.Context, keys ...uuid.UUID) error

	// CreateAccount stores a new account; KindConflict if its email or
	// phone is taken.
	CreateAccount(ctx context.Context, a *Account) error
	GetAccount(ctx context.Context, id AccountID) (*Account, error)
	// AccountByEmail finds an account by its lower-case email.
	AccountByEmail(ctx context.Context, email string) (*Account, error)
	// AccountByPhone finds an account by its E.164 phone.
	AccountByPhone(ctx context.Context, phone string) (*Account, error)
	// SetLoginState writes the failure count and lock of an account.
	SetLoginState(ctx context.Context, id AccountID, st LoginState, at time.Time) error
	// SetPassword replaces an account's password hash.
	SetPassword(ctx context.Context, id AccountID, hash string, at time.Time) error
	// SetEmailVerified records when an account's email was verified.
	SetEmailVerified(ctx context.Context, id AccountID, at time.Time) error
	// SetTOTP writes an account's TOTP secret and whether it is enabled,
	// and resets its last accepted step to lastStep.
	SetTOTP(ctx context.Context, id AccountID, secret string, enabled bool, lastStep int64, at time.Time) error
	// UseTOTPStep records that the code of time step step was accepted,
	// only if no code of that step or a later one was: otherwise it
	// returns KindConflict. Concurrent calls with one step: one succeeds.
	UseTOTPStep(ctx context.Context, id AccountID, step int64) error

	// ReplaceRecoveryCodes drops an account's recovery codes and stores the
	// given hashes instead, all or nothing.
	ReplaceRecoveryCodes(ctx context.Context, account AccountID, hashes [][]byte, at time.Time) error
	// UseRecoveryCode marks the unused code with this hash used; KindConflict
	// if it is already used, KindNotFound if the account has no such code.
	UseRecoveryCode(ctx context.Context, account AccountID, hash []byte, at time.Time) error
	// CountRecoveryCodes returns how many unused recovery codes are left.
	CountRecoveryCodes(ctx context.Context, account AccountID) (int, error)

	CreateSession(ctx context.Context, s *Session) error
	// SessionByTokenHash finds a session, live or not, by its token hash.
	SessionByTokenHash(ctx context.Context, hash []byte) (*Session, error)
	// LiveSessions returns the account's sessions that are not revoked and
	// whose idle and absolute expiries are after now, least recently used
	// first (ties by ID).
	LiveSessions(ctx context.Context, account AccountID, now time.Time) ([]*Session, error)
	// TouchSession moves a session's last use to at and its idle expiry to
	// idleExpiresAt.
	TouchSession(ctx context.Context, account AccountID, id SessionID, at, idleExpiresAt time.Time) error
	// RevokeSession revokes one unrevoked session of the account;
	// KindNotFound if it has none with that ID that is not yet revoked.
	RevokeSession(ctx context.Context, account AccountID, id SessionID, at time.Time) error
	// RevokeSessions revokes every unrevoked session of the account but
	// except (which may be the zero ID) and returns how many it revoked.
	RevokeSessions(ctx context.Context, account AccountID, except SessionID, at time.Time) (int, error)

	// GetSessionPolicy returns a practice's session policy; KindNotFound if
	// it has set none.
	GetSessionPolicy(ctx context.Context, practice tenant.PracticeID) (*SessionPolicy, error)
	// PutSessionPolicy creates or replaces a practice's session policy.
	PutSessionPolicy(ctx context.Context, practice tenant.PracticeID, p SessionPolicy, at time.Time) error

	CreateInvitation(ctx context.Context, inv *Invitation) error
	// InvitationByTokenHash finds an invitation, accepted or not.
	InvitationByTokenHash(ctx context.Context, hash []byte) (*Invitation, error)
	// AcceptInvitation marks an unaccepted invitation accepted by account;
	// KindConflict if it already was.
	AcceptInvitation(ctx context.Context, practice tenant.PracticeID, id InvitationID, account AccountID, at time.Time) error

	CreateVerification(ctx context.Context, v *Verification) error
	// VerificationByTokenHash finds a verification, used or not.
	VerificationByTokenHash(ctx context.Context, hash []byte) (*Verification, error)
	// UseVerification marks an unused verification used; KindConflict if it
	// already was.
	UseVerification(ctx context.Context, hash []byte, at time.Time) error

	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKeyByID finds an API key, revoked or not, by its ID alone.
	APIKeyByID(ctx context.Context, id APIKeyID) (*APIKey, error)
	// ListAPIKeys returns a practice's API keys, revoked ones included,
	// oldest first (ties by ID).
	ListAPIKeys(ctx context.Context, practice tenant.PracticeID) ([]*APIKey, error)
	// RevokeAPIKey revokes an unrevoked key of the practice; KindNotFound if
	// the practice has no such unrevoked key.
	RevokeAPIKey(ctx context.Context, practice tenant.PracticeID, id APIKeyID, at time.Time) error
}
