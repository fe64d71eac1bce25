package carebook

import (
	"context"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
)

// The patient's rights over their record (package ehr, rights.go) through
// the guard: requests to amend the chart (45 CFR 164.526), requests for a
// copy of the record (164.524) and the accounting of disclosures
// (164.528). A patient makes requests about their own record, and reads
// them, with patient.clinical.read at self scope (staff who read the chart
// record requests for a patient the same way); deciding, extending,
// rebutting, recording disclosures and the practice's overdue lists need
// patient.rights.manage. Every operation writes exactly one activity-log
// entry naming the patient (but the practice's overdue lists) and the
// category, in the operation's transaction: bad input is refused once the
// access is decided, and logged as failed.

// rightsAccess is the permission and the resource type of each action.
var rightsAccess = map[string]struct {
	perm     rbac.Permission
	resource string
}{
	"amendment.request":  {rbac.PatientClinicalRead, "amendment"},
	"amendment.read":     {rbac.PatientClinicalRead, "amendment"},
	"amendment.disagree": {rbac.PatientClinicalRead, "amendment"},
	"amendment.decide":   {rbac.PatientRightsManage, "amendment"},
	"amendment.extend":   {rbac.PatientRightsManage, "amendment"},
	"amendment.rebut":    {rbac.PatientRightsManage, "amendment"},
	"amendment.overdue":  {rbac.PatientRightsManage, "amendment"},
	"access.request":     {rbac.PatientClinicalRead, "record_request"},
	"access.read":        {rbac.PatientClinicalRead, "record_request"},
	"access.fulfil":      {rbac.PatientRightsManage, "record_request"},
	"access.deny":        {rbac.PatientRightsManage, "record_request"},
	"access.extend":      {rbac.PatientRightsManage, "record_request"},
	"access.overdue":     {rbac.PatientRightsManage, "record_request"},
	"disclosure.record":  {rbac.PatientRightsManage, "disclosure"},
	"disclosure.report":  {rbac.PatientClinicalRead, "disclosure"},
	"amendment.entry":    {rbac.PatientClinicalRead, "amendment"},
}

// rightsPermit decides action on patient (nil for the practice's lists)
// for the caller in ctx.
func (e *Engine) rightsPermit(ctx context.Context, practice tenant.PracticeID, patient *scheduling.PatientID, action, resourceID string) (*Permit, error) {
	a, ok := rightsAccess[action]
	if !ok {
		return nil, errs.E(errs.KindInternal, "carebook.rights", "unknown action "+action)
	}
	return e.Authorize(ctx, Access{Permission: a.perm, PracticeID: practice, PatientID: patient,
		Action: action, ResourceType: a.resource, ResourceID: resourceID})
}

// rights runs fn as action on patient for the caller in ctx, with the
// caller's actor and the clock's now (UTC, to the microsecond).
func (e *Engine) rights(ctx context.Context, practice tenant.PracticeID, patient *scheduling.PatientID, action, resourceID string,
	fn func(ctx context.Context, pm *Permit, by string, now time.Time) (string, error)) error {
	pm, err := e.rightsPermit(ctx, practice, patient, action, resourceID)
	if err != nil {
		return err
	}
	c, _ := CallerFrom(ctx)
	now := e.Clock.Now().UTC().Truncate(time.Microsecond)
	return pm.Do(ctx, func(ctx context.Context) (string, error) { return fn(ctx, pm, c.Actor.String(), now) })
}

// RefuseRights refuses bad, the error of input that could not be read
// (a body that does not decode), for action on patient (nil for a
// practice's list), once the access is decided as the operation would:
// without access it returns the guard's error (404 for a stranger, 403
// without the permission, logged as denied); with it, the attempt is
// logged as failed and bad returned. Either way one entry is written, as
// by the operation itself.
func (e *Engine) RefuseRights(ctx context.Context, practice tenant.PracticeID, patient *scheduling.PatientID, action string, bad error) error {
	pm, err := e.rightsPermit(ctx, practice, patient, action, "")
	if err != nil {
		return err
	}
	pm.Fail(ctx)
	return bad
}

// visibleEntries checks that each of ids is a current entry of patient
// the caller may see (chartReader.sees: restricted ones need
// patient.restricted.read, and a patient sees only Released ones): else
// KindNotFound, as if it were not there.
func (e *Engine) visibleEntries(ctx context.Context, pm *Permit, practice tenant.PracticeID, patient scheduling.PatientID, ids []ehr.EntryID) error {
	for _, id := range ids {
		en, err := e.store.EHR.Current(ctx, practice, id)
		if err != nil {
			return errs.WithField(err, "entry_ids")
		}
		if en.PatientID != patient || !readerOf(pm).sees(en) {
			return errs.WithField(errs.NotFound("carebook.RequestAmendment", "chart entry"), "entry_ids")
		}
	}
	return nil
}

// RequestAmendment records a request of patient to amend entries of their
// chart for reason ("amendment.request"), due in 60 days. Each entry must
// be one of the patient's the caller may see (else KindNotFound naming
// entry_ids); bad input names its field (entry_ids, reason).
func (e *Engine) RequestAmendment(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, entries []ehr.EntryID, reason string) (*ehr.Amendment, error) {
	var out *ehr.Amendment
	err := e.rights(ctx, practice, &patient, "amendment.request", "", func(ctx context.Context, pm *Permit, by string, now time.Time) (string, error) {
		a, err := ehr.NewAmendment(e.IDs.New(), practice, patient, entries, reason, by, now)
		if err != nil {
			return "", err
		}
		if err := e.visibleEntries(ctx, pm, practice, patient, entries); err != nil {
			return "", err
		}
		if err := e.store.EHR.CreateAmendment(ctx, a); err != nil {
			return "", err
		}
		out = a
		return a.ID.String(), nil
	})
	return out, err
}

// Amendments returns a patient's amendment requests, oldest first
// ("amendment.read").
func (e *Engine) Amendments(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) ([]*ehr.Amendment, error) {
	var out []*ehr.Amendment
	err := e.rights(ctx, practice, &patient, "amendment.read", patient.String(), func(ctx context.Context, _ *Permit, _ string, _ time.Time) (string, error) {
		var err error
		out, err = e.store.EHR.Amendments(ctx, practice, patient)
		return patient.String(), err
	})
	return out, err
}

// EntryAmendments returns the amendment requests linked to one of the
// patient's chart entries, oldest first ("amendment.entry"): the accepted
// amendments, and the denials with their statements, a reader of the
// entry is shown beside it. An entry the caller may not see is
// KindNotFound.
func (e *Engine) EntryAmendments(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, entry ehr.EntryID) ([]*ehr.Amendment, error) {
	var out []*ehr.Amendment
	err := e.rights(ctx, practice, &patient, "amendment.entry", entry.String(), func(ctx context.Context, pm *Permit, _ string, _ time.Time) (string, error) {
		if err := e.visibleEntries(ctx, pm, practice, patient, []ehr.EntryID{entry}); err != nil {
			return "", err
		}
		var err error
		out, err = e.store.EHR.EntryAmendments(ctx, practice, entry)
		return entry.String(), err
	})
	return out, err
}

// changeAmendment reads request id of patient, changes it with change and
// writes it over the version read: a concurrent change that came first is
// KindConflict.
func (e *Engine) changeAmendment(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, id ehr.RequestID, action string,
	change func(a *ehr.Amendment, by string, now time.Time) error) (*ehr.Amendment, error) {
	var out *ehr.Amendment
	err := e.rights(ctx, practice, &patient, action, id.String(), func(ctx context.Context, _ *Permit, by string, now time.Time) (string, error) {
		a, err := e.store.EHR.Amendment(ctx, practice, id)
		if err == nil && a.PatientID != patient {
			err = errs.NotFound("carebook."+action, "amendment request")
		}
		if err != nil {
			return "", err
		}
		if err := change(a, by, now); err != nil {
			return "", err
		}
		if err := e.store.EHR.UpdateAmendment(ctx, a); err != nil {
			return "", err
		}
		out = a
		return id.String(), nil
	})
	return out, err
}

// AmendmentDecision is how an amendment request is decided: accepted with
// the amendment's text, or denied on a basis with a reason.
type AmendmentDecision struct {
	Accept    bool
	Amendment string          // accepted: the text linked to the entries
	Basis     ehr.DenialBasis // denied: the ground
	Reason    string          // denied: the written denial
}

// DecideAmendment accepts or denies request id of patient
// ("amendment.decide"). A request decided already, also by a concurrent
// decider, is KindConflict; bad input names its field (amendment,
// denial_basis, reason).
func (e *Engine) DecideAmendment(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, id ehr.RequestID, d AmendmentDecision) (*ehr.Amendment, error) {
	return e.changeAmendment(ctx, practice, patient, id, "amendment.decide", func(a *ehr.Amendment, by string, now time.Time) error {
		if d.Accept {
			return a.Accept(d.Amendment, by, now)
		}
		return a.Deny(d.Basis, d.Reason, by, now)
	})
}

// ExtendAmendment extends the time limit of request id once, by 30 days,
// for reason ("amendment.extend"); see ehr.Amendment.Extend.
func (e *Engine) ExtendAmendment(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, id ehr.RequestID, reason string) (*ehr.Amendment, error) {
	return e.changeAmendment(ctx, practice, patient, id, "amendment.extend", func(a *ehr.Amendment, by string, now time.Time) error {
		return a.Extend(reason, by, now)
	})
}

// DisagreeAmendment records the patient's statement of disagreement with
// the denial of request id ("amendment.disagree"); see
// ehr.Amendment.Disagree.
func (e *Engine) DisagreeAmendment(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, id ehr.RequestID, statement string) (*ehr.Amendment, error) {
	return e.changeAmendment(ctx, practice, patient, id, "amendment.disagree", func(a *ehr.Amendment, by string, now time.Time) error {
		return a.Disagree(statement, by, now)
	})
}

// RebutAmendment records the practice's rebuttal of the patient's
// disagreement with request id ("amendment.rebut"); see
// ehr.Amendment.Rebut.
func (e *Engine) RebutAmendment(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, id ehr.RequestID, rebuttal string) (*ehr.Amendment, error) {
	return e.changeAmendment(ctx, practice, patient, id, "amendment.rebut", func(a *ehr.Amendment, by string, now time.Time) error {
		return a.Rebut(rebuttal, by, now)
	})
}

// OverdueAmendments returns the practice's amendment requests undecided
// past their time limit at the clock's now, the most overdue first
// ("amendment.overdue").
func (e *Engine) OverdueAmendments(ctx context.Context, practice tenant.PracticeID) ([]*ehr.Amendment, error) {
	var out []*ehr.Amendment
	err := e.rights(ctx, practice, nil, "amendment.overdue", practice.String(), func(ctx context.Context, _ *Permit, _ string, now time.Time) (string, error) {
		var err error
		out, err = e.store.EHR.OverdueAmendments(ctx, practice, now)
		return practice.String(), err
	})
	return out, err
}

// RequestRecordCopy records a request for a copy of patient's record in
// form (human-readable when empty), due in 30 days ("access.request"). A
// bad form names "form".
func (e *Engine) RequestRecordCopy(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, form ehr.RecordForm) (*ehr.RecordRequest, error) {
	var out *ehr.RecordRequest
	err := e.rights(ctx, practice, &patient, "access.request", "", func(ctx context.Context, _ *Permit, by string, now time.Time) (string, error) {
		r, err := ehr.NewRecordRequest(e.IDs.New(), practice, patient, form, by, now)
		if err != nil {
			return "", err
		}
		if err := e.store.EHR.CreateRecordRequest(ctx, r); err != nil {
			return "", err
		}
		out = r
		return r.ID.String(), nil
	})
	return out, err
}

// RecordRequests returns a patient's record requests, oldest first
// ("access.read").
func (e *Engine) RecordRequests(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) ([]*ehr.RecordRequest, error) {
	var out []*ehr.RecordRequest
	err := e.rights(ctx, practice, &patient, "access.read", patient.String(), func(ctx context.Context, _ *Permit, _ string, _ time.Time) (string, error) {
		var err error
		out, err = e.store.EHR.RecordRequests(ctx, practice, patient)
		return patient.String(), err
	})
	return out, err
}

// changeRecordRequest is changeAmendment for a record request.
func (e *Engine) changeRecordRequest(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, id ehr.RequestID, action string,
	change func(r *ehr.RecordRequest, by string, now time.Time) error) (*ehr.RecordRequest, error) {
	var out *ehr.RecordRequest
	err := e.rights(ctx, practice, &patient, action, id.String(), func(ctx context.Context, _ *Permit, by string, now time.Time) (string, error) {
		r, err := e.store.EHR.RecordRequest(ctx, practice, id)
		if err == nil && r.PatientID != patient {
			err = errs.NotFound("carebook."+action, "record request")
		}
		if err != nil {
			return "", err
		}
		if err := change(r, by, now); err != nil {
			return "", err
		}
		if err := e.store.EHR.UpdateRecordRequest(ctx, r); err != nil {
			return "", err
		}
		out = r
		return id.String(), nil
	})
	return out, err
}

// FulfilRecordRequest records that the copy asked for by request id was
// provided in form ("access.fulfil"): the download itself is the
// record's export. A request decided already is KindConflict; a bad form
// names "form".
func (e *Engine) FulfilRecordRequest(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, id ehr.RequestID, form ehr.RecordForm) (*ehr.RecordRequest, error) {
	return e.changeRecordRequest(ctx, practice, patient, id, "access.fulfil", func(r *ehr.RecordRequest, by string, now time.Time) error {
		return r.Fulfil(form, by, now)
	})
}

// DenyRecordRequest denies request id for reason ("access.deny").
func (e *Engine) DenyRecordRequest(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, id ehr.RequestID, reason string) (*ehr.RecordRequest, error) {
	return e.changeRecordRequest(ctx, practice, patient, id, "access.deny", func(r *ehr.RecordRequest, by string, now time.Time) error {
		return r.Deny(reason, by, now)
	})
}

// ExtendRecordRequest extends the time limit of request id once, by 30
// days, for reason ("access.extend").
func (e *Engine) ExtendRecordRequest(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, id ehr.RequestID, reason string) (*ehr.RecordRequest, error) {
	return e.changeRecordRequest(ctx, practice, patient, id, "access.extend", func(r *ehr.RecordRequest, by string, now time.Time) error {
		return r.Extend(reason, by, now)
	})
}

// OverdueRecordRequests returns the practice's record requests undecided
// past their time limit at the clock's now, the most overdue first
// ("access.overdue").
func (e *Engine) OverdueRecordRequests(ctx context.Context, practice tenant.PracticeID) ([]*ehr.RecordRequest, error) {
	var out []*ehr.RecordRequest
	err := e.rights(ctx, practice, nil, "access.overdue", practice.String(), func(ctx context.Context, _ *Permit, _ string, now time.Time) (string, error) {
		var err error
		out, err = e.store.EHR.OverdueRecordRequests(ctx, practice, now)
		return practice.String(), err
	})
	return out, err
}

// DisclosureInput is a disclosure to record.
type DisclosureInput struct {
	DisclosedAt      time.Time
	Recipient        string
	RecipientAddress string // optional
	Description      string
	Purpose          string
}

// RecordDisclosure records a disclosure of patient's information outside
// treatment, payment and operations ("disclosure.record"). Bad input
// names its field (disclosed_at, recipient, recipient_address,
// description, purpose).
func (e *Engine) RecordDisclosure(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, in DisclosureInput) (*ehr.Disclosure, error) {
	var out *ehr.Disclosure
	err := e.rights(ctx, practice, &patient, "disclosure.record", "", func(ctx context.Context, _ *Permit, by string, now time.Time) (string, error) {
		d := &ehr.Disclosure{ID: e.IDs.New(), PracticeID: practice, PatientID: patient, DisclosedAt: in.DisclosedAt.UTC(),
			Recipient: in.Recipient, RecipientAddress: in.RecipientAddress, Description: in.Description, Purpose: in.Purpose,
			RecordedBy: by, RecordedAt: now}
		if err := d.Validate(now); err != nil {
			return "", err
		}
		if err := e.store.EHR.CreateDisclosure(ctx, d); err != nil {
			return "", err
		}
		out = d
		return d.ID.String(), nil
	})
	return out, err
}

// DisclosureReport returns the accounting of patient's disclosures over
// the 6 years before the clock's now, oldest first ("disclosure.report").
func (e *Engine) DisclosureReport(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) ([]*ehr.Disclosure, error) {
	var out []*ehr.Disclosure
	err := e.rights(ctx, practice, &patient, "disclosure.report", patient.String(), func(ctx context.Context, _ *Permit, _ string, now time.Time) (string, error) {
		var err error
		if out, err = e.store.EHR.Disclosures(ctx, practice, patient, ehr.ReportFrom(now), now.Add(time.Microsecond)); err == nil && len(out) == 0 {
			// None, or no such patient: say which.
			_, err = e.Scheduling.Patient(ctx, practice, patient)
		}
		return patient.String(), err
	})
	return out, err
}
