package ehr

import (
	"context"
	"slices"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The patient's rights over their record (45 CFR 164.524, .526 and .528):
// requests to amend the chart, requests for a copy of the record, and the
// accounting of disclosures. Requests are decided within a time limit
// counted from when they were made, which may be extended once, with a
// written reason, before it runs out; a request neither decided nor
// extended in time is overdue.
//
// Every request changes through the methods below, which check the change
// and count the request's Version up by one: a store writes a change only
// over the version it was made from (Rights.UpdateAmendment), so that of
// two staff members deciding one request at once, one wins and the other
// gets KindConflict.

// RequestID identifies an amendment request or a record request.
type RequestID = uuid.UUID

// RequestStatus is where a request stands: Requested until it is decided,
// then Accepted or Denied (an amendment), Fulfilled or Denied (a copy of
// the record). A decided request is final.
type RequestStatus string

// The statuses of requests.
const (
	Requested RequestStatus = "requested"
	Accepted  RequestStatus = "accepted"
	Denied    RequestStatus = "denied"
	Fulfilled RequestStatus = "fulfilled"
)

// The time limits: an amendment is decided within 60 days of its request
// (164.526(b)(2)), a copy of the record provided within 30 (164.524(b)(2));
// either may be extended once, by 30 days. Disclosures are accounted for
// over the 6 years before the report (164.528(a)).
const (
	AmendmentDays  = 60
	AccessDays     = 30
	ExtensionDays  = 30
	DisclosureYear = 6
)

// DenialBasis is why an amendment is denied: one of the grounds of
// 164.526(a)(2).
type DenialBasis string

// The grounds to deny an amendment.
const (
	NotCreatedHere DenialBasis = "not-created-here" // the practice did not create the entry
	NotInRecord    DenialBasis = "not-in-record"    // not part of the designated record set
	NotAccessible  DenialBasis = "not-accessible"   // not available for inspection under 164.524
	Accurate       DenialBasis = "accurate"         // accurate and complete as it is
)

// RecordForm is the form a copy of the record is produced in.
type RecordForm string

// The forms of a copy of the record.
const (
	HumanReadable RecordForm = "human-readable"
	FHIR          RecordForm = "fhir" // FHIR R4 JSON
)

// Extension is the one extension of a request's time limit.
type Extension struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Decision is who decided a request, and when.
type Decision struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// Statement is a written statement on a denied amendment: the patient's
// disagreement, or the practice's rebuttal of it.
type Statement struct {
	Text string    `json:"text"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// Amendment is a patient's request to amend entries of their chart
// (164.526). Accepted, its Amendment text is linked to the entries it
// affects; denied, the denial (DenialBasis, DenialReason), the patient's
// Disagreement and the practice's Rebuttal are, so that whoever reads
// those entries later sees them (Rights.EntryAmendments). The texts are
// protected health information, sealed at rest.
type Amendment struct {
	ID         RequestID            `json:"id"`
	PracticeID tenant.PracticeID    `json:"practice_id"`
	PatientID  scheduling.PatientID `json:"patient_id"`
	// EntryIDs are the chart entries the request is about, at least one,
	// each the patient's.
	EntryIDs []EntryID `json:"entry_ids"`
	// Reason is the patient's: what is wrong and why.
	Reason      string        `json:"reason"`
	RequestedBy string        `json:"requested_by"` // the actor, as actor.Actor.String
	RequestedAt time.Time     `json:"requested_at"`
	Due         time.Time     `json:"due"`
	Extension   *Extension    `json:"extension,omitempty"`
	Status      RequestStatus `json:"status"`
	Decision    *Decision     `json:"decision,omitempty"`
	// Amendment is the text appended to the entries, once accepted.
	Amendment    string      `json:"amendment,omitempty"`
	DenialBasis  DenialBasis `json:"denial_basis,omitempty"`
	DenialReason string      `json:"denial_reason,omitempty"`
	Disagreement *Statement  `json:"disagreement,omitempty"`
	Rebuttal     *Statement  `json:"rebuttal,omitempty"`
	// Version counts the request's writes from 1.
	Version int `json:"version"`
}

// RecordRequest is a request for a copy of the patient's record
// (164.524), made by the patient or recorded by staff on their request.
type RecordRequest struct {
	ID          RequestID            `json:"id"`
	PracticeID  tenant.PracticeID    `json:"practice_id"`
	PatientID   scheduling.PatientID `json:"patient_id"`
	Form        RecordForm           `json:"form"` // the form asked for
	RequestedBy string               `json:"requested_by"`
	RequestedAt time.Time            `json:"requested_at"`
	Due         time.Time            `json:"due"`
	Extension   *Extension           `json:"extension,omitempty"`
	Status      RequestStatus        `json:"status"`
	Decision    *Decision            `json:"decision,omitempty"`
	// FulfilledForm is the form the copy was produced in, once fulfilled.
	FulfilledForm RecordForm `json:"fulfilled_form,omitempty"`
	DenialReason  string     `json:"denial_reason,omitempty"`
	Version       int        `json:"version"`
}

// Disclosure is one disclosure of the patient's information outside
// treatment, payment and health care operations, for the accounting of
// disclosures (164.528). Its texts are sealed at rest.
type Disclosure struct {
	ID          uuid.UUID            `json:"id"`
	PracticeID  tenant.PracticeID    `json:"practice_id"`
	PatientID   scheduling.PatientID `json:"patient_id"`
	DisclosedAt time.Time            `json:"disclosed_at"`
	Recipient   string               `json:"recipient"`
	// RecipientAddress is optional.
	RecipientAddress string    `json:"recipient_address,omitempty"`
	Description      string    `json:"description"` // what was disclosed
	Purpose          string    `json:"purpose"`
	RecordedBy       string    `json:"recorded_by"`
	RecordedAt       time.Time `json:"recorded_at"`
}

// Rights keeps the requests and disclosures of the patient's rights.
// Every method is scoped to its practice: a request of another practice is
// KindNotFound. A store seals the texts it keeps.
type Rights interface {
	// CreateAmendment stores a new request, version 1, and links it to its
	// entries: an entry that is not a current entry of the request's
	// patient is KindNotFound, an ID taken KindConflict.
	CreateAmendment(ctx context.Context, a *Amendment) error
	// Amendment returns request id, or KindNotFound.
	Amendment(ctx context.Context, practice tenant.PracticeID, id RequestID) (*Amendment, error)
	// Amendments returns a patient's requests, oldest first.
	Amendments(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) ([]*Amendment, error)
	// EntryAmendments returns the requests linked to a chart entry, oldest
	// first: what a reader of the entry is shown beside it.
	EntryAmendments(ctx context.Context, practice tenant.PracticeID, entry EntryID) ([]*Amendment, error)
	// UpdateAmendment writes a, changed from version a.Version-1 (by the
	// methods of Amendment), if that is still the stored one: else
	// KindConflict (another change came first), or KindNotFound.
	UpdateAmendment(ctx context.Context, a *Amendment) error
	// OverdueAmendments returns the practice's requests not decided whose
	// time limit is before now, the most overdue first.
	OverdueAmendments(ctx context.Context, practice tenant.PracticeID, now time.Time) ([]*Amendment, error)

	// CreateRecordRequest stores a new request, version 1.
	CreateRecordRequest(ctx context.Context, r *RecordRequest) error
	// RecordRequest returns request id, or KindNotFound.
	RecordRequest(ctx context.Context, practice tenant.PracticeID, id RequestID) (*RecordRequest, error)
	// RecordRequests returns a patient's requests, oldest first.
	RecordRequests(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) ([]*RecordRequest, error)
	// UpdateRecordRequest is UpdateAmendment for a record request.
	UpdateRecordRequest(ctx context.Context, r *RecordRequest) error
	// OverdueRecordRequests is OverdueAmendments for record requests.
	OverdueRecordRequests(ctx context.Context, practice tenant.PracticeID, now time.Time) ([]*RecordRequest, error)

	// CreateDisclosure stores a disclosure; a patient who is not the
	// practice's is KindNotFound.
	CreateDisclosure(ctx context.Context, d *Disclosure) error
	// Disclosures returns a patient's disclosures made at or after from
	// and before to, oldest first.
	Disclosures(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, from, to time.Time) ([]*Disclosure, error)
}

// The lengths of the rights' texts, in bytes.
const (
	maxStatement = 10_000 // a reason, an amendment, a statement
	maxName      = 500    // a recipient, an address
)

// dueIn returns the time limit days after at.
func dueIn(at time.Time, days int) time.Time { return at.AddDate(0, 0, days) }

// NewAmendment returns version 1 of a request of patient to amend entries
// for reason, made by requestedBy at now, due AmendmentDays later. It
// checks the input, naming the field at fault: entry_ids (at least one,
// none twice) and reason.
func NewAmendment(id RequestID, practice tenant.PracticeID, patient scheduling.PatientID, entries []EntryID, reason, requestedBy string, now time.Time) (*Amendment, error) {
	const op = "ehr.NewAmendment"
	switch {
	case len(entries) == 0:
		return nil, errs.Invalid(op, "entry_ids", "name at least one entry of the chart to amend")
	case len(entries) > 100:
		return nil, errs.Invalid(op, "entry_ids", "name at most 100 entries")
	}
	for i, e := range entries {
		if e == uuid.Nil {
			return nil, errs.Invalid(op, "entry_ids", "holds the nil ID")
		}
		if slices.Contains(entries[:i], e) {
			return nil, errs.Invalid(op, "entry_ids", "names an entry twice")
		}
	}
	if err := text(op, "reason", reason, true, maxStatement); err != nil {
		return nil, err
	}
	if requestedBy == "" {
		return nil, errs.Invalid(op, "requested_by", "names who made the request")
	}
	return &Amendment{ID: id, PracticeID: practice, PatientID: patient, EntryIDs: slices.Clone(entries), Reason: reason,
		RequestedBy: requestedBy, RequestedAt: now, Due: dueIn(now, AmendmentDays), Status: Requested, Version: 1}, nil
}

// extend checks and returns the extension of a request in status st, due
// at due and extended as ext, for reason by by at now.
func extend(op string, st RequestStatus, due time.Time, ext *Extension, reason, by string, now time.Time) (*Extension, error) {
	switch {
	case st != Requested:
		return nil, errs.Conflict(op, "the request was decided: its time limit no longer runs")
	case ext != nil:
		return nil, errs.Conflict(op, "the time limit was extended once already: it may not be again")
	case now.After(due):
		return nil, errs.Conflict(op, "the time limit has passed: it is extended only before it runs out")
	}
	if err := text(op, "reason", reason, true, maxStatement); err != nil {
		return nil, err
	}
	return &Extension{Reason: reason, By: by, At: now}, nil
}

// Extend extends the time limit once by ExtensionDays, for reason (the
// written statement the patient is told), by by at now. A decided request,
// one extended already, or one whose limit has passed is KindConflict; a
// missing reason names "reason".
func (a *Amendment) Extend(reason, by string, now time.Time) error {
	ext, err := extend("ehr.Amendment.Extend", a.Status, a.Due, a.Extension, reason, by, now)
	if err != nil {
		return err
	}
	a.Extension, a.Due = ext, dueIn(a.Due, ExtensionDays)
	a.Version++
	return nil
}

// Accept accepts the request, by by at now, with amendment, the text
// appended to the entries. A decided request is KindConflict; a missing
// text names "amendment".
func (a *Amendment) Accept(amendment, by string, now time.Time) error {
	const op = "ehr.Amendment.Accept"
	if a.Status != Requested {
		return errs.Conflict(op, "the request was "+string(a.Status)+" already")
	}
	if err := text(op, "amendment", amendment, true, maxStatement); err != nil {
		return err
	}
	a.Status, a.Amendment, a.Decision = Accepted, amendment, &Decision{By: by, At: now}
	a.Version++
	return nil
}

// Deny denies the request, by by at now, on basis, explained by reason
// (the written denial the patient is given). A decided request is
// KindConflict; bad input names "denial_basis" or "reason".
func (a *Amendment) Deny(basis DenialBasis, reason, by string, now time.Time) error {
	const op = "ehr.Amendment.Deny"
	if a.Status != Requested {
		return errs.Conflict(op, "the request was "+string(a.Status)+" already")
	}
	if err := oneOf(op, "denial_basis", string(basis), true, string(NotCreatedHere), string(NotInRecord), string(NotAccessible), string(Accurate)); err != nil {
		return err
	}
	if err := text(op, "reason", reason, true, maxStatement); err != nil {
		return err
	}
	a.Status, a.DenialBasis, a.DenialReason, a.Decision = Denied, basis, reason, &Decision{By: by, At: now}
	a.Version++
	return nil
}

// Disagree records the patient's statement of disagreement with the
// denial, by by at now. Only a denied request takes one, once
// (KindConflict); a missing statement names "text".
func (a *Amendment) Disagree(statement, by string, now time.Time) error {
	const op = "ehr.Amendment.Disagree"
	switch {
	case a.Status != Denied:
		return errs.Conflict(op, "only a denied request takes a statement of disagreement")
	case a.Disagreement != nil:
		return errs.Conflict(op, "the statement of disagreement was given already")
	}
	if err := text(op, "text", statement, true, maxStatement); err != nil {
		return err
	}
	a.Disagreement = &Statement{Text: statement, By: by, At: now}
	a.Version++
	return nil
}

// Rebut records the practice's rebuttal of the patient's disagreement, by
// by at now. Only a denied request with a disagreement takes one, once
// (KindConflict); a missing rebuttal names "text".
func (a *Amendment) Rebut(rebuttal, by string, now time.Time) error {
	const op = "ehr.Amendment.Rebut"
	switch {
	case a.Status != Denied || a.Disagreement == nil:
		return errs.Conflict(op, "a rebuttal answers a statement of disagreement, which the request has not")
	case a.Rebuttal != nil:
		return errs.Conflict(op, "the rebuttal was written already")
	}
	if err := text(op, "text", rebuttal, true, maxStatement); err != nil {
		return err
	}
	a.Rebuttal = &Statement{Text: rebuttal, By: by, At: now}
	a.Version++
	return nil
}

// Overdue reports whether the request is undecided past its time limit at
// now.
func (a *Amendment) Overdue(now time.Time) bool { return a.Status == Requested && now.After(a.Due) }

// checkForm checks a form of the record; an optional one may be empty.
func checkForm(op, field string, f RecordForm, required bool) error {
	return oneOf(op, field, string(f), required, string(HumanReadable), string(FHIR))
}

// NewRecordRequest returns version 1 of a request of patient for a copy of
// their record in form (HumanReadable when empty), made by requestedBy at
// now, due AccessDays later. A bad form names "form".
func NewRecordRequest(id RequestID, practice tenant.PracticeID, patient scheduling.PatientID, form RecordForm, requestedBy string, now time.Time) (*RecordRequest, error) {
	const op = "ehr.NewRecordRequest"
	if form == "" {
		form = HumanReadable
	}
	if err := checkForm(op, "form", form, true); err != nil {
		return nil, err
	}
	if requestedBy == "" {
		return nil, errs.Invalid(op, "requested_by", "names who made the request")
	}
	return &RecordRequest{ID: id, PracticeID: practice, PatientID: patient, Form: form, RequestedBy: requestedBy,
		RequestedAt: now, Due: dueIn(now, AccessDays), Status: Requested, Version: 1}, nil
}

// Extend extends the time limit once by ExtensionDays (see
// Amendment.Extend).
func (r *RecordRequest) Extend(reason, by string, now time.Time) error {
	ext, err := extend("ehr.RecordRequest.Extend", r.Status, r.Due, r.Extension, reason, by, now)
	if err != nil {
		return err
	}
	r.Extension, r.Due = ext, dueIn(r.Due, ExtensionDays)
	r.Version++
	return nil
}

// Fulfil records that the copy was provided in form, by by at now. A
// decided request is KindConflict; a bad form names "form".
func (r *RecordRequest) Fulfil(form RecordForm, by string, now time.Time) error {
	const op = "ehr.RecordRequest.Fulfil"
	if r.Status != Requested {
		return errs.Conflict(op, "the request was "+string(r.Status)+" already")
	}
	if err := checkForm(op, "form", form, true); err != nil {
		return err
	}
	r.Status, r.FulfilledForm, r.Decision = Fulfilled, form, &Decision{By: by, At: now}
	r.Version++
	return nil
}

// Deny denies the request for reason, by by at now. A decided request is
// KindConflict; a missing reason names "reason".
func (r *RecordRequest) Deny(reason, by string, now time.Time) error {
	const op = "ehr.RecordRequest.Deny"
	if r.Status != Requested {
		return errs.Conflict(op, "the request was "+string(r.Status)+" already")
	}
	if err := text(op, "reason", reason, true, maxStatement); err != nil {
		return err
	}
	r.Status, r.DenialReason, r.Decision = Denied, reason, &Decision{By: by, At: now}
	r.Version++
	return nil
}

// Overdue reports whether the request is undecided past its time limit at
// now.
func (r *RecordRequest) Overdue(now time.Time) bool { return r.Status == Requested && now.After(r.Due) }

// Validate checks a disclosure recorded at now, naming the field at
// fault: disclosed_at (required, not after now), recipient (required),
// recipient_address, description and purpose (required).
func (d *Disclosure) Validate(now time.Time) error {
	const op = "ehr.Disclosure.Validate"
	switch {
	case d.DisclosedAt.IsZero():
		return errs.Invalid(op, "disclosed_at", "is required")
	case d.DisclosedAt.After(now):
		return errs.Invalid(op, "disclosed_at", "is in the future")
	case d.DisclosedAt.Year() < 1900:
		return errs.Invalid(op, "disclosed_at", "is too far in the past")
	}
	for _, f := range []struct {
		field, v string
		req      bool
		max      int
	}{
		{"recipient", d.Recipient, true, maxName},
		{"recipient_address", d.RecipientAddress, false, maxName},
		{"description", d.Description, true, maxStatement},
		{"purpose", d.Purpose, true, maxStatement},
	} {
		if err := text(op, f.field, f.v, f.req, f.max); err != nil {
			return err
		}
	}
	if d.RecordedBy == "" {
		return errs.Invalid(op, "recorded_by", "names who recorded it")
	}
	return nil
}

// ReportFrom is the start of the accounting of disclosures reported at now:
// DisclosureYear years before.
func ReportFrom(now time.Time) time.Time { return now.AddDate(-DisclosureYear, 0, 0) }
