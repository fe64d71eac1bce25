package carebook

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/kyc"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
)

// Know your customer: a practice is verified by its organisation NPI (an
// NPI-2, active in the NPPES registry: package nppes over HTTP, given
// with WithNPIRegistry); an unverified practice takes payments at the desk
// only. Providers' NPIs (NPI-1, active) are checked on request
// (VerifyProvider), not when a provider is added: adding a provider needs
// no network and works while the registry is down. Who may sign a clinic
// up is the operator's setting (WithSignUp).

// WithNPIRegistry sets the registry VerifyPractice and VerifyProvider ask
// (an *nppes.Client); without one they are KindPreconditionFailed.
func WithNPIRegistry(r kyc.Registry) Option { return func(e *Engine) { e.registry = r } }

// SignUpMode is who may sign a clinic up (SignUpClinic).
type SignUpMode string

// The sign-up modes.
const (
	// SignUpOpen lets anyone sign a clinic up: the default.
	SignUpOpen SignUpMode = "open"
	// SignUpInvite asks for an invitation code the operator issued
	// (IssueSignUpCode), used once.
	SignUpInvite SignUpMode = "invite"
)

// WithSignUp sets who may sign a clinic up; a mode other than SignUpOpen
// and SignUpInvite is New's error.
func WithSignUp(m SignUpMode) Option {
	return func(e *Engine) {
		if m != SignUpOpen && m != SignUpInvite {
			e.optErr = errs.Invalid("carebook.WithSignUp", "mode", `must be "open" or "invite"`)
			return
		}
		e.signUp = m
	}
}

// SignUpMode returns who may sign a clinic up on this Engine.
func (e *Engine) SignUpMode() SignUpMode {
	if e.signUp == "" {
		return SignUpOpen
	}
	return e.signUp
}

// IssueSignUpCode is the operator issuing an invitation to sign one clinic
// up (for SignUpInvite), with a note of whom it is for (at most 200
// characters). The code is returned once; only its SHA-256 is kept. It is
// the operator's (the refserver's signup-code command), not a practice
// member's, so it asks for no caller.
func (e *Engine) IssueSignUpCode(ctx context.Context, note string) (string, error) {
	const op = "carebook.IssueSignUpCode"
	note = strings.TrimSpace(note)
	if len(note) > 200 {
		return "", errs.Invalid(op, "note", "must be at most 200 characters")
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	code := "cbs_" + base64.RawURLEncoding.EncodeToString(b)
	if err := e.store.Tenants.CreateSignUpCode(ctx, signUpHash(code), note, e.Clock.Now()); err != nil {
		return "", err
	}
	return code, nil
}

func signUpHash(code string) []byte {
	h := sha256.Sum256([]byte(code))
	return h[:]
}

// useSignUpCode spends the sign-up's invitation, when the mode asks for
// one, in the sign-up's transaction.
func (e *Engine) useSignUpCode(ctx context.Context, op, code string, practice tenant.PracticeID) error {
	if e.SignUpMode() != SignUpInvite {
		return nil
	}
	err := e.store.Tenants.UseSignUpCode(ctx, signUpHash(strings.TrimSpace(code)), practice, e.Clock.Now())
	if errs.Is(err, errs.KindNotFound) {
		return errs.Invalid(op, "invitation", "is not a valid invitation to sign up (unknown or used already)")
	}
	return err
}

// VerifyPractice checks orgNPI, the practice's organisation NPI, in the
// registry (practice.manage): it must be a valid NPI, found, an
// organisation's (NPI-2) and active. It then records the verification
// (replacing an earlier one), with a "practice.verify" entry. Bad NPIs are
// KindInvalid naming "npi" (not a valid NPI, not found, an individual
// NPI, inactive); a registry that cannot be reached is
// KindPreconditionFailed naming "npi", to try again later, and nothing is
// written.
func (e *Engine) VerifyPractice(ctx context.Context, practice tenant.PracticeID, orgNPI string) (*tenant.Verification, error) {
	const op = "carebook.VerifyPractice"
	pm, err := e.Authorize(ctx, Access{Permission: rbac.PracticeManage, PracticeID: practice,
		Action: "practice.verify", ResourceType: "practice", ResourceID: practice.String()})
	if err != nil {
		return nil, err
	}
	orgNPI = strings.TrimSpace(orgNPI)
	rec, err := e.checkNPI(ctx, op, orgNPI, kyc.Organization)
	if err != nil {
		pm.Fail(ctx)
		return nil, err
	}
	by, _ := actor.From(ctx)
	v := &tenant.Verification{PracticeID: practice, NPI: rec.NPI, RegistryName: rec.Name, VerifiedAt: e.Clock.Now().UTC(), VerifiedBy: by.String()}
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		return practice.String(), e.store.Tenants.SaveVerification(ctx, v)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// PracticeVerification returns the practice's verification (any member
// of the practice): nil, and no error, when it is unverified.
func (e *Engine) PracticeVerification(ctx context.Context, practice tenant.PracticeID) (*tenant.Verification, error) {
	if _, err := e.Authorize(ctx, Access{PracticeID: practice}); err != nil {
		return nil, err
	}
	v, err := e.store.Tenants.GetVerification(ctx, practice)
	if errs.Is(err, errs.KindNotFound) {
		return nil, nil
	}
	return v, err
}

// VerifyProvider checks provider id's NPI in the registry
// (provider.manage), with a "provider.verify" entry: it must be found, an
// individual's (NPI-1) and active. It records nothing but the entry; the
// errors are VerifyPractice's, naming "npi".
func (e *Engine) VerifyProvider(ctx context.Context, practice tenant.PracticeID, id scheduling.ProviderID) (*kyc.Record, error) {
	const op = "carebook.VerifyProvider"
	pm, err := e.Authorize(ctx, Access{Permission: rbac.ProviderManage, PracticeID: practice,
		Action: "provider.verify", ResourceType: "provider", ResourceID: id.String()})
	if err != nil {
		return nil, err
	}
	p, err := e.Scheduling.Provider(ctx, practice, id)
	if err != nil {
		pm.Fail(ctx)
		return nil, err
	}
	rec, err := e.checkNPI(ctx, op, p.NPI, kyc.Individual)
	if err != nil {
		pm.Fail(ctx)
		return nil, err
	}
	return rec, pm.Do(ctx, func(context.Context) (string, error) { return id.String(), nil })
}

// checkNPI checks npi's form, then asks the registry.
func (e *Engine) checkNPI(ctx context.Context, op, npi string, want kyc.Entity) (*kyc.Record, error) {
	if !scheduling.ValidNPI(npi) {
		return nil, errs.Invalid(op, "npi", "is not a valid NPI (ten digits with a correct check digit)")
	}
	if e.registry == nil {
		return nil, &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "npi", Msg: "no NPI registry is configured on this server"}
	}
	return kyc.Check(ctx, e.registry, op, "npi", npi, want)
}

// verified refuses, for an unverified practice, what only a verified one
// may do (take money online).
func (e *Engine) verified(ctx context.Context, op string, practice tenant.PracticeID) error {
	_, err := e.store.Tenants.GetVerification(ctx, practice)
	if errs.Is(err, errs.KindNotFound) {
		return errs.E(errs.KindPreconditionFailed, op, "the practice is not verified (its organisation NPI, VerifyPractice): it cannot take online payments; take the payment at the desk")
	}
	return err
}
