package api

import (
	"net/http"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/refserver"
	"github.com/google/uuid"
)

// The authentication endpoints: sign-in and sign-out, sessions, patient
// self-registration, staff invitations, TOTP and API keys. Logins, failed
// logins, logouts and every change of credentials are written to the
// activity log of the account's practice, in the transaction of what they
// record: if the entry cannot be appended, nothing changes.

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
	tok, sess, err := s.engine.Login(r.Context(), identity.LoginRequest{
		Identifier: ident, Password: in.Password, TOTPCode: in.TOTPCode, RecoveryCode: in.RecoveryCode,
		Device: in.Device, IP: refserver.ClientIP(r), UserAgent: r.UserAgent(),
	})
	if err != nil {
		return err
	}
	csrf := refserver.SetSessionCookies(w, r, tok, sess.ExpiresAt)
	return refserver.Reply(w, http.StatusOK, loginResponse{Token: tok, CSRFToken: csrf, Session: sessionOf(sess, true)})
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	c := req.SignedIn()
	if req.Err != nil {
		return req.Err
	}
	err := s.engine.Logout(r.Context(), c.Token, c.Session)
	if err == nil {
		refserver.ClearSessionCookies(w, r)
	}
	return req.NoContent(err)
}

func (s *server) logoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	c := req.SignedIn()
	if req.Err != nil {
		return req.Err
	}
	n, err := s.engine.LogoutEverywhere(r.Context(), c.Session)
	if err != nil {
		return err
	}
	refserver.ClearSessionCookies(w, r)
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
	err := s.engine.RevokeSession(r.Context(), c.Session, id)
	if err == nil && id == c.Session.ID {
		refserver.ClearSessionCookies(w, r)
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
	a, tok, err := s.engine.Register(r.Context(), identity.Registration{PracticeID: practice, Email: in.Email, Phone: in.Phone, Password: in.Password})
	if err != nil {
		return err
	}
	to := a.Email
	if to == "" {
		to = a.Phone
	}
	if err := s.srv.DeliverToken(r.Context(), refserver.TokenMessage{Kind: refserver.TokenEmailVerification, PracticeID: practice, To: to, Token: tok}); err != nil {
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
	if err := s.srv.DeliverToken(r.Context(), refserver.TokenMessage{Kind: refserver.TokenInvitation, PracticeID: practice, To: inv.Email, Token: tok}); err != nil {
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
	codes, err := s.engine.ConfirmTOTP(r.Context(), c.Session, in.Code)
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
