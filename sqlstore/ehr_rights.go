package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// The patient's rights (ehr.Rights) are kept in ehr_amendments (with
// ehr_amendment_entries, the chart entries each request is about),
// ehr_record_requests and ehr_disclosures. Each row's free texts are
// sealed together in its sealed column, bound to the practice, the table,
// the column and the row's ID; statuses, actors and times stay in clear,
// for the lists and the deadlines. A request is changed only over the
// version it was changed from (compare and set on version), so that two
// concurrent deciders cannot both decide it.

const (
	amendmentsTable     = "ehr_amendments"
	recordRequestsTable = "ehr_record_requests"
	disclosuresTable    = "ehr_disclosures"
	rightsSealedColumn  = "sealed"
)

// rightsBinding is where the row id of table seals its texts.
func rightsBinding(table string, id uuid.UUID) keys.Binding {
	return keys.Binding{Table: table, Column: rightsSealedColumn, Row: id.String()}
}

type amendmentRow struct {
	bun.BaseModel `bun:"table:ehr_amendments,alias:am"`

	PracticeID  uuid.UUID `bun:"practice_id,pk"`
	ID          uuid.UUID `bun:"id,pk"`
	PatientID   uuid.UUID `bun:"patient_id"`
	Status      string    `bun:"status"`
	RequestedBy string    `bun:"requested_by"`
	RequestedAt utcTime   `bun:"requested_at"`
	DueAt       utcTime   `bun:"due_at"`
	ExtendedBy  *string   `bun:"extended_by"`
	ExtendedAt  *utcTime  `bun:"extended_at"`
	DecidedBy   *string   `bun:"decided_by"`
	DecidedAt   *utcTime  `bun:"decided_at"`
	DenialBasis *string   `bun:"denial_basis"`
	DisagreedBy *string   `bun:"disagreed_by"`
	DisagreedAt *utcTime  `bun:"disagreed_at"`
	RebuttedBy  *string   `bun:"rebutted_by"`
	RebuttedAt  *utcTime  `bun:"rebutted_at"`
	Version     int       `bun:"version"`
	Sealed      []byte    `bun:"sealed"`
	SealedKey   int64     `bun:"sealed_key"`
}

type amendmentEntryRow struct {
	bun.BaseModel `bun:"table:ehr_amendment_entries,alias:ae"`

	PracticeID  uuid.UUID `bun:"practice_id,pk"`
	AmendmentID uuid.UUID `bun:"amendment_id,pk"`
	EntryID     uuid.UUID `bun:"entry_id,pk"`
	Position    int       `bun:"position"`
}

type recordRequestRow struct {
	bun.BaseModel `bun:"table:ehr_record_requests,alias:rr"`

	PracticeID    uuid.UUID `bun:"practice_id,pk"`
	ID            uuid.UUID `bun:"id,pk"`
	PatientID     uuid.UUID `bun:"patient_id"`
	Form          string    `bun:"form"`
	Status        string    `bun:"status"`
	RequestedBy   string    `bun:"requested_by"`
	RequestedAt   utcTime   `bun:"requested_at"`
	DueAt         utcTime   `bun:"due_at"`
	ExtendedBy    *string   `bun:"extended_by"`
	ExtendedAt    *utcTime  `bun:"extended_at"`
	DecidedBy     *string   `bun:"decided_by"`
	DecidedAt     *utcTime  `bun:"decided_at"`
	FulfilledForm *string   `bun:"fulfilled_form"`
	Version       int       `bun:"version"`
	Sealed        []byte    `bun:"sealed"`
	SealedKey     int64     `bun:"sealed_key"`
}

type disclosureRow struct {
	bun.BaseModel `bun:"table:ehr_disclosures,alias:di"`

	PracticeID  uuid.UUID `bun:"practice_id,pk"`
	ID          uuid.UUID `bun:"id,pk"`
	PatientID   uuid.UUID `bun:"patient_id"`
	DisclosedAt utcTime   `bun:"disclosed_at"`
	RecordedBy  string    `bun:"recorded_by"`
	RecordedAt  utcTime   `bun:"recorded_at"`
	Sealed      []byte    `bun:"sealed"`
	SealedKey   int64     `bun:"sealed_key"`
}

// Helpers for the nullable columns.

func optText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func textOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// atTime converts an instant known to be set for a nullable column.
func atTime(t time.Time) *utcTime { return optTime(&t) }

// extensionRow splits an extension into its columns and its reason.
func extensionRow(x *ehr.Extension) (by *string, at *utcTime, reason string) {
	if x == nil {
		return nil, nil, ""
	}
	return optText(x.By), atTime(x.At), x.Reason
}

// decisionRow splits a decision into its columns.
func decisionRow(d *ehr.Decision) (by *string, at *utcTime) {
	if d == nil {
		return nil, nil
	}
	return optText(d.By), atTime(d.At)
}

// statementRow splits a statement into its columns and its text.
func statementRow(s *ehr.Statement) (by *string, at *utcTime, text string) {
	if s == nil {
		return nil, nil, ""
	}
	return optText(s.By), atTime(s.At), s.Text
}

// normalizeTimes sets each of ts to what is stored: UTC, to the
// microsecond.
func normalizeTimes(ts ...*time.Time) {
	for _, t := range ts {
		if !t.IsZero() {
			*t = utc(*t).Time()
		}
	}
}

// amendmentRowOf returns a's row, its texts sealed.
func (s *EHR) amendmentRowOf(ctx context.Context, op string, a *ehr.Amendment) (*amendmentRow, error) {
	r := &amendmentRow{PracticeID: a.PracticeID, ID: a.ID, PatientID: a.PatientID, Status: string(a.Status),
		RequestedBy: a.RequestedBy, RequestedAt: utc(a.RequestedAt), DueAt: utc(a.Due), DenialBasis: optText(string(a.DenialBasis)),
		Version: a.Version}
	var extReason, disagreement, rebuttal string
	r.ExtendedBy, r.ExtendedAt, extReason = extensionRow(a.Extension)
	r.DecidedBy, r.DecidedAt = decisionRow(a.Decision)
	r.DisagreedBy, r.DisagreedAt, disagreement = statementRow(a.Disagreement)
	r.RebuttedBy, r.RebuttedAt, rebuttal = statementRow(a.Rebuttal)
	var err error
	r.Sealed, r.SealedKey, err = s.sealFields(ctx, op, a.PracticeID, rightsBinding(amendmentsTable, a.ID),
		a.Reason, extReason, a.Amendment, a.DenialReason, disagreement, rebuttal)
	return r, err
}

// amendment returns the row's request, its texts opened, with entries.
func (r *amendmentRow) amendment(ctx context.Context, c *conn, op string, entries []ehr.EntryID) (*ehr.Amendment, error) {
	f, err := c.openFields(ctx, op, r.PracticeID, rightsBinding(amendmentsTable, r.ID), r.Sealed, 6)
	if err != nil {
		return nil, err
	}
	a := &ehr.Amendment{ID: r.ID, PracticeID: r.PracticeID, PatientID: r.PatientID, EntryIDs: entries, Reason: f[0],
		RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt.Time(), Due: r.DueAt.Time(), Status: ehr.RequestStatus(r.Status),
		Amendment: f[2], DenialBasis: ehr.DenialBasis(textOf(r.DenialBasis)), DenialReason: f[3], Version: r.Version}
	if r.ExtendedAt != nil {
		a.Extension = &ehr.Extension{Reason: f[1], By: textOf(r.ExtendedBy), At: r.ExtendedAt.Time()}
	}
	if r.DecidedAt != nil {
		a.Decision = &ehr.Decision{By: textOf(r.DecidedBy), At: r.DecidedAt.Time()}
	}
	if r.DisagreedAt != nil {
		a.Disagreement = &ehr.Statement{Text: f[4], By: textOf(r.DisagreedBy), At: r.DisagreedAt.Time()}
	}
	if r.RebuttedAt != nil {
		a.Rebuttal = &ehr.Statement{Text: f[5], By: textOf(r.RebuttedBy), At: r.RebuttedAt.Time()}
	}
	return a, nil
}

// amendments returns the rows' requests with their entries, in the rows'
// order.
func (s *EHR) amendments(ctx context.Context, op string, practice tenant.PracticeID, rows []amendmentRow) ([]*ehr.Amendment, error) {
	out := make([]*ehr.Amendment, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]uuid.UUID, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	var links []amendmentEntryRow
	if err := s.idb(ctx).NewSelect().Model(&links).
		Where("ae.practice_id = ? AND ae.amendment_id IN (?)", practice, bun.List(ids)).
		OrderExpr("ae.amendment_id, ae.position").Scan(ctx); err != nil {
		return nil, failure(op, "amendment request", err)
	}
	entries := map[uuid.UUID][]ehr.EntryID{}
	for _, l := range links {
		entries[l.AmendmentID] = append(entries[l.AmendmentID], l.EntryID)
	}
	for i := range rows {
		a, err := rows[i].amendment(ctx, s.conn, op, entries[rows[i].ID])
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// CreateAmendment stores a new amendment request, version 1, and links it
// to its entries (ehr.Rights): an entry that is not one of the patient's
// is KindNotFound, a patient who is not the practice's too, and an ID
// taken KindConflict. a's times are set to what is stored.
func (s *EHR) CreateAmendment(ctx context.Context, a *ehr.Amendment) error {
	const op = "sqlstore.CreateAmendment"
	switch {
	case a == nil:
		return errs.Invalid(op, "amendment", "is required")
	case a.ID == uuid.Nil || a.PracticeID == uuid.Nil || a.PatientID == uuid.Nil:
		return errs.Invalid(op, "id", "the request, its practice and its patient are required")
	case a.Version != 1 || a.Status != ehr.Requested:
		return errs.Invalid(op, "version", "a new request is version 1, requested")
	case len(a.EntryIDs) == 0:
		return errs.Invalid(op, "entry_ids", "name at least one entry")
	}
	normalizeTimes(&a.RequestedAt, &a.Due)
	return s.InTx(ctx, func(ctx context.Context) error {
		n, err := s.idb(ctx).NewSelect().Model((*ehrEntryRow)(nil)).
			Where("ee.practice_id = ? AND ee.patient_id = ? AND ee.id IN (?)", a.PracticeID, a.PatientID, bun.List(a.EntryIDs)).Count(ctx)
		if err != nil {
			return failure(op, "chart entry", err)
		}
		if n != int64(len(a.EntryIDs)) {
			return errs.NotFound(op, "chart entry")
		}
		row, err := s.amendmentRowOf(ctx, op, a)
		if err != nil {
			return err
		}
		if _, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx); err != nil {
			return failure(op, "amendment request", err)
		}
		links := make([]amendmentEntryRow, len(a.EntryIDs))
		for i, e := range a.EntryIDs {
			links[i] = amendmentEntryRow{PracticeID: a.PracticeID, AmendmentID: a.ID, EntryID: e, Position: i}
		}
		_, err = s.idb(ctx).NewInsert().Model(&links).Exec(ctx)
		return failure(op, "amendment request", err)
	})
}

// Amendment returns amendment request id (ehr.Rights), or KindNotFound.
func (s *EHR) Amendment(ctx context.Context, practice tenant.PracticeID, id ehr.RequestID) (*ehr.Amendment, error) {
	const op = "sqlstore.Amendment"
	var rows []amendmentRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("am.practice_id = ? AND am.id = ?", practice, id).Scan(ctx); err != nil {
		return nil, failure(op, "amendment request", err)
	}
	if len(rows) == 0 {
		return nil, errs.NotFound(op, "amendment request")
	}
	out, err := s.amendments(ctx, op, practice, rows)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Amendments returns a patient's amendment requests, oldest first
// (ehr.Rights).
func (s *EHR) Amendments(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) ([]*ehr.Amendment, error) {
	const op = "sqlstore.Amendments"
	var rows []amendmentRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("am.practice_id = ? AND am.patient_id = ?", practice, patient).
		OrderExpr("am.requested_at, am.id").Scan(ctx); err != nil {
		return nil, failure(op, "amendment request", err)
	}
	return s.amendments(ctx, op, practice, rows)
}

// EntryAmendments returns the amendment requests linked to a chart entry,
// oldest first (ehr.Rights).
func (s *EHR) EntryAmendments(ctx context.Context, practice tenant.PracticeID, entry ehr.EntryID) ([]*ehr.Amendment, error) {
	const op = "sqlstore.EntryAmendments"
	var rows []amendmentRow
	if err := s.idb(ctx).NewSelect().Model(&rows).
		Join("JOIN ehr_amendment_entries AS ae ON ae.practice_id = am.practice_id AND ae.amendment_id = am.id").
		Where("am.practice_id = ? AND ae.entry_id = ?", practice, entry).
		OrderExpr("am.requested_at, am.id").Scan(ctx); err != nil {
		return nil, failure(op, "amendment request", err)
	}
	return s.amendments(ctx, op, practice, rows)
}

// UpdateAmendment writes a over version a.Version-1 (ehr.Rights): the
// status, the time limit, the decision, the statements and the texts; the
// patient, the entries and the request itself do not change. Another
// version stored is KindConflict, no request KindNotFound.
func (s *EHR) UpdateAmendment(ctx context.Context, a *ehr.Amendment) error {
	const op = "sqlstore.UpdateAmendment"
	if a == nil || a.Version < 2 {
		return errs.Invalid(op, "version", "an update is version 2 or later")
	}
	row, err := s.amendmentRowOf(ctx, op, a)
	if err != nil {
		return err
	}
	res, err := s.idb(ctx).NewUpdate().Model(row).
		Column("status", "due_at", "extended_by", "extended_at", "decided_by", "decided_at", "denial_basis",
			"disagreed_by", "disagreed_at", "rebutted_by", "rebutted_at", "version", "sealed", "sealed_key").
		Where("am.practice_id = ? AND am.id = ? AND am.version = ?", a.PracticeID, a.ID, a.Version-1).Exec(ctx)
	return s.casResult(ctx, op, "amendment request", res, err, (*amendmentRow)(nil), "am", a.PracticeID, a.ID)
}

// casResult turns the result of a compare-and-set update of row id into
// its error: none when a row changed, KindConflict when the row is there
// at another version, KindNotFound when it is not.
func (s *EHR) casResult(ctx context.Context, op, what string, res sql.Result, err error, model any, alias string, practice, id uuid.UUID) error {
	if err != nil {
		return failure(op, what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return failure(op, what, err)
	}
	if n == 1 {
		return nil
	}
	exists, err := s.idb(ctx).NewSelect().Model(model).Where(alias+".practice_id = ? AND "+alias+".id = ?", practice, id).Exists(ctx)
	switch {
	case err != nil:
		return failure(op, what, err)
	case !exists:
		return errs.NotFound(op, what)
	}
	return errs.Conflict(op, "the "+what+" changed meanwhile: read it again")
}

// OverdueAmendments returns the practice's undecided amendment requests
// whose time limit is before now, the most overdue first (ehr.Rights).
func (s *EHR) OverdueAmendments(ctx context.Context, practice tenant.PracticeID, now time.Time) ([]*ehr.Amendment, error) {
	const op = "sqlstore.OverdueAmendments"
	var rows []amendmentRow
	if err := s.idb(ctx).NewSelect().Model(&rows).
		Where("am.practice_id = ? AND am.status = ? AND am.due_at < ?", practice, string(ehr.Requested), utc(now)).
		OrderExpr("am.due_at, am.id").Scan(ctx); err != nil {
		return nil, failure(op, "amendment request", err)
	}
	return s.amendments(ctx, op, practice, rows)
}

// recordRequestRowOf returns r's row, its texts sealed.
func (s *EHR) recordRequestRowOf(ctx context.Context, op string, r *ehr.RecordRequest) (*recordRequestRow, error) {
	row := &recordRequestRow{PracticeID: r.PracticeID, ID: r.ID, PatientID: r.PatientID, Form: string(r.Form), Status: string(r.Status),
		RequestedBy: r.RequestedBy, RequestedAt: utc(r.RequestedAt), DueAt: utc(r.Due), FulfilledForm: optText(string(r.FulfilledForm)),
		Version: r.Version}
	var extReason string
	row.ExtendedBy, row.ExtendedAt, extReason = extensionRow(r.Extension)
	row.DecidedBy, row.DecidedAt = decisionRow(r.Decision)
	var err error
	row.Sealed, row.SealedKey, err = s.sealFields(ctx, op, r.PracticeID, rightsBinding(recordRequestsTable, r.ID), extReason, r.DenialReason)
	return row, err
}

// recordRequest returns the row's request, its texts opened.
func (r *recordRequestRow) recordRequest(ctx context.Context, c *conn, op string) (*ehr.RecordRequest, error) {
	f, err := c.openFields(ctx, op, r.PracticeID, rightsBinding(recordRequestsTable, r.ID), r.Sealed, 2)
	if err != nil {
		return nil, err
	}
	out := &ehr.RecordRequest{ID: r.ID, PracticeID: r.PracticeID, PatientID: r.PatientID, Form: ehr.RecordForm(r.Form),
		RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt.Time(), Due: r.DueAt.Time(), Status: ehr.RequestStatus(r.Status),
		FulfilledForm: ehr.RecordForm(textOf(r.FulfilledForm)), DenialReason: f[1], Version: r.Version}
	if r.ExtendedAt != nil {
		out.Extension = &ehr.Extension{Reason: f[0], By: textOf(r.ExtendedBy), At: r.ExtendedAt.Time()}
	}
	if r.DecidedAt != nil {
		out.Decision = &ehr.Decision{By: textOf(r.DecidedBy), At: r.DecidedAt.Time()}
	}
	return out, nil
}

func recordRequests(ctx context.Context, c *conn, op string, rows []recordRequestRow) ([]*ehr.RecordRequest, error) {
	out := make([]*ehr.RecordRequest, 0, len(rows))
	for i := range rows {
		r, err := rows[i].recordRequest(ctx, c, op)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// CreateRecordRequest stores a new record request, version 1
// (ehr.Rights); a patient who is not the practice's is KindNotFound, an
// ID taken KindConflict. r's times are set to what is stored.
func (s *EHR) CreateRecordRequest(ctx context.Context, r *ehr.RecordRequest) error {
	const op = "sqlstore.CreateRecordRequest"
	switch {
	case r == nil:
		return errs.Invalid(op, "request", "is required")
	case r.ID == uuid.Nil || r.PracticeID == uuid.Nil || r.PatientID == uuid.Nil:
		return errs.Invalid(op, "id", "the request, its practice and its patient are required")
	case r.Version != 1 || r.Status != ehr.Requested:
		return errs.Invalid(op, "version", "a new request is version 1, requested")
	}
	normalizeTimes(&r.RequestedAt, &r.Due)
	row, err := s.recordRequestRowOf(ctx, op, r)
	if err != nil {
		return err
	}
	_, err = s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure(op, "record request", err)
}

// RecordRequest returns record request id (ehr.Rights), or KindNotFound.
func (s *EHR) RecordRequest(ctx context.Context, practice tenant.PracticeID, id ehr.RequestID) (*ehr.RecordRequest, error) {
	const op = "sqlstore.RecordRequest"
	var rows []recordRequestRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("rr.practice_id = ? AND rr.id = ?", practice, id).Scan(ctx); err != nil {
		return nil, failure(op, "record request", err)
	}
	if len(rows) == 0 {
		return nil, errs.NotFound(op, "record request")
	}
	return rows[0].recordRequest(ctx, s.conn, op)
}

// RecordRequests returns a patient's record requests, oldest first
// (ehr.Rights).
func (s *EHR) RecordRequests(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) ([]*ehr.RecordRequest, error) {
	const op = "sqlstore.RecordRequests"
	var rows []recordRequestRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("rr.practice_id = ? AND rr.patient_id = ?", practice, patient).
		OrderExpr("rr.requested_at, rr.id").Scan(ctx); err != nil {
		return nil, failure(op, "record request", err)
	}
	return recordRequests(ctx, s.conn, op, rows)
}

// UpdateRecordRequest writes r over version r.Version-1 (ehr.Rights); see
// UpdateAmendment.
func (s *EHR) UpdateRecordRequest(ctx context.Context, r *ehr.RecordRequest) error {
	const op = "sqlstore.UpdateRecordRequest"
	if r == nil || r.Version < 2 {
		return errs.Invalid(op, "version", "an update is version 2 or later")
	}
	row, err := s.recordRequestRowOf(ctx, op, r)
	if err != nil {
		return err
	}
	res, err := s.idb(ctx).NewUpdate().Model(row).
		Column("status", "due_at", "extended_by", "extended_at", "decided_by", "decided_at", "fulfilled_form",
			"version", "sealed", "sealed_key").
		Where("rr.practice_id = ? AND rr.id = ? AND rr.version = ?", r.PracticeID, r.ID, r.Version-1).Exec(ctx)
	return s.casResult(ctx, op, "record request", res, err, (*recordRequestRow)(nil), "rr", r.PracticeID, r.ID)
}

// OverdueRecordRequests returns the practice's undecided record requests
// whose time limit is before now, the most overdue first (ehr.Rights).
func (s *EHR) OverdueRecordRequests(ctx context.Context, practice tenant.PracticeID, now time.Time) ([]*ehr.RecordRequest, error) {
	const op = "sqlstore.OverdueRecordRequests"
	var rows []recordRequestRow
	if err := s.idb(ctx).NewSelect().Model(&rows).
		Where("rr.practice_id = ? AND rr.status = ? AND rr.due_at < ?", practice, string(ehr.Requested), utc(now)).
		OrderExpr("rr.due_at, rr.id").Scan(ctx); err != nil {
		return nil, failure(op, "record request", err)
	}
	return recordRequests(ctx, s.conn, op, rows)
}

// CreateDisclosure stores a disclosure (ehr.Rights), its recipient,
// address, description and purpose sealed; a patient who is not the
// practice's is KindNotFound, an ID taken KindConflict. d's times are set
// to what is stored.
func (s *EHR) CreateDisclosure(ctx context.Context, d *ehr.Disclosure) error {
	const op = "sqlstore.CreateDisclosure"
	switch {
	case d == nil:
		return errs.Invalid(op, "disclosure", "is required")
	case d.ID == uuid.Nil || d.PracticeID == uuid.Nil || d.PatientID == uuid.Nil:
		return errs.Invalid(op, "id", "the disclosure, its practice and its patient are required")
	case d.DisclosedAt.IsZero() || d.RecordedAt.IsZero():
		return errs.Invalid(op, "disclosed_at", "is required")
	}
	normalizeTimes(&d.DisclosedAt, &d.RecordedAt)
	row := &disclosureRow{PracticeID: d.PracticeID, ID: d.ID, PatientID: d.PatientID, DisclosedAt: utc(d.DisclosedAt),
		RecordedBy: d.RecordedBy, RecordedAt: utc(d.RecordedAt)}
	var err error
	if row.Sealed, row.SealedKey, err = s.sealFields(ctx, op, d.PracticeID, rightsBinding(disclosuresTable, d.ID),
		d.Recipient, d.RecipientAddress, d.Description, d.Purpose); err != nil {
		return err
	}
	_, err = s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure(op, "disclosure", err)
}

// Disclosures returns a patient's disclosures made at or after from and
// before to, oldest first (ehr.Rights).
func (s *EHR) Disclosures(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, from, to time.Time) ([]*ehr.Disclosure, error) {
	const op = "sqlstore.Disclosures"
	var rows []disclosureRow
	if err := s.idb(ctx).NewSelect().Model(&rows).
		Where("di.practice_id = ? AND di.patient_id = ? AND di.disclosed_at >= ? AND di.disclosed_at < ?", practice, patient, utc(from), utc(to)).
		OrderExpr("di.disclosed_at, di.id").Scan(ctx); err != nil {
		return nil, failure(op, "disclosure", err)
	}
	out := make([]*ehr.Disclosure, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		f, err := s.openFields(ctx, op, r.PracticeID, rightsBinding(disclosuresTable, r.ID), r.Sealed, 4)
		if err != nil {
			return nil, err
		}
		out = append(out, &ehr.Disclosure{ID: r.ID, PracticeID: r.PracticeID, PatientID: r.PatientID, DisclosedAt: r.DisclosedAt.Time(),
			Recipient: f[0], RecipientAddress: f[1], Description: f[2], Purpose: f[3], RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt.Time()})
	}
	return out, nil
}

// ResealRights seals again, with practice's primary key, up to limit rows
// of each of the rights' tables (amendment requests, record requests,
// disclosures, break-glass accesses) whose texts an older key sealed (after
// keys.Service.Rotate), and returns how many it rewrote: 0 when none is
// left (see resealRows).
func (s *EHR) ResealRights(ctx context.Context, practice tenant.PracticeID, limit int) (int, error) {
	const op = "sqlstore.ResealRights"
	passes := []func() (int, error){
		func() (int, error) {
			return resealTexts(ctx, s, op, practice, limit, "am", amendmentsTable, "amendment request", 6,
				func(r *amendmentRow) (*[]byte, *int64, uuid.UUID) { return &r.Sealed, &r.SealedKey, r.ID })
		},
		func() (int, error) {
			return resealTexts(ctx, s, op, practice, limit, "rr", recordRequestsTable, "record request", 2,
				func(r *recordRequestRow) (*[]byte, *int64, uuid.UUID) { return &r.Sealed, &r.SealedKey, r.ID })
		},
		func() (int, error) {
			return resealTexts(ctx, s, op, practice, limit, "di", disclosuresTable, "disclosure", 4,
				func(r *disclosureRow) (*[]byte, *int64, uuid.UUID) { return &r.Sealed, &r.SealedKey, r.ID })
		},
		func() (int, error) {
			return resealTexts(ctx, s, op, practice, limit, "bg", breakGlassTable, "break-glass access", 1,
				func(r *breakGlassRow) (*[]byte, *int64, uuid.UUID) { return &r.Sealed, &r.SealedKey, r.ID })
		},
	}
	total := 0
	for _, pass := range passes {
		n, err := pass()
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// resealTexts is one pass of ResealRights over table, rows R of alias
// whose n texts are sealed together in the column sealed names (with its
// key's ID and the row's ID), what naming a row in errors.
func resealTexts[R any](ctx context.Context, s *EHR, op string, practice tenant.PracticeID, limit int, alias, table, what string, n int,
	sealed func(r *R) (*[]byte, *int64, uuid.UUID)) (int, error) {
	return resealRows(ctx, s.conn, op, practice, limit, alias, nil, func(ctx context.Context, r *R) error {
		data, key, id := sealed(r)
		b := rightsBinding(table, id)
		f, err := s.openFields(ctx, op, practice, b, *data, n)
		if err != nil {
			return err
		}
		if *data, *key, err = s.sealFields(ctx, op, practice, b, f...); err != nil {
			return err
		}
		res, err := s.idb(ctx).NewUpdate().Model(r).Column("sealed", "sealed_key").WherePK().Exec(ctx)
		return affected(op, what, res, err)
	})
}
