package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

type auditEntryRow struct {
	bun.BaseModel `bun:"table:audit_entries,alias:ae"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	Seq        int64     `bun:"seq,pk"`
	auditFields
	PrevHash string `bun:"prev_hash"`
	Hash     string `bun:"hash"`
}

// auditFields are the columns of an entry before it is sealed, which
// audit_entries and audit_pending share (the ID is audit_pending's key
// with the practice; its migration says so).
type auditFields struct {
	ID           uuid.UUID  `bun:"id"`
	At           utcTime    `bun:"at"`
	Actor        string     `bun:"actor"`
	Role         string     `bun:"role"`
	Action       string     `bun:"action"`
	ResourceType string     `bun:"resource_type"`
	ResourceID   string     `bun:"resource_id"`
	PatientID    *uuid.UUID `bun:"patient_id"`
	Outcome      string     `bun:"outcome"`
	IP           string     `bun:"ip"`
	UserAgent    string     `bun:"user_agent"`
	RequestID    string     `bun:"request_id"`
}

// auditFieldsOf are e's unsealed columns.
func auditFieldsOf(e *audit.Entry) auditFields {
	return auditFields{ID: e.ID, At: utc(e.At), Actor: e.Actor, Role: e.Role, Action: e.Action, ResourceType: e.ResourceType,
		ResourceID: e.ResourceID, PatientID: e.PatientID, Outcome: string(e.Outcome), IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID}
}

func (r *auditEntryRow) entry() *audit.Entry {
	return &audit.Entry{
		ID:           r.ID,
		PracticeID:   r.PracticeID,
		Seq:          r.Seq,
		At:           r.At.Time(),
		Actor:        r.Actor,
		Role:         r.Role,
		Action:       r.Action,
		ResourceType: r.ResourceType,
		ResourceID:   r.ResourceID,
		PatientID:    r.PatientID,
		Outcome:      audit.Outcome(r.Outcome),
		IP:           r.IP,
		UserAgent:    r.UserAgent,
		RequestID:    r.RequestID,
		PrevHash:     r.PrevHash,
		Hash:         r.Hash,
	}
}

type auditHeadRow struct {
	bun.BaseModel `bun:"table:audit_heads,alias:ah"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	Seq        int64     `bun:"seq"`
	Hash       string    `bun:"hash"`
	At         utcTime   `bun:"at"`
}

type auditExportRow struct {
	bun.BaseModel `bun:"table:audit_exports,alias:ax"`

	PracticeID      uuid.UUID `bun:"practice_id,pk"`
	Period          utcTime   `bun:"period,pk"`
	ClaimedAt       utcTime   `bun:"claimed_at"`
	DoneAt          *utcTime  `bun:"done_at"`
	File            string    `bun:"file"`
	ManifestFile    string    `bun:"manifest_file"`
	FirstSeq        int64     `bun:"first_seq"`
	LastSeq         int64     `bun:"last_seq"`
	Count           int64     `bun:"count"`
	FileSHA256      string    `bun:"file_sha256"`
	LinesSHA256     string    `bun:"lines_sha256"`
	ExporterVersion string    `bun:"exporter_version"`
}

func (r *auditExportRow) export() *audit.Export {
	return &audit.Export{
		PracticeID:      r.PracticeID,
		Period:          r.Period.Time(),
		ClaimedAt:       r.ClaimedAt.Time(),
		DoneAt:          r.DoneAt.timePtr(),
		File:            r.File,
		ManifestFile:    r.ManifestFile,
		FirstSeq:        r.FirstSeq,
		LastSeq:         r.LastSeq,
		Count:           r.Count,
		FileSHA256:      r.FileSHA256,
		LinesSHA256:     r.LinesSHA256,
		ExporterVersion: r.ExporterVersion,
	}
}

// Append adds e at the end of its practice's chain (see audit.Store).
//
// On PostgreSQL the database seals e when the transaction commits: e waits
// in audit_pending, whose deferred trigger, at commit, locks the practice's
// row in audit_heads FOR UPDATE, links e to the chain with the rules of
// audit.Entry.Seal (carebook_audit_hash computing its Hash), stores it and
// moves the head. The head is so locked only for the commit itself, with no
// round trip to the application under the lock, and appends of one
// practice still take turns. Appended inside the caller's transaction, e
// keeps Seq 0 and no hashes (they exist once the transaction commits);
// appended on its own, e is sealed at once and read back.
//
// On SQLite e is sealed here: the IMMEDIATE transaction already holds the
// database's one write lock.
func (s *Audit) Append(ctx context.Context, e *audit.Entry) error {
	const op = "sqlstore.Append"
	if s.dialect == Postgres {
		return s.appendPending(ctx, e)
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		head, err := s.lockAuditHead(ctx, e.PracticeID)
		if err != nil {
			return failure(op, "practice", err)
		}
		e.Seal(head.Seq+1, head.Hash, head.At.Time())
		row := &auditEntryRow{PracticeID: e.PracticeID, Seq: e.Seq, auditFields: auditFieldsOf(e), PrevHash: e.PrevHash, Hash: e.Hash}
		db := s.idb(ctx)
		stmts := db.NewInsert().Model(row).String() + ";\n" +
			db.NewUpdate().Table("audit_heads").
				Set("seq = ?", e.Seq).Set("hash = ?", e.Hash).Set("at = ?", utc(e.At)).
				Where("practice_id = ?", e.PracticeID).String()
		_, err = db.ExecContext(ctx, stmts)
		return failure(op, "audit entry", err)
	})
}

// auditPendingRow is an entry waiting in audit_pending for its
// transaction's commit, which seals it (see Append).
type auditPendingRow struct {
	bun.BaseModel `bun:"table:audit_pending,alias:ap"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	auditFields
}

// appendPending writes e to audit_pending, to be sealed at commit (see
// Append). Without a transaction in ctx the INSERT commits on its own, and
// e is read back sealed.
func (s *Audit) appendPending(ctx context.Context, e *audit.Entry) error {
	const op = "sqlstore.Append"
	e.At = e.At.UTC().Truncate(time.Microsecond)
	row := &auditPendingRow{PracticeID: e.PracticeID, auditFields: auditFieldsOf(e)}
	db := s.idb(ctx)
	if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
		return failure(op, "audit entry", err)
	}
	if s.HasTx(ctx) {
		return nil
	}
	var sealed auditEntryRow
	err := db.NewSelect().Model(&sealed).Where("ae.practice_id = ?", e.PracticeID).Where("ae.id = ?", e.ID).Scan(ctx)
	if err != nil {
		return failure(op, "audit entry", err)
	}
	*e = *sealed.entry()
	return nil
}

// lockAuditHead makes sure practice has a head row and returns it, locked
// until the transaction ends on PostgreSQL.
// The row is made on the practice's first entry; later appends find it
// with one statement.
func (s *Audit) lockAuditHead(ctx context.Context, practice tenant.PracticeID) (*auditHeadRow, error) {
	read := func() (*auditHeadRow, error) {
		var head auditHeadRow
		q := s.idb(ctx).NewSelect().Model(&head).Where("ah.practice_id = ?", practice)
		if s.dialect == Postgres {
			q = q.For("UPDATE")
		}
		return &head, q.Scan(ctx)
	}
	head, err := read()
	if !errors.Is(err, sql.ErrNoRows) {
		return head, err
	}
	empty := &auditHeadRow{PracticeID: practice, Hash: audit.ZeroHash, At: utc(time.Time{})}
	if _, err := s.idb(ctx).NewInsert().Model(empty).On("CONFLICT (practice_id) DO NOTHING").Exec(ctx); err != nil {
		return nil, err
	}
	return read()
}

// Head returns the end of practice's chain (see audit.Store).
func (s *Audit) Head(ctx context.Context, practice tenant.PracticeID) (audit.Head, error) {
	var row auditHeadRow
	err := s.idb(ctx).NewSelect().Model(&row).Where("ah.practice_id = ?", practice).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return audit.Head{Hash: audit.ZeroHash}, nil
	case err != nil:
		return audit.Head{}, failure("sqlstore.Head", "audit head", err)
	case row.Seq == 0:
		return audit.Head{Hash: audit.ZeroHash}, nil
	}
	return audit.Head{Seq: row.Seq, Hash: row.Hash, At: row.At.Time()}, nil
}

// Query returns the entries of practice that match f, by Seq.
func (s *Audit) Query(ctx context.Context, practice tenant.PracticeID, f audit.Filter) ([]*audit.Entry, error) {
	rows := []auditEntryRow{}
	q := s.idb(ctx).NewSelect().Model(&rows).Where("ae.practice_id = ?", practice)
	if f.Actor != "" {
		q = q.Where("ae.actor = ?", f.Actor)
	}
	if f.PatientID != nil {
		q = q.Where("ae.patient_id = ?", *f.PatientID)
	}
	if f.Action != "" {
		q = q.Where("ae.action = ?", f.Action)
	}
	if f.Outcome != "" {
		q = q.Where("ae.outcome = ?", string(f.Outcome))
	}
	if !f.From.IsZero() {
		q = q.Where("ae.at >= ?", utc(f.From))
	}
	if !f.To.IsZero() {
		q = q.Where("ae.at < ?", utc(f.To))
	}
	if f.AfterSeq > 0 {
		q = q.Where("ae.seq > ?", f.AfterSeq)
	}
	q = q.OrderExpr("ae.seq")
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure("sqlstore.Query", "audit entry", err)
	}
	out := make([]*audit.Entry, len(rows))
	for i := range rows {
		out[i] = rows[i].entry()
	}
	return out, nil
}

// ExportPractices returns the practices with entries, by ID, after the
// cursor (see audit.Store).
func (s *Audit) ExportPractices(ctx context.Context, after tenant.PracticeID, limit int) ([]tenant.PracticeID, error) {
	out := []tenant.PracticeID{}
	q := s.idb(ctx).NewSelect().Model((*auditHeadRow)(nil)).Column("ah.practice_id").
		Where("ah.seq > 0").OrderExpr("ah.practice_id")
	if after != uuid.Nil {
		q = q.Where("ah.practice_id > ?", after)
	}
	if limit > 0 {
		q = q.Limit(int64(limit))
	}
	if err := q.Scan(ctx, &out); err != nil {
		return nil, failure("sqlstore.ExportPractices", "practice", err)
	}
	return out, nil
}

// ClaimExport claims practice's period with one INSERT ... ON CONFLICT DO
// UPDATE that only takes over a stale, unfinished claim (see audit.Store).
func (s *Audit) ClaimExport(ctx context.Context, practice tenant.PracticeID, period, claimedAt, staleBefore time.Time) (bool, error) {
	const op = "sqlstore.ClaimExport"
	res, err := s.idb(ctx).ExecContext(ctx, `INSERT INTO audit_exports (practice_id, period, claimed_at) VALUES (?, ?, ?)
ON CONFLICT (practice_id, period) DO UPDATE SET claimed_at = excluded.claimed_at
WHERE audit_exports.done_at IS NULL AND audit_exports.claimed_at < ?`,
		practice, utc(period), utc(claimedAt), utc(staleBefore))
	if err != nil {
		return false, failure(op, "audit export", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, failure(op, "audit export", err)
	}
	return n == 1, nil
}

// CompleteExport records x as done (see audit.Store).
func (s *Audit) CompleteExport(ctx context.Context, x *audit.Export) error {
	const op = "sqlstore.CompleteExport"
	if x.DoneAt == nil {
		return errs.E(errs.KindInternal, op, "CompleteExport without DoneAt")
	}
	res, err := s.idb(ctx).NewUpdate().Table("audit_exports").
		Set("done_at = ?", utc(*x.DoneAt)).
		Set("file = ?", x.File).
		Set("manifest_file = ?", x.ManifestFile).
		Set("first_seq = ?", x.FirstSeq).
		Set("last_seq = ?", x.LastSeq).
		Set("count = ?", x.Count).
		Set("file_sha256 = ?", x.FileSHA256).
		Set("lines_sha256 = ?", x.LinesSHA256).
		Set("exporter_version = ?", x.ExporterVersion).
		Where("practice_id = ? AND period = ? AND done_at IS NULL", x.PracticeID, utc(x.Period)).
		Exec(ctx)
	if err != nil {
		return failure(op, "audit export", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return failure(op, "audit export", err)
	} else if n == 1 {
		return nil
	}
	if _, err := s.GetExport(ctx, x.PracticeID, x.Period); err != nil {
		return err
	}
	return errs.Conflict(op, "the period is already exported")
}

// GetExport returns the export of practice's period, or KindNotFound.
func (s *Audit) GetExport(ctx context.Context, practice tenant.PracticeID, period time.Time) (*audit.Export, error) {
	var row auditExportRow
	if err := s.idb(ctx).NewSelect().Model(&row).
		Where("ax.practice_id = ? AND ax.period = ?", practice, utc(period)).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetExport", "audit export", err)
	}
	return row.export(), nil
}

// LastExport returns practice's done export with the latest period, or
// KindNotFound.
func (s *Audit) LastExport(ctx context.Context, practice tenant.PracticeID) (*audit.Export, error) {
	var row auditExportRow
	if err := s.idb(ctx).NewSelect().Model(&row).
		Where("ax.practice_id = ? AND ax.done_at IS NOT NULL", practice).
		OrderExpr("ax.period DESC").Limit(1).Scan(ctx); err != nil {
		return nil, failure("sqlstore.LastExport", "audit export", err)
	}
	return row.export(), nil
}
