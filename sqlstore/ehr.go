package sqlstore

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// The chart is kept in two tables: ehr_versions, every version of every
// entry, append-only in the database itself (triggers refuse UPDATE and
// DELETE, but for re-encryption, which rewrites sealed and sealed_key
// alone), and ehr_entries, each entry's current version for the chart's
// lists. A version's body is its JSON, sealed in ehr_versions.sealed,
// bound to the practice, the table, the column and the row
// (entry_id/version): a ciphertext moved to another row does not open.
// Kind, status, restricted, the encounter, the authors and the times stay
// in clear, for the chart's filters; no clinical text does.

const (
	ehrVersionsTable  = "ehr_versions"
	ehrSealedColumn   = "sealed"
	ehrEnteredInError = string(ehr.EnteredInError)
)

// ehrBinding is where version v of entry id seals its body.
func ehrBinding(id uuid.UUID, v int) keys.Binding {
	return keys.Binding{Table: ehrVersionsTable, Column: ehrSealedColumn, Row: id.String() + "/" + strconv.Itoa(v)}
}

type ehrVersionRow struct {
	bun.BaseModel `bun:"table:ehr_versions,alias:ev"`

	PracticeID  uuid.UUID  `bun:"practice_id,pk"`
	PatientID   uuid.UUID  `bun:"patient_id,pk"`
	Seq         int64      `bun:"seq,pk"`
	EntryID     uuid.UUID  `bun:"entry_id"`
	Version     int        `bun:"version"`
	Kind        string     `bun:"kind"`
	Status      string     `bun:"status"`
	Restricted  bool       `bun:"restricted"`
	EncounterID *uuid.UUID `bun:"encounter_id"`
	AuthorID    string     `bun:"author_id"`
	SignedBy    string     `bun:"signed_by"`
	SignedAt    *utcTime   `bun:"signed_at"`
	RecordedAt  utcTime    `bun:"recorded_at"`
	Sealed      []byte     `bun:"sealed"`
	SealedKey   int64      `bun:"sealed_key"`
	PrevHash    string     `bun:"prev_hash"`
	Hash        string     `bun:"hash"`
}

type ehrEntryRow struct {
	bun.BaseModel `bun:"table:ehr_entries,alias:ee"`

	PracticeID      uuid.UUID  `bun:"practice_id,pk"`
	ID              uuid.UUID  `bun:"id,pk"`
	PatientID       uuid.UUID  `bun:"patient_id"`
	Kind            string     `bun:"kind"`
	EncounterID     *uuid.UUID `bun:"encounter_id"`
	Version         int        `bun:"version"`
	Status          string     `bun:"status"`
	Restricted      bool       `bun:"restricted"`
	FirstRecordedAt utcTime    `bun:"first_recorded_at"`
	RecordedAt      utcTime    `bun:"recorded_at"`
}

// currentJoin joins each entry's current version.
const currentJoin = "JOIN ehr_entries AS ee ON ee.practice_id = ev.practice_id AND ee.id = ev.entry_id AND ee.version = ev.version"

// entry returns the row's version, its body opened. A body that does not
// open, or does not decode, is KindConflict.
func (r *ehrVersionRow) entry(ctx context.Context, c *conn, op string) (*ehr.Entry, error) {
	f, err := c.openFields(ctx, op, r.PracticeID, ehrBinding(r.EntryID, r.Version), r.Sealed, 1)
	if err != nil {
		return nil, err
	}
	body, err := ehr.DecodeBody(ehr.Kind(r.Kind), []byte(f[0]))
	if err != nil {
		return nil, errs.Wrap(errs.KindConflict, op, "the body of "+ehrBinding(r.EntryID, r.Version).String()+" does not decode", err)
	}
	e := &ehr.Entry{
		ID:          r.EntryID,
		PracticeID:  r.PracticeID,
		PatientID:   r.PatientID,
		EncounterID: r.EncounterID,
		Kind:        ehr.Kind(r.Kind),
		Version:     r.Version,
		Status:      ehr.Status(r.Status),
		Restricted:  r.Restricted,
		Body:        body,
		AuthorID:    r.AuthorID,
		SignedBy:    r.SignedBy,
		RecordedAt:  r.RecordedAt.Time(),
		Seq:         r.Seq,
		PrevHash:    r.PrevHash,
		Hash:        r.Hash,
	}
	if r.SignedAt != nil {
		t := r.SignedAt.Time()
		e.SignedAt = &t
	}
	return e, nil
}

// entries returns the rows' versions, their bodies opened.
func entries(ctx context.Context, c *conn, op string, rows []ehrVersionRow) ([]*ehr.Entry, error) {
	out := make([]*ehr.Entry, 0, len(rows))
	for i := range rows {
		e, err := rows[i].entry(ctx, c, op)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Append writes next as the new version of its entry (ehr.Store): in one
// transaction it locks the patient's chart (so that the patient's
// versions are appended one at a time), reads the entry's current version
// and its encounter's, checks next with ehr.CheckWrite at now, links it
// after the chart's last version (ehr.Link: next's Seq, PrevHash and Hash
// are set) and inserts it, its body sealed. next's RecordedAt and SignedAt
// are set to what is stored: UTC, to the microsecond. A patient who is not
// the practice's is KindNotFound.
func (s *EHR) Append(ctx context.Context, next *ehr.Entry, now time.Time) error {
	const op = "sqlstore.AppendEHR"
	switch {
	case next == nil:
		return errs.Invalid(op, "entry", "is required")
	case next.ID == uuid.Nil:
		return errs.Invalid(op, "id", "is required")
	case next.PracticeID == uuid.Nil:
		return errs.Invalid(op, "practice_id", "is required")
	case next.PatientID == uuid.Nil:
		return errs.Invalid(op, "patient_id", "is required")
	case next.RecordedAt.IsZero():
		return errs.Invalid(op, "recorded_at", "is required")
	}
	next.RecordedAt = utc(next.RecordedAt).Time()
	if next.SignedAt != nil {
		t := utc(*next.SignedAt).Time()
		next.SignedAt = &t
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.Lock(ctx, next.PatientID); err != nil {
			return err
		}
		prev, err := s.current(ctx, op, next.PracticeID, next.ID)
		if err != nil {
			return err
		}
		var enc *ehr.Entry
		if next.EncounterID != nil {
			if enc, err = s.current(ctx, op, next.PracticeID, *next.EncounterID); err != nil {
				return err
			}
		}
		if err := ehr.CheckWrite(prev, next, enc, now); err != nil {
			return err
		}
		if n, ok := next.Body.(*ehr.Note); ok && n.AddendumTo != nil {
			target, err := s.current(ctx, op, next.PracticeID, *n.AddendumTo)
			if err != nil {
				return err
			}
			if err := ehr.CheckAddendum(next, target); err != nil {
				return err
			}
		}
		var last []ehrVersionRow
		if err := s.idb(ctx).NewSelect().Model(&last).Column("seq", "hash").
			Where("ev.practice_id = ? AND ev.patient_id = ?", next.PracticeID, next.PatientID).
			OrderExpr("ev.seq DESC").Limit(1).Scan(ctx); err != nil {
			return failure(op, "chart", err)
		}
		var lastEntry *ehr.Entry
		if len(last) == 1 {
			lastEntry = &ehr.Entry{Seq: last[0].Seq, Hash: last[0].Hash}
		}
		if err := ehr.Link(next, lastEntry); err != nil {
			return errs.Wrap(errs.KindInternal, op, "cannot hash the version", err)
		}
		body, err := json.Marshal(next.Body)
		if err != nil {
			return errs.Wrap(errs.KindInternal, op, "cannot encode the body", err)
		}
		row := &ehrVersionRow{PracticeID: next.PracticeID, PatientID: next.PatientID, Seq: next.Seq, EntryID: next.ID,
			Version: next.Version, Kind: string(next.Kind), Status: string(next.Status), Restricted: next.Restricted,
			EncounterID: next.EncounterID, AuthorID: next.AuthorID, SignedBy: next.SignedBy, RecordedAt: utc(next.RecordedAt),
			PrevHash: next.PrevHash, Hash: next.Hash}
		if next.SignedAt != nil {
			t := utc(*next.SignedAt)
			row.SignedAt = &t
		}
		if row.Sealed, row.SealedKey, err = s.sealFields(ctx, op, next.PracticeID, ehrBinding(next.ID, next.Version), string(body)); err != nil {
			return err
		}
		if _, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx); err != nil {
			return failure(op, "chart entry", err)
		}
		cur := &ehrEntryRow{PracticeID: next.PracticeID, ID: next.ID, PatientID: next.PatientID, Kind: string(next.Kind),
			EncounterID: next.EncounterID, Version: next.Version, Status: string(next.Status), Restricted: next.Restricted,
			FirstRecordedAt: utc(next.RecordedAt), RecordedAt: utc(next.RecordedAt)}
		if prev == nil {
			_, err = s.idb(ctx).NewInsert().Model(cur).Exec(ctx)
			return failure(op, "chart entry", err)
		}
		res, err := s.idb(ctx).NewUpdate().Model(cur).Column("version", "status", "restricted", "recorded_at").
			WherePK().Exec(ctx)
		return affected(op, "chart entry", res, err)
	})
}

// current returns the current version of entry id of practice, or nil if
// there is none: its last in ehr_versions, which no one changes, rather
// than the one ehr_entries names, so that what Append checks a write
// against cannot be changed behind the store's back.
func (s *EHR) current(ctx context.Context, op string, practice tenant.PracticeID, id ehr.EntryID) (*ehr.Entry, error) {
	var rows []ehrVersionRow
	if err := s.idb(ctx).NewSelect().Model(&rows).
		Where("ev.practice_id = ? AND ev.entry_id = ?", practice, id).OrderExpr("ev.version DESC").Limit(1).Scan(ctx); err != nil {
		return nil, failure(op, "chart entry", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0].entry(ctx, s.conn, op)
}

// Current returns the current version of entry id (ehr.Store), or
// KindNotFound; KindConflict if its body does not open.
func (s *EHR) Current(ctx context.Context, practice tenant.PracticeID, id ehr.EntryID) (*ehr.Entry, error) {
	const op = "sqlstore.CurrentEHR"
	e, err := s.current(ctx, op, practice, id)
	if err == nil && e == nil {
		err = errs.NotFound(op, "chart entry")
	}
	return e, err
}

// History returns every version of entry id, oldest first (ehr.Store), or
// KindNotFound.
func (s *EHR) History(ctx context.Context, practice tenant.PracticeID, id ehr.EntryID) ([]*ehr.Entry, error) {
	const op = "sqlstore.EHRHistory"
	var rows []ehrVersionRow
	if err := s.idb(ctx).NewSelect().Model(&rows).
		Where("ev.practice_id = ? AND ev.entry_id = ?", practice, id).OrderExpr("ev.version").Scan(ctx); err != nil {
		return nil, failure(op, "chart entry", err)
	}
	if len(rows) == 0 {
		return nil, errs.NotFound(op, "chart entry")
	}
	return entries(ctx, s.conn, op, rows)
}

// Chart returns the current versions of the patient's entries that pass f,
// newest first by the RecordedAt of each entry's first version, then by ID
// (ehr.Store). f.Before and f.BeforeID compare with that first RecordedAt.
// ehr_entries gives the order and the current version of each entry; the
// filters apply to the version itself.
// A negative Limit, or BeforeID without Before, is KindInvalid.
func (s *EHR) Chart(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, f ehr.ChartFilter) ([]*ehr.Entry, error) {
	const op = "sqlstore.EHRChart"
	switch {
	case f.Limit < 0:
		return nil, errs.Invalid(op, "limit", "must not be negative")
	case f.BeforeID != nil && f.Before == nil:
		return nil, errs.Invalid(op, "before_id", "breaks ties of before, which is missing")
	}
	var rows []ehrVersionRow
	// ev.patient_id repeats what the join implies (a version and its
	// entry name the same patient), so that the versions are read by their
	// primary key, the patient's alone, whatever plan the join takes.
	q := s.idb(ctx).NewSelect().Model(&rows).Join(currentJoin).
		Where("ee.practice_id = ? AND ee.patient_id = ? AND ev.patient_id = ?", practice, patient, patient)
	if len(f.Kinds) > 0 {
		kinds := make([]string, len(f.Kinds))
		for i, k := range f.Kinds {
			kinds[i] = string(k)
		}
		q = q.Where("ev.kind IN (?)", bun.List(kinds))
	}
	if f.EncounterID != nil {
		q = q.Where("ev.encounter_id = ?", *f.EncounterID)
	}
	if !f.WithErrors {
		q = q.Where("ev.status <> ?", ehrEnteredInError)
	}
	if f.Before != nil {
		before := utc(*f.Before)
		if f.BeforeID != nil {
			q = q.Where("(ee.first_recorded_at < ? OR (ee.first_recorded_at = ? AND ee.id < ?))", before, before, *f.BeforeID)
		} else {
			q = q.Where("ee.first_recorded_at < ?", before)
		}
	}
	q = q.OrderExpr("ee.first_recorded_at DESC, ee.id DESC")
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure(op, "chart", err)
	}
	return entries(ctx, s.conn, op, rows)
}

// Versions returns up to limit versions of the patient's chart with Seq
// greater than afterSeq, in Seq order (ehr.Store). A limit that is not
// positive is KindInvalid.
func (s *EHR) Versions(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, afterSeq int64, limit int) ([]*ehr.Entry, error) {
	const op = "sqlstore.EHRVersions"
	if limit <= 0 {
		return nil, errs.Invalid(op, "limit", "must be positive")
	}
	var rows []ehrVersionRow
	if err := s.idb(ctx).NewSelect().Model(&rows).
		Where("ev.practice_id = ? AND ev.patient_id = ? AND ev.seq > ?", practice, patient, afterSeq).
		OrderExpr("ev.seq").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, failure(op, "chart", err)
	}
	return entries(ctx, s.conn, op, rows)
}

// ResealVersions seals again, with practice's primary key, up to limit of
// its chart's versions whose body an older key sealed (after
// keys.Service.Rotate), and returns how many it rewrote: 0 when none is
// left (see resealRows). It rewrites sealed and sealed_key alone, the one
// change ehr_versions' triggers allow; the body, and so the hash chain,
// stays as it was.
func (s *EHR) ResealVersions(ctx context.Context, practice tenant.PracticeID, limit int) (int, error) {
	const op = "sqlstore.ResealEHRVersions"
	return resealRowsBy(ctx, s.conn, op, practice, limit, "ev", "ev.patient_id, ev.seq", nil,
		func(ctx context.Context, r *ehrVersionRow) error {
			b := ehrBinding(r.EntryID, r.Version)
			f, err := s.openFields(ctx, op, r.PracticeID, b, r.Sealed, 1)
			if err != nil {
				return err
			}
			if r.Sealed, r.SealedKey, err = s.sealFields(ctx, op, r.PracticeID, b, f[0]); err != nil {
				return err
			}
			res, err := s.idb(ctx).NewUpdate().Model(r).Column("sealed", "sealed_key").WherePK().Exec(ctx)
			return affected(op, "chart entry", res, err)
		})
}
