package carebook

import (
	"context"
	"strings"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/contact"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// ClinicSignUp is the input of SignUpClinic: the first administrator's
// email and password, and the clinic's name (its group's and its first
// practice's). Invitation is the operator's sign-up code, needed when the
// Engine's sign-up mode is SignUpInvite (WithSignUp).
type ClinicSignUp struct {
	Email, Password, ClinicName string
	Invitation                  string
}

// ClinicSignedUp is what SignUpClinic created.
type ClinicSignedUp struct {
	Group    *tenant.Group
	Practice *tenant.Practice
	Account  *identity.Account
	Grant    *rbac.Grant
}

// signUpActor is the actor of what a clinic's sign-up writes before its
// administrator exists.
var signUpActor = actor.Actor{Kind: actor.System, ID: "onboarding"}

// SignUpClinic is a new clinic signing itself up: it creates, in one
// transaction, a group and its first practice (both named ClinicName, with
// the default booking policy), the staff account of the first
// administrator (Email, Password) in that practice, and a grant of the
// built-in group administrator role over the group, with the
// "clinic.signup" and "grant.create" entries in the practice's activity
// log. When sign-up is by invitation (WithSignUp(SignUpInvite)), the
// invitation code is used up in the same transaction. Bad input is
// KindInvalid naming the field (email, password, clinic_name, invitation:
// missing, unknown or used already); an email that already has an account is KindConflict
// (field "email"). The caller then signs the account in (Login).
func (e *Engine) SignUpClinic(ctx context.Context, in ClinicSignUp) (*ClinicSignedUp, error) {
	const op = "carebook.SignUpClinic"
	name := strings.TrimSpace(in.ClinicName)
	if name == "" {
		return nil, errs.Invalid(op, "clinic_name", "is required")
	}
	if len(name) > 200 {
		return nil, errs.Invalid(op, "clinic_name", "must be at most 200 characters")
	}
	email, err := contact.NormalizeEmail(op, "email", strings.TrimSpace(in.Email))
	if err != nil {
		return nil, err
	}
	if err := identity.CheckPassword(op, "password", in.Password); err != nil {
		return nil, err
	}
	if e.SignUpMode() == SignUpInvite && strings.TrimSpace(in.Invitation) == "" {
		return nil, errs.Invalid(op, "invitation", "is required: signing a clinic up is by the operator's invitation on this server")
	}
	ctx = actor.With(ctx, signUpActor)
	out := &ClinicSignedUp{}
	err = e.InTx(ctx, func(ctx context.Context) error {
		var err error
		if out.Group, err = e.Tenants.CreateGroup(ctx, name); err != nil {
			return errs.WithField(err, "clinic_name")
		}
		if out.Practice, err = e.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: out.Group.ID, Name: name}); err != nil {
			return errs.WithField(err, "clinic_name")
		}
		if err := e.useSignUpCode(ctx, op, in.Invitation, out.Practice.ID); err != nil {
			return err
		}
		// The account is made as an invitation by nobody, accepted at
		// once: the one way identity makes a staff account.
		tok, _, err := e.Identity.CreateInvitation(ctx, out.Practice.ID, email, rbac.GroupAdmin, uuid.Nil)
		if err != nil {
			return err
		}
		if out.Account, _, err = e.Identity.AcceptInvitation(ctx, tok, in.Password); err != nil {
			return err
		}
		who := out.Account.ID.String()
		if err := e.Log(ctx, Entry(ctx, out.Practice.ID, who, "clinic.signup", "practice", out.Practice.ID.String(), audit.Allowed)); err != nil {
			return err
		}
		out.Grant, err = e.RBAC.GrantAsSystem(ctx, rbac.NewGrant{AccountID: out.Account.ID, RoleID: rbac.GroupAdminID, Scope: rbac.GroupScope(out.Group.ID)})
		if err != nil {
			return err
		}
		return e.Log(ctx, Entry(ctx, out.Practice.ID, signUpActor.String(), "grant.create", "grant", out.Grant.ID.String(), audit.Allowed))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
