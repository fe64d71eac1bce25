package carebook

import (
	"context"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Break-glass through the guard: a clinician who holds patient.breakglass
// somewhere in the practice, but whose grants do not reach a patient's
// chart (or its restricted entries), opens it for a stated reason. For
// ehr.BreakGlassFor the access guard lends them the chart's reads over
// that patient (glassLends: reading, never writing), each logged with the
// role "break_glass"; then it ends by itself. Opening it is logged
// ("chart.breakglass") and told to the administrators in the practice's
// inbox, in one transaction.

// glassRoleName is how the activity log names a break-glass access among
// the roles an entry was made in.
const glassRoleName = "break_glass"

// BreakGlass opens patient's chart to the caller in ctx, an account that
// holds patient.breakglass in the practice, for ehr.BreakGlassFor, for
// reason (required, 10 to 1,000 bytes: KindInvalid naming "reason"). The
// access, its "chart.breakglass" entry and the inbox notice commit
// together. A caller who can already read the whole chart gets
// KindConflict, as does one whose access is still in force; a caller
// without the permission KindForbidden, with a denied entry.
func (e *Engine) BreakGlass(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, reason string) (*ehr.BreakGlass, error) {
	const op = "carebook.BreakGlass"
	pm, c, err := e.glassPermit(ctx, practice, patient)
	if err != nil {
		return nil, err
	}
	account := c.Principal.Account()
	now := e.Clock.Now().UTC().Truncate(time.Microsecond)
	b, err := ehr.NewBreakGlass(e.IDs.New(), practice, patient, account, reason, now)
	if err != nil {
		pm.Fail(ctx)
		return nil, err
	}
	if c.Principal.Can(rbac.PatientClinicalRead, pm.target) && c.Principal.Can(rbac.PatientRestrictedRead, pm.target) {
		pm.Fail(ctx)
		return nil, errs.Conflict(op, "you can read this whole chart already: break-glass is not needed")
	}
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		open, err := e.store.EHR.BreakGlassActive(ctx, practice, patient, account, now)
		if err != nil {
			return "", err
		}
		if open {
			return "", errs.Conflict(op, "your break-glass access to this chart is still in force")
		}
		// A patient who is not the practice's is KindNotFound here.
		if err := e.store.EHR.OpenBreakGlass(ctx, b); err != nil {
			return "", err
		}
		who := c.Actor.ID
		if a, err := e.Identity.Account(ctx, account); err == nil && a.Email != "" {
			who = a.Email
		}
		text := "Break-glass: " + who + " opened the chart of patient " + patient.String() + " at " +
			now.Format(time.RFC3339) + ", until " + b.ExpiresAt.Format(time.RFC3339) +
			". Review the stated reason among the practice's break-glass accesses."
		if err := e.Notify.Alert(ctx, practice, notify.KindBreakGlass, "break_glass:"+b.ID.String(), text, &b.PatientID); err != nil {
			return "", err
		}
		return patient.String(), nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// BreakGlassInForce reports whether the caller in ctx, an account, holds
// a break-glass access to patient's chart in force now. It reads nothing
// of the patient and logs nothing: a page asks it to offer break-glass or
// say it is open.
func (e *Engine) BreakGlassInForce(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) bool {
	c, ok := CallerFrom(ctx)
	if !ok {
		return false
	}
	p, err := e.Tenants.Practice(ctx, practice)
	return err == nil && e.glassOpen(ctx, c, rbac.Target{GroupID: p.GroupID, PracticeID: practice, PatientID: &patient})
}

// glassPermit decides the caller's opening of patient's chart by
// break-glass: a member of the practice (else KindNotFound) holding
// patient.breakglass in it, as an account (else KindForbidden); a denial
// is logged.
func (e *Engine) glassPermit(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) (*Permit, *Caller, error) {
	pm, err := e.Authorize(ctx, Access{PracticeID: practice, PatientID: &patient,
		Action: "chart.breakglass", ResourceType: "chart", ResourceID: patient.String()})
	if err != nil {
		return nil, nil, err
	}
	c, _ := CallerFrom(ctx)
	if c.Principal.Account() == uuid.Nil || !rbac.HoldsIn(c.Principal, rbac.PatientBreakGlass, practice, pm.target.GroupID) {
		pm.deny(ctx)
		return nil, nil, &errs.Error{Kind: errs.KindForbidden, Op: "carebook.BreakGlass", Msg: "missing permission " + string(rbac.PatientBreakGlass)}
	}
	return pm, c, nil
}

// CheckBreakGlass decides, as BreakGlass would, whether the caller in ctx
// may open patient's chart by break-glass, writing nothing when it may
// (the form is shown) and the denied entry when it may not.
func (e *Engine) CheckBreakGlass(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) error {
	_, _, err := e.glassPermit(ctx, practice, patient)
	return err
}

// RefuseBreakGlass refuses bad, the error of a break-glass request that
// could not be read, once the access is decided as BreakGlass would: the
// guard's error without access (logged as denied), else bad (logged as
// failed): one entry either way.
func (e *Engine) RefuseBreakGlass(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, bad error) error {
	pm, _, err := e.glassPermit(ctx, practice, patient)
	if err != nil {
		return err
	}
	pm.Fail(ctx)
	return bad
}

// BreakGlassReviewWindow is how far back BreakGlassReview looks when it is
// given no start.
const BreakGlassReviewWindow = 30 * 24 * time.Hour

// BreakGlassReview returns the practice's break-glass accesses opened in
// [from, to), newest first, with their reasons, for the caller in ctx, who
// needs audit.read ("chart.breakglass.review", one entry). A zero to is
// now (the openings of this very second included), a zero from
// BreakGlassReviewWindow before to.
func (e *Engine) BreakGlassReview(ctx context.Context, practice tenant.PracticeID, from, to time.Time) ([]*ehr.BreakGlass, error) {
	pm, err := e.Authorize(ctx, Access{Permission: rbac.AuditRead, PracticeID: practice,
		Action: "chart.breakglass.review", ResourceType: "chart"})
	if err != nil {
		return nil, err
	}
	if to.IsZero() {
		to = e.Clock.Now().Add(time.Second)
	}
	if from.IsZero() {
		from = to.Add(-BreakGlassReviewWindow)
	}
	if !from.Before(to) {
		pm.Fail(ctx)
		return nil, errs.Invalid("carebook.BreakGlassReview", "to", "must be after from")
	}
	var out []*ehr.BreakGlass
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		var err error
		out, err = e.store.EHR.BreakGlassesOpened(ctx, practice, from, to)
		return "", err
	})
	return out, err
}
