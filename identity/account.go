package identity

import (
	"context"
	"strings"
	"time"

	"github.com/carebook/carebook/contact"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
)

// Account returns an account.
func (s *Service) Account(ctx context.Context, id AccountID) (*Account, error) {
	return s.store.GetAccount(ctx, id)
}

// Registration is the input of Register.
type Registration struct {
	// PracticeID is the practice the patient registers with.
	PracticeID tenant.PracticeID
	// Email and Phone: at least one is required.
	Email    string
	Phone    string
	Password string
}

// PendingAccount is a new account whose input has been validated and
// whose password has been hashed (argon2id, the slow part), not yet stored:
// made by PrepareRegistration or PrepareAcceptance, so that a caller can
// hash before opening the transaction that FinishRegistration or
// FinishAcceptance writes in.
type PendingAccount struct {
	account *Account
	// email and phone are as given, to name the field of a conflict.
	email, phone string
	// inv is the invitation being accepted, for FinishAcceptance.
	inv *Invitation
}

// Register creates a patient account with an unverified email, and a
// verification token (shown only here) that VerifyEmail accepts within
// VerificationTTL: PrepareRegistration, then FinishRegistration. A taken
// email or phone gives KindConflict; an unknown practice KindNotFound.
func (s *Service) Register(ctx context.Context, r Registration) (*Account, string, error) {
	p, err := s.PrepareRegistration(ctx, r)
	if err != nil {
		return nil, "", err
	}
	return s.FinishRegistration(ctx, p)
}

// PrepareRegistration validates r and hashes its password, writing nothing.
// Bad input is KindInvalid naming the field.
func (s *Service) PrepareRegistration(ctx context.Context, r Registration) (*PendingAccount, error) {
	a, err := s.newAccount(ctx, "identity.Register", Patient, r.PracticeID, r.Email, r.Phone, r.Password)
	if err != nil {
		return nil, err
	}
	return &PendingAccount{account: a, email: r.Email, phone: r.Phone}, nil
}

// FinishRegistration stores the account of PrepareRegistration and its
// email verification, in one transaction (the caller's, on a bound Service),
// and returns the account and the verification token. See Register.
func (s *Service) FinishRegistration(ctx context.Context, p *PendingAccount) (*Account, string, error) {
	tok, hash, err := NewToken()
	if err != nil {
		return nil, "", err
	}
	a := p.account
	v := &Verification{TokenHash: hash, AccountID: a.ID, CreatedAt: a.CreatedAt,
		ExpiresAt: a.CreatedAt.Add(s.cfg.VerificationTTL)}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateAccount(ctx, a); err != nil {
			return fieldOfConflict(err, p.email, p.phone)
		}
		return s.store.CreateVerification(ctx, v)
	})
	if err != nil {
		return nil, "", err
	}
	return a, tok, nil
}

// VerifyEmail consumes a verification token and marks its account's email
// verified. An unknown token is KindNotFound; a used or expired one
// KindPreconditionFailed (field "token").
func (s *Service) VerifyEmail(ctx context.Context, token string) (*Account, error) {
	const op = "identity.VerifyEmail"
	now := s.now()
	hash := HashToken(token)
	v, err := s.store.VerificationByTokenHash(ctx, hash)
	if err != nil {
		return nil, tokenNotFound(op, err)
	}
	if err := usable(op, v.UsedAt, v.ExpiresAt, now); err != nil {
		return nil, err
	}
	var a *Account
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.UseVerification(ctx, hash, now); err != nil {
			return tokenUsed(op, err)
		}
		if err := s.store.SetEmailVerified(ctx, v.AccountID, now); err != nil {
			return err
		}
		a, err = s.store.GetAccount(ctx, v.AccountID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// CreateInvitation invites email to join practice's staff with role (which
// rbac grants once accepted). It returns the token, shown only here, that
// AcceptInvitation takes within InvitationTTL, and the invitation.
func (s *Service) CreateInvitation(ctx context.Context, practice tenant.PracticeID, email, role string, invitedBy AccountID) (string, *Invitation, error) {
	const op = "identity.CreateInvitation"
	email, err := contact.NormalizeEmail(op, "email", strings.TrimSpace(email))
	if err != nil {
		return "", nil, err
	}
	role = strings.TrimSpace(role)
	if role == "" || len(role) > 100 {
		return "", nil, errs.Invalid(op, "role", "is required, at most 100 characters")
	}
	tok, hash, err := NewToken()
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	inv := &Invitation{ID: s.ids.New(), PracticeID: practice, Email: email, Role: role, InvitedBy: invitedBy,
		TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(s.cfg.InvitationTTL)}
	if err := s.store.CreateInvitation(ctx, inv); err != nil {
		return "", nil, err
	}
	return tok, inv, nil
}

// AcceptInvitation consumes an invitation token, creating the staff account
// of the invited email (verified, since the token reached it) with password:
// PrepareAcceptance, then FinishAcceptance. It returns the account and the
// invitation, so that the caller can grant the role. An unknown token is
// KindNotFound; a used or expired one KindPreconditionFailed (field
// "token"); an email that already has an account KindConflict (field
// "email").
func (s *Service) AcceptInvitation(ctx context.Context, token, password string) (*Account, *Invitation, error) {
	p, err := s.PrepareAcceptance(ctx, token, password)
	if err != nil {
		return nil, nil, err
	}
	return s.FinishAcceptance(ctx, p)
}

// PrepareAcceptance finds the invitation of token, checks that it is
// usable, and builds its account with password hashed, writing nothing.
func (s *Service) PrepareAcceptance(ctx context.Context, token, password string) (*PendingAccount, error) {
	const op = "identity.AcceptInvitation"
	now := s.now()
	inv, err := s.store.InvitationByTokenHash(ctx, HashToken(token))
	if err != nil {
		return nil, tokenNotFound(op, err)
	}
	if err := usable(op, inv.AcceptedAt, inv.ExpiresAt, now); err != nil {
		return nil, err
	}
	a, err := s.newAccount(ctx, op, Staff, inv.PracticeID, inv.Email, "", password)
	if err != nil {
		return nil, err
	}
	verified := a.CreatedAt
	a.EmailVerifiedAt = &verified
	return &PendingAccount{account: a, email: inv.Email, inv: inv}, nil
}

// Invitation is the invitation a PendingAccount of PrepareAcceptance
// accepts, nil for a registration. Its role is what the caller grants.
func (p *PendingAccount) Invitation() *Invitation { return p.inv }

// FinishAcceptance marks the invitation of PrepareAcceptance accepted and
// stores its account, in one transaction (the caller's, on a bound Service).
// A concurrent acceptance of the same token makes it KindPreconditionFailed
// (field "token"). See AcceptInvitation.
func (s *Service) FinishAcceptance(ctx context.Context, p *PendingAccount) (*Account, *Invitation, error) {
	const op = "identity.AcceptInvitation"
	a, inv := p.account, p.inv
	if inv == nil {
		return nil, nil, errs.E(errs.KindInternal, op, "not an invitation's account")
	}
	now := *a.EmailVerifiedAt
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.AcceptInvitation(ctx, inv.PracticeID, inv.ID, a.ID, now); err != nil {
			return tokenUsed(op, err)
		}
		if err := s.store.CreateAccount(ctx, a); err != nil {
			return fieldOfConflict(err, inv.Email, "")
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	accepted := *inv
	accepted.AcceptedAt, accepted.AccountID = &now, &a.ID
	return a, &accepted, nil
}

// ChangePassword replaces account's password after checking the old one
// (KindUnauthenticated, field "old_password", when wrong), and ends every
// other session of the account than keep (the session making the change;
// the zero ID ends them all): PreparePasswordChange, then
// FinishPasswordChange.
func (s *Service) ChangePassword(ctx context.Context, account AccountID, keep SessionID, oldPassword, newPassword string) error {
	pc, err := s.PreparePasswordChange(ctx, account, oldPassword, newPassword)
	if err != nil {
		return err
	}
	return s.FinishPasswordChange(ctx, pc, keep)
}

// PasswordChange is a password change whose old password has been checked
// and whose new password has been hashed, not yet stored.
type PasswordChange struct {
	account AccountID
	hash    string
}

// PreparePasswordChange checks the new password's rules (KindInvalid, field
// "new_password") and the old password (KindUnauthenticated, field
// "old_password"), and hashes the new one, writing nothing: the slow half
// of ChangePassword, so that a caller can do it before opening the
// transaction FinishPasswordChange writes in.
func (s *Service) PreparePasswordChange(ctx context.Context, account AccountID, oldPassword, newPassword string) (*PasswordChange, error) {
	const op = "identity.ChangePassword"
	if err := CheckPassword(op, "new_password", newPassword); err != nil {
		return nil, err
	}
	a, err := s.store.GetAccount(ctx, account)
	if err != nil {
		return nil, err
	}
	ok, err := VerifyPassword(oldPassword, a.PasswordHash)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, op, "stored password hash is unreadable", err)
	}
	if !ok {
		return nil, &errs.Error{Kind: errs.KindUnauthenticated, Op: op, Field: "old_password", Msg: "wrong password"}
	}
	hash, err := HashPassword(newPassword, s.cfg.Argon2)
	if err != nil {
		return nil, err
	}
	return &PasswordChange{account: account, hash: hash}, nil
}

// FinishPasswordChange stores the new password of pc and ends every session
// of its account but keep, in one transaction (the caller's, on a bound
// Service).
func (s *Service) FinishPasswordChange(ctx context.Context, pc *PasswordChange, keep SessionID) error {
	now := s.now()
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.SetPassword(ctx, pc.account, pc.hash, now); err != nil {
			return err
		}
		_, err := s.store.RevokeSessions(ctx, pc.account, keep, now)
		return err
	})
}

// newAccount validates and builds (does not store) an account.
func (s *Service) newAccount(ctx context.Context, op string, kind AccountKind, practice tenant.PracticeID, email, phone, password string) (*Account, error) {
	var err error
	if email = strings.TrimSpace(email); email != "" {
		if email, err = contact.NormalizeEmail(op, "email", email); err != nil {
			return nil, err
		}
	}
	if phone = strings.TrimSpace(phone); phone != "" {
		if phone, err = contact.NormalizePhone(op, "phone", phone); err != nil {
			return nil, err
		}
	}
	if email == "" && phone == "" {
		return nil, errs.Invalid(op, "email", "an email or a phone is required")
	}
	if err := CheckPassword(op, "password", password); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password, s.cfg.Argon2)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return &Account{ID: s.ids.New(), Kind: kind, PracticeID: practice, Email: email, Phone: phone,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}, nil
}

// fieldOfConflict names the field of a duplicate account: the email if the
// account has one, else the phone.
func fieldOfConflict(err error, email, phone string) error {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.KindConflict {
		return err
	}
	field := "email"
	if email == "" && phone != "" {
		field = "phone"
	}
	return &errs.Error{Kind: errs.KindConflict, Op: e.Op, Field: field,
		Msg: "an account with this email or phone already exists", Err: err}
}

// tokenNotFound turns a store's KindNotFound for a token into one that
// names the field.
func tokenNotFound(op string, err error) error {
	if errs.Is(err, errs.KindNotFound) {
		return &errs.Error{Kind: errs.KindNotFound, Op: op, Field: "token", Msg: "unknown token", Err: err}
	}
	return err
}

// tokenUsed turns a store's KindConflict on consuming a token into
// KindPreconditionFailed.
func tokenUsed(op string, err error) error {
	if errs.Is(err, errs.KindConflict) {
		return &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "token", Msg: "the token was already used", Err: err}
	}
	return err
}

// usable checks that a token is unused and unexpired at now.
func usable(op string, usedAt *time.Time, expiresAt, now time.Time) error {
	if usedAt != nil {
		return &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "token", Msg: "the token was already used"}
	}
	if !now.Before(expiresAt) {
		return &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "token", Msg: "the token has expired"}
	}
	return nil
}
