package sqlstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// purposeShredded is the purpose of a shredded practice's mark.
const purposeShredded = "shredded"

type keysetRow struct {
	bun.BaseModel `bun:"table:keysets,alias:ks"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	Purpose    string    `bun:"purpose,pk"`
	MasterID   string    `bun:"master_id"`
	Keyset     []byte    `bun:"keyset,type:bytea"`
	Version    int64     `bun:"version"`
}

func (r *keysetRow) wrapped() *keys.Wrapped {
	return &keys.Wrapped{Practice: r.PracticeID, Purpose: keys.Purpose(r.Purpose), MasterID: r.MasterID, Keyset: r.Keyset, Version: r.Version}
}

// CreateKeysets stores a practice's new keysets, or fails with KindConflict
// if it has keysets or was shredded.
func (s *Keys) CreateKeysets(ctx context.Context, ws []*keys.Wrapped) error {
	const op = "sqlstore.CreateKeysets"
	if len(ws) == 0 {
		return nil
	}
	practice := ws[0].Practice
	rows := make([]keysetRow, len(ws))
	for i, w := range ws {
		if w.Practice != practice {
			return errs.Invalid(op, "practice", "the keysets created together belong to one practice")
		}
		rows[i] = keysetRow{PracticeID: w.Practice, Purpose: string(w.Purpose), MasterID: w.MasterID, Keyset: w.Keyset, Version: 1}
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.Lock(ctx, practice); err != nil {
			return err
		}
		n, err := s.idb(ctx).NewSelect().Model((*keysetRow)(nil)).Where("ks.practice_id = ?", practice).Count(ctx)
		if err != nil {
			return failure(op, "keyset", err)
		}
		if n > 0 {
			return errs.Conflict(op, "practice "+practice.String()+" already has keys, or had them shredded")
		}
		if _, err := s.idb(ctx).NewInsert().Model(&rows).Exec(ctx); err != nil {
			return failure(op, "keyset", err)
		}
		for _, w := range ws {
			w.Version = 1
		}
		return nil
	})
}

// AddKeyset stores one more keyset of a practice that has keysets.
func (s *Keys) AddKeyset(ctx context.Context, w *keys.Wrapped) error {
	const op = "sqlstore.AddKeyset"
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.Lock(ctx, w.Practice); err != nil {
			return err
		}
		var purposes []string
		if err := s.idb(ctx).NewSelect().Model((*keysetRow)(nil)).Column("purpose").
			Where("ks.practice_id = ?", w.Practice).Scan(ctx, &purposes); err != nil {
			return failure(op, "keyset", err)
		}
		switch {
		case len(purposes) == 0:
			return errs.NotFound(op, "the keys of practice "+w.Practice.String())
		case slices.Contains(purposes, purposeShredded):
			return errs.Conflict(op, "the keys of practice "+w.Practice.String()+" were shredded")
		case slices.Contains(purposes, string(w.Purpose)):
			return errs.Conflict(op, "practice "+w.Practice.String()+" already has a "+string(w.Purpose)+" keyset")
		}
		row := keysetRow{PracticeID: w.Practice, Purpose: string(w.Purpose), MasterID: w.MasterID, Keyset: w.Keyset, Version: 1}
		if _, err := s.idb(ctx).NewInsert().Model(&row).Exec(ctx); err != nil {
			return failure(op, "keyset", err)
		}
		w.Version = 1
		return nil
	})
}

// Keysets returns the practice's keysets by purpose, or shredded true.
func (s *Keys) Keysets(ctx context.Context, practice uuid.UUID) ([]*keys.Wrapped, bool, error) {
	const op = "sqlstore.Keysets"
	var rows []keysetRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("ks.practice_id = ?", practice).Order("ks.purpose").Scan(ctx); err != nil {
		return nil, false, failure(op, "keyset", err)
	}
	if len(rows) == 0 {
		return nil, false, errs.NotFound(op, "the keys of practice "+practice.String())
	}
	ws := make([]*keys.Wrapped, 0, len(rows))
	for i := range rows {
		if rows[i].Purpose == purposeShredded {
			return nil, true, nil
		}
		ws = append(ws, rows[i].wrapped())
	}
	return ws, false, nil
}

// UpdateKeyset replaces w's keyset if its stored version is w.Version.
func (s *Keys) UpdateKeyset(ctx context.Context, w *keys.Wrapped) error {
	const op = "sqlstore.UpdateKeyset"
	res, err := s.idb(ctx).NewUpdate().Model((*keysetRow)(nil)).
		Set("keyset = ?", w.Keyset).Set("master_id = ?", w.MasterID).Set("version = version + 1").
		Where("practice_id = ? AND purpose = ? AND version = ?", w.Practice, string(w.Purpose), w.Version).
		Exec(ctx)
	if err != nil {
		return failure(op, "keyset", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return failure(op, "keyset", err)
	} else if n == 1 {
		w.Version++
		return nil
	}
	exists, err := s.idb(ctx).NewSelect().Model((*keysetRow)(nil)).
		Where("ks.practice_id = ? AND ks.purpose = ?", w.Practice, string(w.Purpose)).Exists(ctx)
	if err != nil {
		return failure(op, "keyset", err)
	}
	if !exists {
		return errs.NotFound(op, fmt.Sprintf("the %s keyset of practice %s", w.Purpose, w.Practice))
	}
	return errs.Conflict(op, fmt.Sprintf("the %s keyset of practice %s changed since it was read", w.Purpose, w.Practice))
}

// Rewrap replaces the keysets of ws in one statement, each only at its
// version, and returns how many it replaced.
func (s *Keys) Rewrap(ctx context.Context, ws []*keys.Wrapped) (int, error) {
	const op = "sqlstore.Rewrap"
	if len(ws) == 0 {
		return 0, nil
	}
	row := "(?, ?, ?, ?, ?)"
	if s.dialect == Postgres {
		row = "(CAST(? AS uuid), ?, CAST(? AS bigint), ?, CAST(? AS bytea))"
	}
	var q strings.Builder
	q.WriteString("UPDATE keysets SET keyset = d.column5, master_id = d.column4, version = keysets.version + 1 FROM (VALUES ")
	args := make([]any, 0, 5*len(ws))
	for i, w := range ws {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
		args = append(args, w.Practice, string(w.Purpose), w.Version, w.MasterID, w.Keyset)
	}
	// The range of the page's practices bounds the scan of keysets, so
	// that each page reads its own rows only.
	lo, hi := ws[0].Practice, ws[0].Practice
	for _, w := range ws {
		if bytes.Compare(w.Practice[:], lo[:]) < 0 {
			lo = w.Practice
		}
		if bytes.Compare(w.Practice[:], hi[:]) > 0 {
			hi = w.Practice
		}
	}
	q.WriteString(") AS d WHERE keysets.practice_id BETWEEN ? AND ? AND keysets.practice_id = d.column1 AND keysets.purpose = d.column2 AND keysets.version = d.column3")
	args = append(args, lo, hi)
	res, err := s.idb(ctx).ExecContext(ctx, q.String(), args...)
	if err != nil {
		return 0, failure(op, "keyset", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, failure(op, "keyset", err)
	}
	return int(n), nil
}

// List returns a page of keysets in (practice, purpose) order, shredded
// practices left out.
func (s *Keys) List(ctx context.Context, p keys.Page) ([]*keys.Wrapped, error) {
	const op = "sqlstore.ListKeysets"
	if p.Limit <= 0 {
		return nil, errs.Invalid(op, "limit", "a page holds at least one keyset")
	}
	var rows []keysetRow
	q := s.idb(ctx).NewSelect().Model(&rows).
		Where("ks.purpose <> ?", purposeShredded).
		Where("(ks.practice_id, ks.purpose) > (?, ?)", p.AfterPractice, string(p.AfterPurpose)).
		OrderExpr("ks.practice_id, ks.purpose").Limit(int64(p.Limit))
	if p.NotMaster != "" {
		q = q.Where("ks.master_id <> ?", p.NotMaster)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure(op, "keyset", err)
	}
	ws := make([]*keys.Wrapped, len(rows))
	for i := range rows {
		ws[i] = rows[i].wrapped()
	}
	return ws, nil
}

// Shred deletes the practice's keysets and leaves its shredded mark.
func (s *Keys) Shred(ctx context.Context, practice uuid.UUID) error {
	const op = "sqlstore.ShredKeysets"
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.Lock(ctx, practice); err != nil {
			return err
		}
		if _, err := s.idb(ctx).NewDelete().Model((*keysetRow)(nil)).Where("practice_id = ?", practice).Exec(ctx); err != nil {
			return failure(op, "keyset", err)
		}
		mark := &keysetRow{PracticeID: practice, Purpose: purposeShredded, Keyset: []byte{}, Version: 1}
		_, err := s.idb(ctx).NewInsert().Model(mark).Exec(ctx)
		return failure(op, "keyset", err)
	})
}
