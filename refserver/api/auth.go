package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The authentication endpoints: sign-in and sign-out, sessions, patient
// self-registration, staff invitations, TOTP and API keys. Logins, failed
// logins, logouts and every change of credentials are written to the
// activity log of the account's practice, in the transaction of what they
// record: if the entry cannot be appended, nothing changes.

// deliver hands a token to Options.DeliverToken, or logs it when there is
// none (development only: the log then holds a secret).
func (s *server) deliver(ctx context.Context, m refserver.TokenMessage) error {
	if s.opts.DeliverToken != nil {
		return s.opts.DeliverToken(ctx, m)
	}
	s.log.InfoContext(ctx, "token to deliver (set Options.DeliverToken to send it)",
		slog.String("kind", m.Kind), slog.String("to", m.To), slog.String("token", m.Token))
	return nil
}

type loginRequest struct {
	Email        string `json:"email"`
	Phone        string `json:"phone"`
	Password     string `json:"password"`
	TOTPCode     string `json:"totp_code"`
	RecoveryCode string `json:"recovery_code"`
	Device       string `json:"device"`
}

type loginResponse struct {
	Token     string     `json:"token"`
	CSRFToken string     `json:"csrf_token"`
	Session   sessionOut `json:"session"`
}

type sessionOut struct {
	ID                 uuid.UUID            `json:"id"`
	AccountID          uuid.UUID            `json:"account_id"`
	Kind               identity.AccountKind `json:"kind"`
	PracticeID         uuid.UUID            `json:"practice_id"`
	Device             string               `json:"device"`
	IP                 string               `json:"ip,omitempty"`
	UserAgent          string               `json:"user_agent,omitempty"`
	NeedsMFAEnrollment bool                 `json:"needs_mfa_enrollment"`
	CreatedAt          time.Time            `json:"created_at"`
	LastUsedAt         time.Time            `json:"last_used_at"`
	IdleExpiresAt      time.Time            `json:"idle_expires_at"`
	ExpiresAt          time.Time            `json:"expires_at"`
	Current            bool                 `json:"current"`
}

func sessionOf(x *identity.Session, current bool) sessionOut {
	return sessionOut{ID: x.ID, AccountID: x.AccountID, Kind: x.Kind, PracticeID: x.PracticeID, Device: x.Device,
		IP: x.IP, UserAgent: x.UserAgent, NeedsMFAEnrollment: x.NeedsMFAEnrollment, CreatedAt: x.CreatedAt,
		LastUsedAt: x.LastUsedAt, IdleExpiresAt: x.IdleExpiresAt, ExpiresAt: x.ExpiresAt, Current: current}
}

type accountOut struct {
	ID              uuid.UUID            `json:"id"`
	Kind            identity.AccountKind `json:"kind"`
	PracticeID      uuid.UUID            `json:"practice_id"`
	Email           string               `json:"email,omitempty"`
	Phone           string               `json:"phone,omitempty"`
	EmailVerifiedAt *time.Time           `json:"email_verified_at,omitempty"`
	TOTPEnabled     bool                 `json:"totp_enabled"`
	CreatedAt       time.Time            `json:"created_at"`
}

func accountOf(a *identity.Account) accountOut {
	return accountOut{ID: a.ID, Kind: a.Kind, PracticeID: a.PracticeID, Email: a.Email, Phone: a.Phone,
		EmailVerifiedAt: a.EmailVerifiedAt, TOTPEnabled: a.TOTPEnabled, CreatedAt: a.CreatedAt}
}

// login signs an account in. It answers the session token once, in the
// body, and sets the session and CSRF cookies for browsers.
func (s *server) login(w http.ResponseWriter, r *http.Request) error {
	const op = "refserver.login"
	req := s.srv.Request(w, r)
	var in loginRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	ident := in.Email
	switch {
	case in.Email != "" && in.Phone != "":
		return errs.Invalid(op, "phone", "give an email or a phone, not both")
	case in.Email == "" && in.Phone == "":
		return errs.Invalid(op, "email", "an email or a phone is required")
	case in.Email == "":
		ident = in.Phone
	}
	if in.Password == "" {
		return errs.Invalid(op, "password", "is required")
	}
	if err := s.srv.CheckAttempt(r, ident); err != nil {
		return err
	}
	ctx := r.Context()
	// The password is checked (argon2id, tens of milliseconds) before the
	// transaction opens, so that no transaction is held across the hash.
	at, err := s.engine.Identity.CheckLogin(ctx, identity.LoginRequest{
		Identifier: ident, Password: in.Password, TOTPCode: in.TOTPCode, RecoveryCode: in.RecoveryCode,
		Device: in.Device, IP: refserver.ClientIP(r), UserAgent: r.UserAgent(),
	})
	if err != nil {
		return err
	}
	if at.Account() == nil {
		// No account, no practice to log in: the refusal writes nothing.
		_, _, err := s.engine.Identity.FinishLogin(ctx, at)
		return err
	}
	var (
		tok     string
		sess    *identity.Session
		refusal error
	)
	err = s.engine.InTx(ctx, func(ctx context.Context) error {
		var err error
		tok, sess, err = s.engine.Identity.FinishLogin(ctx, at)
		if err == nil {
			return s.engine.Log(ctx, entryOf(r, sess.PracticeID, sess.AccountID, "login", "session", sess.ID.String(), audit.Allowed))
		}
		out, ok := refusalOutcome(err)
		if !ok {
			return err
		}
		// The refusal commits: the failure it counted and its entry.
		refusal = err
		a := at.Account()
		return s.engine.Log(ctx, entryOf(r, a.PracticeID, a.ID, "login.failed", "", "", out))
	})
	if err != nil {
		return err
	}
	if refusal != nil {
		return refusal
	}
	csrf := newCSRFToken()
	setAuthCookies(w, r, tok, csrf, sess.ExpiresAt)
	return refserver.Reply(w, http.StatusOK, loginResponse{Token: tok, CSRFToken: csrf, Session: sessionOf(sess, true)})
}

// refusalOutcome is the outcome a refused login is recorded with: failed
// for wrong credentials, denied for a lock or the device limit. ok is false
// for any other error, which is no refusal.
func refusalOutcome(err error) (out audit.Outcome, ok bool) {
	switch errs.KindOf(err) {
	case errs.KindUnauthenticated:
		return audit.Failed, true
	case errs.KindRateLimited, errs.KindPreconditionFailed:
		return audit.Denied, true
	}
	return "", false
}

// entryOf is the activity log entry of r: account did action to the
// resource of kind typ and ID id (none if typ is "") in practice.
func entryOf(r *http.Request, practice tenant.PracticeID, account identity.AccountID, action, typ, id string, out audit.Outcome) audit.Entry {
	return carebook.Entry(r.Context(), practice, account.String(), action, typ, id, out)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	c := req.SignedIn()
	if req.Err != nil {
		return req.Err
	}
	e := entryOf(r, c.Session.PracticeID, c.Session.AccountID, "logout", "session", c.Session.ID.String(), audit.Allowed)
	err := s.engine.Change(r.Context(), e, func(ctx context.Context, _ *audit.Entry) error {
		return s.engine.Identity.Logout(ctx, c.Token)
	})
	if err == nil {
		clearAuthCookies(w, r)
	}
	return req.NoContent(err)
}

func (s *server) logoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	c := req.SignedIn()
	if req.Err != nil {
		return req.Err
	}
	var (
		n   int
		err error
	)
	e := entryOf(r, c.Session.PracticeID, c.Session.AccountID, "logout.everywhere", "session", c.Session.ID.String(), audit.Allowed)
	err = s.engine.Change(r.Context(), e, func(ctx context.Context, _ *audit.Entry) error {
		n, err = s.engine.Identity.LogoutEverywhere(ctx, c.Session.AccountID)
		return err
	})
	if err != nil {
		return err
	}
	clearAuthCookies(w, r)
	return refserver.Reply(w, http.StatusOK, map[string]int{"revoked": n})
}

func (s *server) listSessions(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	c := req.SignedIn()
	if req.Err != nil {
		return req.Err
	}
	live, err := s.engine.Identity.ListSessions(r.Context(), c.Session.AccountID)
	if err != nil {
		return err
	}
	out := make([]sessionOut, 0, len(live))
	for _, x := range live {
		out = append(out, sessionOf(x, x.ID == c.Session.ID))
	}
	return refserver.Reply(w, http.StatusOK, map[string]any{"items": out})
}

func (s *server) revokeSession(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	c, id := req.SignedIn(), req.Path("session")
	if req.Err != nil {
		return req.Err
	}
	e := entryOf(r, c.Session.PracticeID, c.Session.AccountID, "session.revoke", "session", id.String(), audit.Allowed)
	err := s.engine.Change(r.Context(), e, func(ctx context.Context, _ *audit.Entry) error {
		return s.engine.Identity.RevokeSession(ctx, c.Session.AccountID, id)
	})
	if err == nil && id == c.Session.ID {
		clearAuthCookies(w, r)
	}
	return req.NoContent(err)
}

type registrationRequest struct {
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	Password string `json:"password"`
}

// register signs a patient up with a practice. The verification token goes
// to Options.DeliverToken, never into the answer.
func (s *server) register(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	practice := req.ExistingPractice()
	var in registrationRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	// Hashed before the transaction, which then only writes.
	pending, err := s.engine.Identity.PrepareRegistration(r.Context(), identity.Registration{PracticeID: practice, Email: in.Email, Phone: in.Phone, Password: in.Password})
	if err != nil {
		return err
	}
	var (
		a   *identity.Account
		tok string
	)
	e := entryOf(r, practice, uuid.Nil, "account.register", "account", "", audit.Allowed)
	err = s.engine.Change(r.Context(), e, func(ctx context.Context, e *audit.Entry) error {
		if a, tok, err = s.engine.Identity.FinishRegistration(ctx, pending); err != nil {
			return err
		}
		e.Actor, e.ResourceID = a.ID.String(), a.ID.String()
		return nil
	})
	if err != nil {
		return err
	}
	to := a.Email
	if to == "" {
		to = a.Phone
	}
	if err := s.deliver(r.Context(), refserver.TokenMessage{Kind: refserver.TokenEmailVerification, PracticeID: practice, To: to, Token: tok}); err != nil {
		return errs.Wrap(errs.KindInternal, "refserver.register", "cannot send the verification", err)
	}
	return refserver.Reply(w, http.StatusCreated, accountOf(a))
}

type tokenRequest struct {
	Token string `json:"token"`
}

func (s *server) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	var in tokenRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	if in.Token == "" {
		return errs.Invalid("refserver.verifyEmail", "token", "is required")
	}
	a, err := s.engine.Identity.VerifyEmail(r.Context(), in.Token)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, accountOf(a))
}

type invitationRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

type invitationOut struct {
	ID         uuid.UUID `json:"id"`
	PracticeID uuid.UUID `json:"practice_id"`
	Email      string    `json:"email"`
	Role       string    `json:"role"`
	InvitedBy  uuid.UUID `json:"invited_by"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// invite invites a staff member by email, on behalf of a signed-in account
// holding staff.manage in the practice (Engine.Invite). The token goes to
// Options.DeliverToken.
func (s *server) invite(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	practice := req.Practice()
	var in invitationRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	tok, inv, err := s.engine.Invite(r.Context(), practice, in.Email, in.Role)
	if err != nil {
		return err
	}
	if err := s.deliver(r.Context(), refserver.TokenMessage{Kind: refserver.TokenInvitation, PracticeID: practice, To: inv.Email, Token: tok}); err != nil {
		return errs.Wrap(errs.KindInternal, "refserver.invite", "cannot send the invitation", err)
	}
	return refserver.Reply(w, http.StatusCreated, invitationOut{ID: inv.ID, PracticeID: inv.PracticeID, Email: inv.Email,
		Role: inv.Role, InvitedBy: inv.InvitedBy, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt})
}

type acceptRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

func (s *server) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	var in acceptRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	a, err := s.engine.AcceptInvitation(r.Context(), in.Token, in.Password)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusCreated, accountOf(a))
}

func (s *server) enrollTOTP(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	c := req.SignedIn()
	if req.Err != nil {
		return req.Err
	}
	return req.OK(s.engine.Identity.EnrollTOTP(r.Context(), c.Session.AccountID))
}

type codeRequest struct {
	Code string `json:"code"`
}

func (s *server) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	c := req.SignedIn()
	var in codeRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	var (
		codes []string
		err   error
	)
	e := entryOf(r, c.Session.PracticeID, c.Session.AccountID, "mfa.totp.enable", "account", c.Session.AccountID.String(), audit.Allowed)
	err = s.engine.Change(r.Context(), e, func(ctx context.Context, _ *audit.Entry) error {
		codes, err = s.engine.Identity.ConfirmTOTP(ctx, c.Session.AccountID, in.Code)
		return err
	})
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, map[string]any{"recovery_codes": codes})
}

type apiKeyRequest struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

type apiKeyOut struct {
	ID          uuid.UUID  `json:"id"`
	PracticeID  uuid.UUID  `json:"practice_id"`
	Name        string     `json:"name"`
	Permissions []string   `json:"permissions"`
	CreatedBy   uuid.UUID  `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// createAPIKey issues an API key of the practice, on behalf of a signed-in
// account holding apikey.manage there, with permissions it holds itself.
// The key is answered once.
func (s *server) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	practice := req.Practice()
	var in apiKeyRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	key, k, err := s.engine.CreateAPIKey(r.Context(), practice, in.Name, in.Permissions)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusCreated, map[string]any{"key": key, "api_key": apiKeyOf(k)})
}

func apiKeyOf(k *identity.APIKey) apiKeyOut {
	perms := k.Permissions
	if perms == nil {
		perms = []string{}
	}
	return apiKeyOut{ID: k.ID, PracticeID: k.PracticeID, Name: k.Name, Permissions: perms,
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

func (s *server) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	practice, id := req.Practice(), req.Path("key")
	if req.Err != nil {
		return req.Err
	}
	return req.NoContent(s.engine.RevokeAPIKey(r.Context(), practice, id))
}

// setAuthCookies sets the session cookie (HttpOnly) and the CSRF cookie
// (readable by scripts), both SameSite=Lax and Secure unless r is plain
// http to the loopback interface.
func setAuthCookies(w http.ResponseWriter, r *http.Request, token, csrf string, expires time.Time) {
	secure := secureCookies(r)
	http.SetCookie(w, &http.Cookie{Name: refserver.SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: refserver.CSRFCookie, Value: csrf, Path: "/", Expires: expires,
		Secure: secure, SameSite: http.SameSiteLaxMode})
}

// clearAuthCookies tells the browser to forget both cookies.
func clearAuthCookies(w http.ResponseWriter, r *http.Request) {
	secure := secureCookies(r)
	http.SetCookie(w, &http.Cookie{Name: refserver.SessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: refserver.CSRFCookie, Path: "/", MaxAge: -1, Secure: secure, SameSite: http.SameSiteLaxMode})
}

func newCSRFToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// loopbackHost reports whether host (a Host header, with or without port)
// names the loopback interface.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// secureCookies reports whether cookies set in answer to r must be Secure:
// always, except for plain http to the loopback interface (development).
func secureCookies(r *http.Request) bool {
	return r.TLS != nil || !loopbackHost(r.Host)
}
