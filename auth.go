package carebook

import (
	"context"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/google/uuid"
)

// Sign-in, sign-out and patient self-registration, for every front end
// (the JSON API, the pages): each writes its activity-log entry in the
// transaction of what it records. The request's IP, user agent and ID come
// from the context (WithRequest).

// Login signs an account in with req and returns the session and its
// token, which is shown once. The password is checked before the
// transaction opens, so that none is held across the hash. A refused login
// (wrong credentials, a lock, the device limit) still commits the failure
// it counted and its entry, and returns the refusal; a login naming no
// account writes nothing.
func (e *Engine) Login(ctx context.Context, req identity.LoginRequest) (string, *identity.Session, error) {
	at, err := e.Identity.CheckLogin(ctx, req)
	if err != nil {
		return "", nil, err
	}
	if at.Account() == nil {
		_, _, err := e.Identity.FinishLogin(ctx, at)
		return "", nil, err
	}
	var (
		tok     string
		sess    *identity.Session
		refusal error
	)
	err = e.InTx(ctx, func(ctx context.Context) error {
		var err error
		tok, sess, err = e.Identity.FinishLogin(ctx, at)
		if err == nil {
			return e.Log(ctx, Entry(ctx, sess.PracticeID, sess.AccountID.String(), "login", "session", sess.ID.String(), audit.Allowed))
		}
		out, ok := loginRefusal(err)
		if !ok {
			return err
		}
		refusal = err
		a := at.Account()
		return e.Log(ctx, Entry(ctx, a.PracticeID, a.ID.String(), "login.failed", "", "", out))
	})
	switch {
	case err != nil:
		return "", nil, err
	case refusal != nil:
		return "", nil, refusal
	}
	return tok, sess, nil
}

// loginRefusal is the outcome a refused login is recorded with: failed for
// wrong credentials, denied for a lock or the device limit. ok is false for
// any other error, which is no refusal.
func loginRefusal(err error) (out audit.Outcome, ok bool) {
	switch errs.KindOf(err) {
	case errs.KindUnauthenticated:
		return audit.Failed, true
	case errs.KindRateLimited, errs.KindPreconditionFailed:
		return audit.Denied, true
	}
	return "", false
}

// Logout ends the session whose token is tok, with its entry.
func (e *Engine) Logout(ctx context.Context, tok string, sess *identity.Session) error {
	en := Entry(ctx, sess.PracticeID, sess.AccountID.String(), "logout", "session", sess.ID.String(), audit.Allowed)
	return e.Change(ctx, en, func(ctx context.Context, _ *audit.Entry) error {
		return e.Identity.Logout(ctx, tok)
	})
}

// Register signs a patient up with a practice and returns the account and
// the email (or phone) verification token for its owner. The password is
// hashed before the transaction, which then only writes the account and
// its entry.
func (e *Engine) Register(ctx context.Context, reg identity.Registration) (*identity.Account, string, error) {
	pending, err := e.Identity.PrepareRegistration(ctx, reg)
	if err != nil {
		return nil, "", err
	}
	var (
		a   *identity.Account
		tok string
	)
	en := Entry(ctx, reg.PracticeID, uuid.Nil.String(), "account.register", "account", "", audit.Allowed)
	err = e.Change(ctx, en, func(ctx context.Context, en *audit.Entry) error {
		if a, tok, err = e.Identity.FinishRegistration(ctx, pending); err != nil {
			return err
		}
		en.Actor, en.ResourceID = a.ID.String(), a.ID.String()
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return a, tok, nil
}
