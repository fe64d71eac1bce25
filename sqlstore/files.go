package sqlstore

import (
	"context"

	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

type fileRow struct {
	bun.BaseModel `bun:"table:files,alias:f"`

	PracticeID  uuid.UUID `bun:"practice_id,pk"`
	ID          uuid.UUID `bun:"id,pk"`
	PatientID   uuid.UUID `bun:"patient_id"`
	Name        string    `bun:"name"`
	ContentType string    `bun:"content_type"`
	Size        int64     `bun:"size"`
	ObjectKey   string    `bun:"object_key"`
	CreatedAt   utcTime   `bun:"created_at"`
}

func (r *fileRow) file() *files.File {
	return &files.File{
		ID:          r.ID,
		PracticeID:  r.PracticeID,
		PatientID:   r.PatientID,
		Name:        r.Name,
		ContentType: r.ContentType,
		Size:        r.Size,
		ObjectKey:   r.ObjectKey,
		CreatedAt:   r.CreatedAt.Time(),
	}
}

// CreateFile stores f as given. Its patient must exist in its practice
// (else KindNotFound); an ID or object key already taken is KindConflict.
func (s *Files) CreateFile(ctx context.Context, f *files.File) error {
	row := &fileRow{
		PracticeID:  f.PracticeID,
		ID:          f.ID,
		PatientID:   f.PatientID,
		Name:        f.Name,
		ContentType: f.ContentType,
		Size:        f.Size,
		ObjectKey:   f.ObjectKey,
		CreatedAt:   utc(f.CreatedAt),
	}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.CreateFile", "file", err)
}

// GetFile returns the file id of practice, or KindNotFound.
func (s *Files) GetFile(ctx context.Context, practice tenant.PracticeID, id files.ID) (*files.File, error) {
	var row fileRow
	err := s.idb(ctx).NewSelect().Model(&row).Where("f.practice_id = ? AND f.id = ?", practice, id).Scan(ctx)
	if err != nil {
		return nil, failure("sqlstore.GetFile", "file", err)
	}
	return row.file(), nil
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
		out[i] = rows[i].file()
	}
	return out, nil
}

// DeleteFile removes the record of file id of practice, or is KindNotFound.
func (s *Files) DeleteFile(ctx context.Context, practice tenant.PracticeID, id files.ID) error {
	res, err := s.idb(ctx).NewDelete().Table("files").Where("practice_id = ? AND id = ?", practice, id).Exec(ctx)
	return affected("sqlstore.DeleteFile", "file", res, err)
}
