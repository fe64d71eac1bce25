package carebook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"github.com/carebook/carebook/contact"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/google/uuid"
)

// The operator's support staff: principals of their own, outside every
// practice. A member is no identity.Account and holds no rbac grant, so an
// Operator in a context is never a Caller: the guard (Authorize) refuses
// every practice and patient operation to a context that carries only an
// Operator, and the support operations (support.go) refuse every context
// that carries none. Support staff see practices' accounts and billing,
// never their patients.

// Operator is a signed-in member of the operator's support staff, as a
// context carries it (WithOperator).
type Operator struct {
	ID    uuid.UUID
	Email string
}

// Actor is how the activity log names the member: "operator:" and the
// email.
func (o Operator) Actor() string { return "operator:" + o.Email }

// OperatorRole is the activity log's role of a support action.
const OperatorRole = "support"

// The support session's lifetimes: a short idle timeout on the engine's
// clock, and an absolute end however active.
const (
	OperatorIdleTimeout = 15 * time.Minute
	OperatorSessionMax  = 8 * time.Hour
)

type operatorKey struct{} // keys a context's *Operator

// WithOperator returns ctx carrying op. It sets no Caller: the context
// may do the support operations and nothing of a practice.
func WithOperator(ctx context.Context, op Operator) context.Context {
	return context.WithValue(ctx, operatorKey{}, &op)
}

// OperatorFrom returns the Operator ctx carries.
func OperatorFrom(ctx context.Context) (*Operator, bool) {
	op, ok := ctx.Value(operatorKey{}).(*Operator)
	return op, ok
}

// requireOperator returns the Operator of ctx, or KindUnauthenticated.
func requireOperator(ctx context.Context, op string) (*Operator, error) {
	o, ok := OperatorFrom(ctx)
	if !ok {
		return nil, errs.E(errs.KindUnauthenticated, op, "no operator: the context carries no support staff member (carebook.WithOperator)")
	}
	return o, nil
}

// argon2 returns the password hashing parameters of the identity service.
func (e *Engine) argon2() identity.Argon2Params {
	if e.identityConfig.Argon2 == (identity.Argon2Params{}) {
		return identity.OWASPArgon2
	}
	return e.identityConfig.Argon2
}

// AddOperator adds a member of the support staff with email and returns
// their one-time random password, hashed as accounts' passwords are
// (argon2id). A bad email is KindInvalid naming "email"; one taken,
// KindConflict.
func (e *Engine) AddOperator(ctx context.Context, email string) (*Operator, string, error) {
	const op = "carebook.AddOperator"
	email, err := contact.NormalizeEmail(op, "email", email)
	if err != nil {
		return nil, "", err
	}
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return nil, "", errs.Wrap(errs.KindInternal, op, "cannot make a password", err)
	}
	pw := base64.RawURLEncoding.EncodeToString(b)
	hash, err := identity.HashPassword(pw, e.argon2())
	if err != nil {
		return nil, "", errs.Wrap(errs.KindInternal, op, "cannot hash the password", err)
	}
	m := &identity.OperatorStaff{ID: e.IDs.New(), Email: email, PasswordHash: hash, CreatedAt: e.Clock.Now().UTC()}
	if err := e.store.Operators.CreateStaff(ctx, m); err != nil {
		return nil, "", err
	}
	return &Operator{ID: m.ID, Email: m.Email}, pw, nil
}

// OperatorSignIn checks a support staff member's email and password and
// opens a session: the token, given once (only its hash is kept). A wrong
// email or password, or a disabled member, is KindUnauthenticated naming
// "password", the same for each so that emails do not leak. Failures in a
// row lock the member out as they lock an account (the identity
// service's MaxFailedLogins and lockouts, WithIdentityConfig): while
// locked, KindRateLimited with the seconds to wait, even for the right
// password; a success resets the count.
func (e *Engine) OperatorSignIn(ctx context.Context, email, password string) (string, *Operator, error) {
	const op = "carebook.OperatorSignIn"
	bad := &errs.Error{Kind: errs.KindUnauthenticated, Op: op, Field: "password", Msg: "wrong email or password"}
	if strings.TrimSpace(email) == "" {
		return "", nil, errs.Invalid(op, "email", "is required")
	}
	if password == "" {
		return "", nil, errs.Invalid(op, "password", "is required")
	}
	m, err := e.store.Operators.StaffByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errs.Is(err, errs.KindNotFound) {
		return "", nil, bad
	}
	if err != nil {
		return "", nil, err
	}
	now := e.Clock.Now().UTC()
	if err := identity.LockedOut(op, m.Login, now); err != nil {
		return "", nil, err
	}
	ok, err := identity.VerifyPassword(password, m.PasswordHash)
	if err != nil || !ok || m.DisabledAt != nil {
		return "", nil, cmpOr(e.operatorFailed(ctx, m.ID, now), bad)
	}
	tok, hash, err := identity.NewToken()
	if err != nil {
		return "", nil, errs.Wrap(errs.KindInternal, op, "cannot make a session token", err)
	}
	s := &identity.OperatorSession{ID: e.IDs.New(), StaffID: m.ID, TokenHash: hash, CreatedAt: now, LastUsedAt: now,
		IdleExpiresAt: now.Add(OperatorIdleTimeout), ExpiresAt: now.Add(OperatorSessionMax)}
	err = e.InTx(ctx, func(ctx context.Context) error {
		cur, err := e.store.Operators.LockStaff(ctx, m.ID)
		if err != nil {
			return err
		}
		// A lock taken by a racing sign-in meanwhile holds.
		if err := identity.LockedOut(op, cur.Login, now); err != nil {
			return err
		}
		if cur.Login != (identity.LoginState{}) {
			if err := e.store.Operators.SetStaffLogin(ctx, m.ID, identity.LoginState{}); err != nil {
				return err
			}
		}
		return e.store.Operators.CreateSession(ctx, s)
	})
	if err != nil {
		return "", nil, err
	}
	return tok, &Operator{ID: m.ID, Email: m.Email}, nil
}

// operatorFailed counts a failed sign-in of support staff member id at
// now, under the member's lock, by the accounts' rule (identity's
// Service.Failed: locked after MaxFailedLogins in a row).
func (e *Engine) operatorFailed(ctx context.Context, id uuid.UUID, now time.Time) error {
	return e.InTx(ctx, func(ctx context.Context) error {
		cur, err := e.store.Operators.LockStaff(ctx, id)
		if err != nil {
			return err
		}
		return e.store.Operators.SetStaffLogin(ctx, id, e.Identity.Failed(cur.Login, now))
	})
}

// OperatorAuthenticate returns the support staff member of a live session
// token, and moves its idle expiry on. A revoked, expired or unknown token,
// or a member disabled since, is KindUnauthenticated.
func (e *Engine) OperatorAuthenticate(ctx context.Context, token string) (*Operator, error) {
	const op = "carebook.OperatorAuthenticate"
	if token == "" {
		return nil, errs.E(errs.KindUnauthenticated, op, "no session token")
	}
	s, err := e.store.Operators.SessionByTokenHash(ctx, identity.HashToken(token))
	if errs.Is(err, errs.KindNotFound) {
		return nil, errs.E(errs.KindUnauthenticated, op, "invalid session token")
	}
	if err != nil {
		return nil, err
	}
	now := e.Clock.Now().UTC()
	if !s.Live(now) {
		return nil, errs.E(errs.KindUnauthenticated, op, "session expired")
	}
	m, err := e.store.Operators.Staff(ctx, s.StaffID)
	if err != nil {
		return nil, err
	}
	if m.DisabledAt != nil {
		return nil, errs.E(errs.KindUnauthenticated, op, "the staff member is disabled")
	}
	if err := e.store.Operators.TouchSession(ctx, s.ID, now, now.Add(OperatorIdleTimeout)); err != nil {
		return nil, err
	}
	return &Operator{ID: m.ID, Email: m.Email}, nil
}

// OperatorSignOut ends the support session of token; an unknown or ended
// one is no error.
func (e *Engine) OperatorSignOut(ctx context.Context, token string) error {
	s, err := e.store.Operators.SessionByTokenHash(ctx, identity.HashToken(token))
	if errs.Is(err, errs.KindNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := e.store.Operators.RevokeSession(ctx, s.ID, e.Clock.Now().UTC()); err != nil && !errs.Is(err, errs.KindNotFound) {
		return err
	}
	return nil
}
