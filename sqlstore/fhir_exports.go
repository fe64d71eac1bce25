package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// The FHIR bulk export jobs (ehr.Exports) are kept in fhir_exports, one
// row a job, its resource types and output files as JSON text. Every
// change of state is one conditional UPDATE naming the state (and, for a
// runner, the claim token) it changes from, so that of two runners, or a
// runner and a canceler, exactly one wins. DueExports and ExpiringExports
// scan every practice (the indexes fhir_exports_due and
// fhir_exports_expiring); the rest is filtered by practice.

var _ ehr.Exports = (*EHR)(nil)

type exportRow struct {
	bun.BaseModel `bun:"table:fhir_exports,alias:fx"`

	PracticeID  uuid.UUID  `bun:"practice_id,pk"`
	ID          uuid.UUID  `bun:"id,pk"`
	State       string     `bun:"state"`
	RequestedBy string     `bun:"requested_by"`
	Request     string     `bun:"request"`
	Types       string     `bun:"types"`
	Since       *utcTime   `bun:"since"`
	Restricted  bool       `bun:"restricted"`
	FileURL     string     `bun:"file_url"`
	CreatedAt   utcTime    `bun:"created_at"`
	StartedAt   *utcTime   `bun:"started_at"`
	FinishedAt  *utcTime   `bun:"finished_at"`
	ExpiresAt   *utcTime   `bun:"expires_at"`
	Expired     bool       `bun:"expired"`
	Progress    string     `bun:"progress"`
	Outputs     string     `bun:"outputs"`
	Error       string     `bun:"error"`
	ClaimToken  *uuid.UUID `bun:"claim_token"`
	LeaseUntil  *utcTime   `bun:"lease_until"`
}

// timeOf is the instant of a nullable column.
func timeOf(t *utcTime) *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time()
	return &v
}

// export returns the row's job.
func (r *exportRow) export(op string) (*ehr.Export, error) {
	x := &ehr.Export{ID: r.ID, PracticeID: r.PracticeID, State: ehr.ExportState(r.State), RequestedBy: r.RequestedBy,
		Request: r.Request, Since: timeOf(r.Since), Restricted: r.Restricted, FileURL: r.FileURL, CreatedAt: r.CreatedAt.Time(),
		StartedAt: timeOf(r.StartedAt), FinishedAt: timeOf(r.FinishedAt), ExpiresAt: timeOf(r.ExpiresAt), Expired: r.Expired,
		Progress: r.Progress, Error: r.Error, Claim: r.ClaimToken, LeaseUntil: timeOf(r.LeaseUntil)}
	if err := json.Unmarshal([]byte(r.Types), &x.Types); err != nil {
		return nil, errs.Wrap(errs.KindInternal, op, "the export's types do not decode", err)
	}
	if err := json.Unmarshal([]byte(r.Outputs), &x.Outputs); err != nil {
		return nil, errs.Wrap(errs.KindInternal, op, "the export's outputs do not decode", err)
	}
	return x, nil
}

// jsonText is v as JSON text, never "null" for a nil slice.
func jsonText[T any](v []T) string {
	if v == nil {
		v = []T{}
	}
	b, _ := json.Marshal(v) // strings and plain structs: cannot fail
	return string(b)
}

// CreateExport stores a new export, accepted (ehr.Exports); an ID taken is
// KindConflict, a practice unknown KindNotFound.
func (s *EHR) CreateExport(ctx context.Context, x *ehr.Export) error {
	const op = "sqlstore.CreateExport"
	switch {
	case x == nil:
		return errs.Invalid(op, "export", "is required")
	case x.ID == uuid.Nil || x.PracticeID == uuid.Nil:
		return errs.Invalid(op, "id", "the export and its practice are required")
	case x.State != ehr.ExportAccepted || x.StartedAt != nil || x.FinishedAt != nil || len(x.Outputs) > 0 || x.Claim != nil:
		return errs.Invalid(op, "state", "a new export is accepted, not yet run")
	case x.RequestedBy == "":
		return errs.Invalid(op, "requested_by", "names who asked for the export")
	}
	normalizeTimes(&x.CreatedAt)
	if x.Since != nil {
		normalizeTimes(x.Since)
	}
	row := &exportRow{PracticeID: x.PracticeID, ID: x.ID, State: string(x.State), RequestedBy: x.RequestedBy, Request: x.Request,
		Types: jsonText(x.Types), Since: optTime(x.Since), Restricted: x.Restricted, FileURL: x.FileURL, CreatedAt: utc(x.CreatedAt),
		Outputs: "[]"}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure(op, "export", err)
}

// Export returns export id of practice (ehr.Exports), or KindNotFound.
func (s *EHR) Export(ctx context.Context, practice tenant.PracticeID, id ehr.ExportID) (*ehr.Export, error) {
	const op = "sqlstore.Export"
	var row exportRow
	if err := s.idb(ctx).NewSelect().Model(&row).Where("fx.practice_id = ? AND fx.id = ?", practice, id).Scan(ctx); err != nil {
		return nil, failure(op, "export", err)
	}
	return row.export(op)
}

// claimableExport is the condition of an export a runner may claim; its
// argument is now.
const claimableExport = `(fx.state = 'accepted' OR (fx.state = 'in-progress' AND fx.lease_until < ?))`

// DueExports returns the exports of any practice a runner may claim at
// now, oldest first (ehr.Exports).
func (s *EHR) DueExports(ctx context.Context, now time.Time, limit int) ([]ehr.ExportRef, error) {
	const op = "sqlstore.DueExports"
	var rows []exportRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Column("practice_id", "id").
		Where("fx.state IN ('accepted', 'in-progress')").Where(claimableExport, utc(now)).
		OrderExpr("fx.created_at, fx.id").Limit(int64(max(limit, 1))).Scan(ctx); err != nil {
		return nil, failure(op, "export", err)
	}
	out := make([]ehr.ExportRef, len(rows))
	for i, r := range rows {
		out[i] = ehr.ExportRef{PracticeID: r.PracticeID, ID: r.ID}
	}
	return out, nil
}

// won reports whether a conditional update changed a row; when it did
// not, it tells KindConflict (the row is there in another state) from
// KindNotFound.
func (s *EHR) won(ctx context.Context, op string, res interface{ RowsAffected() (int64, error) }, err error, practice, id uuid.UUID, why string) error {
	if err != nil {
		return failure(op, "export", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return failure(op, "export", err)
	}
	if n == 1 {
		return nil
	}
	exists, err := s.idb(ctx).NewSelect().Model((*exportRow)(nil)).Where("fx.practice_id = ? AND fx.id = ?", practice, id).Exists(ctx)
	switch {
	case err != nil:
		return failure(op, "export", err)
	case !exists:
		return errs.NotFound(op, "export")
	}
	return errs.Conflict(op, why)
}

// ClaimExport takes export id for token until leaseUntil if it is
// claimable at now (ehr.Exports): one conditional UPDATE.
func (s *EHR) ClaimExport(ctx context.Context, practice tenant.PracticeID, id ehr.ExportID, token uuid.UUID, now, leaseUntil time.Time) (*ehr.Export, error) {
	const op = "sqlstore.ClaimExport"
	res, err := s.idb(ctx).NewUpdate().Model((*exportRow)(nil)).
		Set("state = 'in-progress'").Set("claim_token = ?", token).Set("lease_until = ?", utc(leaseUntil)).
		Set("started_at = ?", utc(now)).Set("progress = ''").
		Where("fx.practice_id = ? AND fx.id = ?", practice, id).Where(claimableExport, utc(now)).Exec(ctx)
	if err := s.won(ctx, op, res, err, practice, id, "the export is not there to claim: another runner holds it, or it has ended"); err != nil {
		return nil, err
	}
	return s.Export(ctx, practice, id)
}

// ProgressExport records progress and extends token's lease
// (ehr.Exports).
func (s *EHR) ProgressExport(ctx context.Context, practice tenant.PracticeID, id ehr.ExportID, token uuid.UUID, progress string, leaseUntil time.Time) error {
	const op = "sqlstore.ProgressExport"
	res, err := s.idb(ctx).NewUpdate().Model((*exportRow)(nil)).
		Set("progress = ?", progress).Set("lease_until = ?", utc(leaseUntil)).
		Where("fx.practice_id = ? AND fx.id = ? AND fx.state = 'in-progress' AND fx.claim_token = ?", practice, id, token).Exec(ctx)
	return s.won(ctx, op, res, err, practice, id, "the export is no longer this runner's: it was canceled, or its lease taken over")
}

// FinishExport writes the end of token's run (ehr.Exports).
func (s *EHR) FinishExport(ctx context.Context, x *ehr.Export, token uuid.UUID) error {
	const op = "sqlstore.FinishExport"
	switch {
	case x == nil:
		return errs.Invalid(op, "export", "is required")
	case x.State != ehr.ExportComplete && x.State != ehr.ExportFailed:
		return errs.Invalid(op, "state", "a run ends complete or failed")
	case x.FinishedAt == nil:
		return errs.Invalid(op, "finished_at", "is required")
	}
	normalizeTimes(x.FinishedAt)
	if x.ExpiresAt != nil {
		normalizeTimes(x.ExpiresAt)
	}
	res, err := s.idb(ctx).NewUpdate().Model((*exportRow)(nil)).
		Set("state = ?", string(x.State)).Set("finished_at = ?", utc(*x.FinishedAt)).Set("expires_at = ?", optTime(x.ExpiresAt)).
		Set("outputs = ?", jsonText(x.Outputs)).Set("error = ?", x.Error).Set("progress = ?", x.Progress).
		Set("claim_token = NULL").Set("lease_until = NULL").
		Where("fx.practice_id = ? AND fx.id = ? AND fx.state = 'in-progress' AND fx.claim_token = ?", x.PracticeID, x.ID, token).Exec(ctx)
	return s.won(ctx, op, res, err, x.PracticeID, x.ID, "the export is no longer this runner's: it was canceled, or its lease taken over")
}

// CancelExport marks export id canceled at now and returns it as it was
// (ehr.Exports): a read, then an update conditional on the state read.
func (s *EHR) CancelExport(ctx context.Context, practice tenant.PracticeID, id ehr.ExportID, now time.Time) (*ehr.Export, error) {
	const op = "sqlstore.CancelExport"
	x, err := s.Export(ctx, practice, id)
	if err != nil {
		return nil, err
	}
	if x.State == ehr.ExportFailed || x.State == ehr.ExportCanceled {
		return nil, errs.Conflict(op, "the export has "+string(x.State)+" already")
	}
	fin := utc(now)
	if x.FinishedAt != nil {
		fin = utc(*x.FinishedAt)
	}
	res, err := s.idb(ctx).NewUpdate().Model((*exportRow)(nil)).
		Set("state = 'canceled'").Set("finished_at = ?", fin).Set("claim_token = NULL").Set("lease_until = NULL").
		Where("fx.practice_id = ? AND fx.id = ? AND fx.state = ?", practice, id, string(x.State)).Exec(ctx)
	if err := s.won(ctx, op, res, err, practice, id, "the export changed meanwhile: ask for its status again"); err != nil {
		return nil, err
	}
	return x, nil
}

// ExpiringExports returns the complete exports of any practice whose files
// are due to expire at now, soonest first (ehr.Exports).
func (s *EHR) ExpiringExports(ctx context.Context, now time.Time, limit int) ([]*ehr.Export, error) {
	const op = "sqlstore.ExpiringExports"
	var rows []exportRow
	if err := s.idb(ctx).NewSelect().Model(&rows).
		Where("fx.state = 'complete' AND fx.expired = ? AND fx.expires_at <= ?", false, utc(now)).
		OrderExpr("fx.expires_at, fx.id").Limit(int64(max(limit, 1))).Scan(ctx); err != nil {
		return nil, failure(op, "export", err)
	}
	out := make([]*ehr.Export, 0, len(rows))
	for i := range rows {
		x, err := rows[i].export(op)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// ExpireExport marks a complete export's files expired (ehr.Exports).
func (s *EHR) ExpireExport(ctx context.Context, practice tenant.PracticeID, id ehr.ExportID) error {
	const op = "sqlstore.ExpireExport"
	res, err := s.idb(ctx).NewUpdate().Model((*exportRow)(nil)).Set("expired = ?", true).
		Where("fx.practice_id = ? AND fx.id = ? AND fx.state = 'complete' AND fx.expired = ?", practice, id, false).Exec(ctx)
	return s.won(ctx, op, res, err, practice, id, "the export's files are not there to expire")
}
