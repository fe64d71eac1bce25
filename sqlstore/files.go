package sqlstore

import (
	"context"

	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

type fileRow struct {
	bun.BaseModel `bun:"table:files,alias:f"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	ID         uuid.UUID `bun:"id,pk"`
	PatientID  uuid.UUID `bun:"patient_id"`
	// Sealed holds the name as uploaded (see sealed.go); Name, only a row
	// from before sealing (Sealed NULL).
	Sealed      []byte  `bun:"sealed"`
	SealedKey   int64   `bun:"sealed_key"`
	Name        string  `bun:"name"`
	ContentType string  `bun:"content_type"`
	Size        int64   `bun:"size"`
	ObjectKey   string  `bun:"object_key"`
	CreatedAt   utcTime `bun:"created_at"`
}

// fileBinding is where file id's sealed name lives.
func fileBinding(id uuid.UUID) keys.Binding {
	return keys.Binding{Table: "files", Column: "sealed", Row: id.String()}
}

// file returns the row's file, its name opened.
func (r *fileRow) file(ctx context.Context, c *conn, op string) (*files.File, error) {
	name := r.Name
	if r.Sealed != nil {
		f, err := c.openFields(ctx, op, r.PracticeID, fileBinding(r.ID), r.Sealed, 1)
		if err != nil {
			return nil, err
		}
		name = f[0]
	}
	return &files.File{
		ID:          r.ID,
		PracticeID:  r.PracticeID,
		PatientID:   r.PatientID,
		Name:        name,
		ContentType: r.ContentType,
		Size:        r.Size,
		ObjectKey:   r.ObjectKey,
		CreatedAt:   r.CreatedAt.Time(),
	}, nil
}

// CreateFile stores f as given, its name sealed. Its patient must exist in
// its practice (else KindNotFound); an ID or object key already taken is
// KindConflict.
func (s *Files) CreateFile(ctx context.Context, f *files.File) error {
	const op = "sqlstore.CreateFile"
	sealed, key, err := s.sealFields(ctx, op, f.PracticeID, fileBinding(f.ID), f.Name)
	if err != nil {
		return err
	}
	row := &fileRow{
		PracticeID:  f.PracticeID,
		ID:          f.ID,
		PatientID:   f.PatientID,
		Sealed:      sealed,
		SealedKey:   key,
		ContentType: f.ContentType,
		Size:        f.Size,
		ObjectKey:   f.ObjectKey,
		CreatedAt:   utc(f.CreatedAt),
	}
	_, err = s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure(op, "file", err)
}

// GetFile returns the file id of practice, or KindNotFound.
func (s *Files) GetFile(ctx context.Context, practice tenant.PracticeID, id files.ID) (*files.File, error) {
	var row fileRow
	err := s.idb(ctx).NewSelect().Model(&row).Where("f.practice_id = ? AND f.id = ?", practice, id).Scan(ctx)
	if err != nil {
		return nil, failure("sqlstore.GetFile", "file", err)
	}
	return row.file(ctx, s.conn, "sqlstore.GetFile")
}

// ListPatientFiles returns the files of patient in practice, oldest first.
func (s *Files) ListPatientFiles(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) ([]*files.File, error) {
	var rows []fileRow
	err := s.idb(ctx).NewSelect().Model(&rows).
		Where("f.practice_id = ? AND f.patient_id = ?", practice, patient).
		Order("f.created_at", "f.id").Scan(ctx)
	if err != nil {
		return nil, failure("sqlstore.ListPatientFiles", "files", err)
	}
	out := make([]*files.File, len(rows))
	for i := range rows {
		f, err := rows[i].file(ctx, s.conn, "sqlstore.ListPatientFiles")
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// DeleteFile removes the record of file id of practice, or is KindNotFound.
func (s *Files) DeleteFile(ctx context.Context, practice tenant.PracticeID, id files.ID) error {
	res, err := s.idb(ctx).NewDelete().Table("files").Where("practice_id = ? AND id = ?", practice, id).Exec(ctx)
	return affected("sqlstore.DeleteFile", "file", res, err)
}

// ResealFiles seals again, with practice's primary key, up to limit of its
// files' names that an older key sealed or that an earlier release left in
// clear, and returns how many it rewrote: 0 when none is left (see
// resealRows). The objects themselves are not rewritten: the practice's
// stream keyset opens them by the key ID they carry.
func (s *Files) ResealFiles(ctx context.Context, practice tenant.PracticeID, limit int) (int, error) {
	const op = "sqlstore.ResealFiles"
	return resealRows(ctx, s.conn, op, practice, limit, "f", nil, func(ctx context.Context, r *fileRow) error {
		f, err := r.file(ctx, s.conn, op)
		if err != nil {
			return err
		}
		sealed, key, err := s.sealFields(ctx, op, f.PracticeID, fileBinding(f.ID), f.Name)
		if err != nil {
			return err
		}
		_, err = s.idb(ctx).NewUpdate().Model((*fileRow)(nil)).Set("sealed = ?", sealed).Set("sealed_key = ?", key).
			Set("name = ''").Where("practice_id = ? AND id = ?", f.PracticeID, f.ID).Exec(ctx)
		return failure(op, "file", err)
	})
}
