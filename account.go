package carebook

import (
	"context"
	"log/slog"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
)

// The signed-in account's own operations, for every front end (the JSON
// API, the pages): its sessions, its password and its second factor. Each
// writes its activity-log entry, in the account's home practice, in the
// transaction of what it records.

// accountEntry is the entry of what the account of sess did to a resource
// of type typ and ID id.
func accountEntry(ctx context.Context, sess *identity.Session, action, typ, id string) audit.Entry {
	return Entry(ctx, sess.PracticeID, sess.AccountID.String(), action, typ, id, audit.Allowed)
}

// LogoutEverywhere ends every session of sess's account, sess included,
// with its "logout.everywhere" entry, and returns how many it ended.
func (e *Engine) LogoutEverywhere(ctx context.Context, sess *identity.Session) (int, error) {
	var n int
	err := e.Change(ctx, accountEntry(ctx, sess, "logout.everywhere", "session", sess.ID.String()), func(ctx context.Context, _ *audit.Entry) error {
		var err error
		n, err = e.Identity.LogoutEverywhere(ctx, sess.AccountID)
		return err
	})
	return n, err
}

// RevokeSession ends session id of sess's account (another account's
// session reads as not found), with its "session.revoke" entry.
func (e *Engine) RevokeSession(ctx context.Context, sess *identity.Session, id identity.SessionID) error {
	return e.Change(ctx, accountEntry(ctx, sess, "session.revoke", "session", id.String()), func(ctx context.Context, _ *audit.Entry) error {
		return e.Identity.RevokeSession(ctx, sess.AccountID, id)
	})
}

// ConfirmTOTP turns TOTP on for sess's account once code proves its app
// holds the enrolled secret (see identity.Service.ConfirmTOTP), with its
// "mfa.totp.enable" entry, and returns the recovery codes, shown only
// here.
func (e *Engine) ConfirmTOTP(ctx context.Context, sess *identity.Session, code string) ([]string, error) {
	var codes []string
	en := accountEntry(ctx, sess, "mfa.totp.enable", "account", sess.AccountID.String())
	err := e.Change(ctx, en, func(ctx context.Context, _ *audit.Entry) error {
		var err error
		codes, err = e.Identity.ConfirmTOTP(ctx, sess.AccountID, code)
		return err
	})
	return codes, err
}

// ChangePassword replaces the password of sess's account, after checking
// the old one, and ends every other session of the account, with its
// "password.change" entry. The passwords are checked and hashed before
// the transaction opens. A wrong old password (KindUnauthenticated, field
// "old_password") is recorded too, as failed; a rule the new one breaks is
// KindInvalid, field "new_password". Callers bound the attempts (the
// reference server's CheckAttempt).
func (e *Engine) ChangePassword(ctx context.Context, sess *identity.Session, oldPassword, newPassword string) error {
	const op = "carebook.ChangePassword"
	if oldPassword == "" {
		return errs.Invalid(op, "old_password", "is required")
	}
	en := accountEntry(ctx, sess, "password.change", "account", sess.AccountID.String())
	pc, err := e.Identity.PreparePasswordChange(ctx, sess.AccountID, oldPassword, newPassword)
	if errs.Is(err, errs.KindUnauthenticated) {
		en.Outcome = audit.Failed
		if lerr := e.Log(ctx, en); lerr != nil {
			e.Logger.ErrorContext(ctx, "cannot record a failed password change", slog.String("request_id", RequestFrom(ctx).ID), slog.Any("error", lerr))
		}
	}
	if err != nil {
		return err
	}
	return e.Change(ctx, en, func(ctx context.Context, _ *audit.Entry) error {
		return e.Identity.FinishPasswordChange(ctx, pc, sess.ID)
	})
}
