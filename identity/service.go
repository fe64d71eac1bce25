package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/contact"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
)

// Config holds the Service's tunables. Zero fields take the defaults named.
type Config struct {
	// Argon2 are the password hashing parameters; zero: OWASPArgon2. Tests
	// may lower them. Hashes keep their own parameters, so changing these
	// does not invalidate stored passwords.
	Argon2 Argon2Params
	// MaxFailedLogins locks an account after this many failures in a row;
	// 0: 5.
	MaxFailedLogins int
	// LockoutBase is how long the first lock lasts; each further lock
	// before a successful login lasts twice as long as the one before; 0:
	// 15 minutes.
	LockoutBase time.Duration
	// LockoutMax caps a lock; 0: 24 hours.
	LockoutMax time.Duration
	// TouchInterval is how stale a session's recorded last use may get
	// before Authenticate writes it again; 0: one minute.
	TouchInterval time.Duration
	// InvitationTTL is how long an invitation is good for; 0: 7 days.
	InvitationTTL time.Duration
	// VerificationTTL is how long an email verification is good for; 0: 24
	// hours.
	VerificationTTL time.Duration
	// TOTPIssuer names carebook in authenticator apps; "": "carebook".
	TOTPIssuer string
	// Keys seals TOTP secrets at rest (a *keys.Service; carebook.Engine
	// gives its own). Secrets stored in clear by an earlier release keep
	// working and are sealed the next time the Service writes them (a
	// sign-in with a TOTP code or a recovery code, or a confirmed
	// enrollment). Without it, enrolling TOTP fails: a secret is never
	// stored in clear.
	Keys Sealer
}

func (c Config) withDefaults() Config {
	if c.Argon2 == (Argon2Params{}) {
		c.Argon2 = OWASPArgon2
	}
	if c.MaxFailedLogins <= 0 {
		c.MaxFailedLogins = 5
	}
	if c.LockoutBase <= 0 {
		c.LockoutBase = 15 * time.Minute
	}
	if c.LockoutMax <= 0 {
		c.LockoutMax = 24 * time.Hour
	}
	if c.TouchInterval <= 0 {
		c.TouchInterval = time.Minute
	}
	if c.InvitationTTL <= 0 {
		c.InvitationTTL = 7 * 24 * time.Hour
	}
	if c.VerificationTTL <= 0 {
		c.VerificationTTL = 24 * time.Hour
	}
	if c.TOTPIssuer == "" {
		c.TOTPIssuer = "carebook"
	}
	return c
}

// Service signs accounts in and keeps their credentials. It is safe for
// concurrent use.
type Service struct {
	store Store
	clock clock.Clock
	ids   clock.IDSource
	cfg   Config
	// dummy is a hash that unknown accounts are checked against, so that
	// they cost as much time as known ones.
	dummy string
}

// NewService returns a Service over store.
func NewService(store Store, c clock.Clock, ids clock.IDSource, cfg Config) *Service {
	cfg = cfg.withDefaults()
	dummy, err := HashPassword("carebook-dummy-password", cfg.Argon2)
	if err != nil {
		panic(err) // crypto/rand failed, which it does not on supported systems
	}
	return &Service{store: store, clock: c, ids: ids, cfg: cfg, dummy: dummy}
}

func (s *Service) now() time.Time { return s.clock.Now().UTC() }

// LoginRequest is the input of Login.
type LoginRequest struct {
	// Identifier is the account's email or E.164 phone.
	Identifier string
	Password   string
	// TOTPCode or RecoveryCode is required when the account has TOTP on.
	TOTPCode     string
	RecoveryCode string
	// Device, IP and UserAgent describe the device, for ListSessions.
	Device    string
	IP        string
	UserAgent string
}

// errSecondFactor marks a failed second factor inside a login's transaction.
var errSecondFactor = errors.New("second factor refused")

// Login checks credentials and opens a session, returning its token (shown
// only here) and the session: CheckLogin, then FinishLogin.
//
// A wrong password and an unknown identifier give the same
// KindUnauthenticated error, after the same work. After MaxFailedLogins
// failures in a row the account is locked for LockoutBase, doubling with
// each further lock up to LockoutMax; while locked, Login answers
// KindRateLimited. A success resets the count. An account with TOTP on must
// give a valid, unused TOTPCode or an unused RecoveryCode (failures count
// like wrong passwords). A staff account without TOTP whose practice
// requires it gets a session flagged NeedsMFAEnrollment. Past the device
// limit of its practice's policy, Login either refuses (KindPreconditionFailed,
// field "device") or ends the least recently used session.
func (s *Service) Login(ctx context.Context, req LoginRequest) (string, *Session, error) {
	at, err := s.CheckLogin(ctx, req)
	if err != nil {
		return "", nil, err
	}
	return s.FinishLogin(ctx, at)
}

// LoginAttempt is a login whose password CheckLogin has checked, for
// FinishLogin to complete.
type LoginAttempt struct {
	req     LoginRequest
	account *Account
	// refusal is why the login is refused before FinishLogin's checks:
	// bad credentials (counted when account is known) or a lock.
	refusal error
	// count is whether FinishLogin counts the refusal as a failure.
	count bool
}

// Account is the account the attempt's identifier names, or nil when it
// names none: the account whose activity log records the attempt.
func (at *LoginAttempt) Account() *Account { return at.account }

// CheckLogin does the part of Login that writes nothing: it finds the
// account and verifies the password (argon2id, the slow part), so that a
// caller can do it before opening the transaction FinishLogin writes in.
// Refused credentials are not an error here but the attempt's, for
// FinishLogin to count and return; an error means the store failed or a
// stored hash is unreadable.
func (s *Service) CheckLogin(ctx context.Context, req LoginRequest) (*LoginAttempt, error) {
	const op = "identity.Login"
	now := s.now()
	acct, err := s.lookup(ctx, op, req.Identifier)
	if errs.Is(err, errs.KindNotFound) || errs.Is(err, errs.KindInvalid) {
		_, _ = VerifyPassword(req.Password, s.dummy)
		return &LoginAttempt{req: req, refusal: badCredentials(op, "")}, nil
	}
	if err != nil {
		return nil, err
	}
	at := &LoginAttempt{req: req, account: acct}
	if acct.Locked(now) {
		at.refusal = locked(op, *acct.LockedUntil, now)
		return at, nil
	}
	ok, err := VerifyPassword(req.Password, acct.PasswordHash)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, op, "stored password hash is unreadable", err)
	}
	if !ok {
		at.refusal, at.count = badCredentials(op, ""), true
	}
	return at, nil
}

// FinishLogin completes an attempt of CheckLogin in one transaction of the
// Service's store (the caller's, on a bound Service): it counts a refused
// password or second factor, and locks the account when the count reaches
// MaxFailedLogins, or else opens the session. A refusal (KindUnauthenticated,
// KindRateLimited or KindPreconditionFailed) is returned after the
// transaction function succeeded, so that what it counted commits; on a
// bound Service the caller decides. See Login for the rules.
func (s *Service) FinishLogin(ctx context.Context, at *LoginAttempt) (string, *Session, error) {
	const op = "identity.Login"
	if at.account == nil {
		return "", nil, at.refusal
	}
	now := s.now()
	req := at.req
	var (
		tok     string
		sess    *Session
		refusal error
	)
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.Lock(ctx, at.account.ID); err != nil {
			return err
		}
		acct, err := s.store.GetAccount(ctx, at.account.ID)
		if err != nil {
			return err
		}
		switch {
		case acct.Locked(now):
			refusal = locked(op, *acct.LockedUntil, now)
			return nil
		case at.refusal != nil:
			refusal = at.refusal
			if at.count {
				return s.fail(ctx, s.store, acct, now)
			}
			return nil
		case acct.PasswordHash != at.account.PasswordHash:
			// Changed since CheckLogin verified the old one.
			refusal = badCredentials(op, "")
			return nil
		case acct.TOTPEnabled && req.TOTPCode == "" && req.RecoveryCode == "":
			refusal = &errs.Error{Kind: errs.KindUnauthenticated, Op: op, Field: "totp_code",
				Msg: "a TOTP code or a recovery code is required"}
			return nil
		case acct.TOTPEnabled:
			secret, err := openSecret(ctx, s.cfg.Keys, acct.ID, acct.TOTPSecret)
			if err != nil {
				return err
			}
			field, err := secondFactor(ctx, s.store, acct, secret, req, now)
			if errors.Is(err, errSecondFactor) {
				refusal = badCredentials(op, field)
				return s.fail(ctx, s.store, acct, now)
			}
			if err != nil {
				return err
			}
			if err := s.sealLegacySecret(ctx, s.store, acct, secret, now); err != nil {
				return err
			}
		}
		tok, sess, refusal, err = s.openSession(ctx, s.store, acct, req, now)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	if refusal != nil {
		return "", nil, refusal
	}
	return tok, sess, nil
}

// openSession opens a session of acct in tx, within the device limit of its
// practice's policy, and resets its failure count. A refusal of the device
// limit is returned as refusal, with nothing written.
func (s *Service) openSession(ctx context.Context, tx Store, acct *Account, req LoginRequest, now time.Time) (tok string, sess *Session, refusal, err error) {
	const op = "identity.Login"
	pol, err := s.SessionPolicy(ctx, acct.PracticeID)
	if err != nil {
		return "", nil, nil, err
	}
	lim := pol.For(acct.Kind)
	live, err := tx.LiveSessions(ctx, acct.ID, now)
	if err != nil {
		return "", nil, nil, err
	}
	if len(live) >= lim.Devices && lim.OnLimit == Refuse {
		return "", nil, &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "device",
			Msg: fmt.Sprintf("already signed in on %d devices; sign out on one first", lim.Devices)}, nil
	}
	for ; len(live) >= lim.Devices; live = live[1:] {
		if err := tx.RevokeSession(ctx, acct.ID, live[0].ID, now); err != nil {
			return "", nil, nil, err
		}
	}
	tok, hash, err := NewToken()
	if err != nil {
		return "", nil, nil, err
	}
	sess = &Session{
		ID: s.ids.New(), AccountID: acct.ID, Kind: acct.Kind, PracticeID: acct.PracticeID, TokenHash: hash,
		Device: clip(req.Device, 200), IP: clip(req.IP, 64), UserAgent: clip(req.UserAgent, 500),
		NeedsMFAEnrollment: acct.Kind == Staff && pol.RequireStaffMFA && !acct.TOTPEnabled,
		CreatedAt:          now, LastUsedAt: now, IdleTimeout: lim.Idle,
		IdleExpiresAt: now.Add(lim.Idle), ExpiresAt: now.Add(lim.Absolute),
	}
	if err := tx.CreateSession(ctx, sess); err != nil {
		return "", nil, nil, err
	}
	if acct.FailedLogins != 0 || acct.Lockouts != 0 || acct.LockedUntil != nil {
		if err := tx.SetLoginState(ctx, acct.ID, LoginState{}, now); err != nil {
			return "", nil, nil, err
		}
	}
	return tok, sess, nil, nil
}

// lookup finds the account of an email or phone identifier.
func (s *Service) lookup(ctx context.Context, op, id string) (*Account, error) {
	id = strings.TrimSpace(id)
	if strings.Contains(id, "@") {
		email, err := contact.NormalizeEmail(op, "identifier", id)
		if err != nil {
			return nil, err
		}
		return s.store.AccountByEmail(ctx, email)
	}
	phone, err := contact.NormalizePhone(op, "identifier", id)
	if err != nil {
		return nil, err
	}
	return s.store.AccountByPhone(ctx, phone)
}

// fail counts a failed login of a, read under its lock in tx, and locks
// the account when the count reaches MaxFailedLogins.
func (s *Service) fail(ctx context.Context, tx Store, a *Account, now time.Time) error {
	st := s.Failed(LoginState{FailedLogins: a.FailedLogins, Lockouts: a.Lockouts, LockedUntil: a.LockedUntil}, now)
	return tx.SetLoginState(ctx, a.ID, st, now)
}

// Failed returns the login state after one more failed sign-in at now
// from st: the count goes up, and at MaxFailedLogins it is reset and the
// principal is locked for LockoutBase, doubling with each lock before a
// success, up to LockoutMax. Accounts keep this rule, and so do the
// operator's support staff (carebook.Engine.OperatorSignIn).
func (s *Service) Failed(st LoginState, now time.Time) LoginState {
	next := LoginState{FailedLogins: st.FailedLogins + 1, Lockouts: st.Lockouts, LockedUntil: st.LockedUntil}
	if next.FailedLogins >= s.cfg.MaxFailedLogins {
		until := now.Add(s.lockout(st.Lockouts))
		next = LoginState{Lockouts: st.Lockouts + 1, LockedUntil: &until}
	}
	return next
}

// LockedOut is the refusal of a sign-in at now of a principal in state
// st while it is locked (KindRateLimited with the seconds to wait in
// Details["retry_after_seconds"]), or nil.
func LockedOut(op string, st LoginState, now time.Time) error {
	if st.LockedUntil == nil || !now.Before(*st.LockedUntil) {
		return nil
	}
	return locked(op, *st.LockedUntil, now)
}

// lockout is how long the lock after n earlier locks lasts.
func (s *Service) lockout(n int) time.Duration {
	d := s.cfg.LockoutBase
	for range n {
		d *= 2
		if d >= s.cfg.LockoutMax {
			return s.cfg.LockoutMax
		}
	}
	return min(d, s.cfg.LockoutMax)
}

func badCredentials(op, field string) error {
	msg := "wrong identifier or password"
	if field != "" {
		msg = "wrong or used code"
	}
	return &errs.Error{Kind: errs.KindUnauthenticated, Op: op, Field: field, Msg: msg}
}

func locked(op string, until, now time.Time) error {
	wait := until.Sub(now).Round(time.Second)
	return &errs.Error{Kind: errs.KindRateLimited, Op: op,
		Msg:     "too many failed sign-ins; try again in " + wait.String(),
		Details: map[string]any{"retry_after_seconds": int64(wait / time.Second)}}
}

// Authenticate returns the live session of token. A revoked, expired or
// unknown token gives KindUnauthenticated. It records the use when the
// recorded one is older than TouchInterval (so a session's idle expiry may
// come up to that much early), sparing the database a write per request.
func (s *Service) Authenticate(ctx context.Context, token string) (*Session, error) {
	const op = "identity.Authenticate"
	if token == "" {
		return nil, errs.E(errs.KindUnauthenticated, op, "no session token")
	}
	sess, err := s.store.SessionByTokenHash(ctx, HashToken(token))
	if errs.Is(err, errs.KindNotFound) {
		return nil, errs.E(errs.KindUnauthenticated, op, "invalid session token")
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !sess.Live(now) {
		return nil, errs.E(errs.KindUnauthenticated, op, "session expired")
	}
	if now.Sub(sess.LastUsedAt) >= s.cfg.TouchInterval {
		idle := now.Add(sess.IdleTimeout)
		if err := s.store.TouchSession(ctx, sess.AccountID, sess.ID, now, idle); err != nil {
			return nil, err
		}
		sess.LastUsedAt, sess.IdleExpiresAt = now, idle
	}
	return sess, nil
}

// Logout ends the session of token. Ending a session already ended is not
// an error; an unknown token is KindUnauthenticated.
func (s *Service) Logout(ctx context.Context, token string) error {
	const op = "identity.Logout"
	sess, err := s.store.SessionByTokenHash(ctx, HashToken(token))
	if errs.Is(err, errs.KindNotFound) {
		return errs.E(errs.KindUnauthenticated, op, "invalid session token")
	}
	if err != nil {
		return err
	}
	if sess.RevokedAt != nil {
		return nil
	}
	err = s.store.RevokeSession(ctx, sess.AccountID, sess.ID, s.now())
	if errs.Is(err, errs.KindNotFound) {
		return nil // ended concurrently
	}
	return err
}

// LogoutEverywhere ends every session of account and returns how many.
func (s *Service) LogoutEverywhere(ctx context.Context, account AccountID) (int, error) {
	return s.store.RevokeSessions(ctx, account, SessionID{}, s.now())
}

// ListSessions returns account's live sessions, least recently used first.
func (s *Service) ListSessions(ctx context.Context, account AccountID) ([]*Session, error) {
	return s.store.LiveSessions(ctx, account, s.now())
}

// RevokeSession ends one of account's own sessions; KindNotFound if account
// has no such unrevoked session.
func (s *Service) RevokeSession(ctx context.Context, account AccountID, id SessionID) error {
	return s.store.RevokeSession(ctx, account, id, s.now())
}

// SessionPolicy returns a practice's session policy, or DefaultSessionPolicy
// if it has set none.
func (s *Service) SessionPolicy(ctx context.Context, practice tenant.PracticeID) (SessionPolicy, error) {
	p, err := s.store.GetSessionPolicy(ctx, practice)
	if errs.Is(err, errs.KindNotFound) {
		return DefaultSessionPolicy, nil
	}
	if err != nil {
		return SessionPolicy{}, err
	}
	return *p, nil
}

// SetSessionPolicy replaces a practice's session policy. It applies to
// sessions opened from then on.
func (s *Service) SetSessionPolicy(ctx context.Context, practice tenant.PracticeID, p SessionPolicy) error {
	const op = "identity.SetSessionPolicy"
	if err := p.Validate(op); err != nil {
		return err
	}
	return s.store.PutSessionPolicy(ctx, practice, p, s.now())
}

// Validate checks that timeouts are positive and at most a year, that the
// absolute lifetime is not shorter than the idle timeout, that 1 to 100
// devices are allowed, and that OnLimit is known.
func (p SessionPolicy) Validate(op string) error {
	for _, k := range []struct {
		name string
		l    SessionLimits
	}{{"staff", p.Staff}, {"patient", p.Patient}} {
		f := "policy." + k.name + "."
		switch {
		case k.l.Idle <= 0 || k.l.Idle > 366*24*time.Hour:
			return errs.Invalid(op, f+"idle", "must be between a microsecond and a year")
		case k.l.Absolute < k.l.Idle || k.l.Absolute > 366*24*time.Hour:
			return errs.Invalid(op, f+"absolute", "must be at least the idle timeout and at most a year")
		case k.l.Devices < 1 || k.l.Devices > 100:
			return errs.Invalid(op, f+"devices", "must be between 1 and 100")
		case k.l.OnLimit != Refuse && k.l.OnLimit != EvictLRU:
			return errs.Invalid(op, f+"on_limit", `must be "refuse" or "evict_lru"`)
		}
	}
	return nil
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
