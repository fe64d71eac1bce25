package carebook

import (
	"context"
	"errors"
	"io"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"gocloud.dev/blob"
)

// Patients' files (scans, letters, consent forms) are kept, encrypted with
// the practice's file key before they leave the process, in a blob bucket
// (package files): read and written here through the guard, each with its
// activity-log entry, under the chart's permissions. No URL of the bucket
// is ever handed out.

// WithFiles gives the Engine the bucket of patients' files (files.OpenBucket:
// a local directory, or S3). Without it the file operations answer
// KindNotFound. The Engine seals with the store's keys; the bucket stays
// the caller's to close.
func WithFiles(bucket *blob.Bucket, opts files.Options) Option {
	return func(e *Engine) {
		e.filesBucket, e.filesOpts = bucket, opts
	}
}

// noFiles is the error of a file operation on an Engine without files.
func noFiles(op string) error {
	return errs.E(errs.KindNotFound, op, "this server keeps no files (no bucket is configured)")
}

// PutFile stores a file of patient, read from r, for the caller in ctx, who
// needs patient.clinical.write over the patient. The caller is authorized
// first; the upload (encrypting into the bucket) runs outside any
// transaction of the Engine's, so that a slow client holds no database
// lock; then the file's record and its "file.upload" entry commit
// together (see Permit.Do), or the object is removed. Bad input names its
// field (name, content_type); content over the size limit is KindTooLarge.
func (e *Engine) PutFile(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, name, contentType string, r io.Reader) (*files.File, error) {
	if e.Files == nil {
		return nil, noFiles("carebook.PutFile")
	}
	pm, err := e.Authorize(ctx, Access{Permission: rbac.PatientClinicalWrite, PracticeID: practice, PatientID: &patient,
		Action: "file.upload", ResourceType: "file"})
	if err != nil {
		return nil, err
	}
	f, err := e.Files.Upload(ctx, practice, patient, name, contentType, r)
	if err != nil {
		pm.Fail(ctx)
		return nil, err
	}
	if err := pm.Do(ctx, func(ctx context.Context) (string, error) {
		return f.ID.String(), e.Files.Record(ctx, f)
	}); err != nil {
		e.Files.Discard(ctx, f)
		return nil, err
	}
	return f, nil
}

// PatientFiles lists a patient's files, oldest first, for the caller in
// ctx, who needs patient.clinical.read over the patient ("file.list").
func (e *Engine) PatientFiles(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) ([]*files.File, error) {
	if e.Files == nil {
		return nil, noFiles("carebook.PatientFiles")
	}
	var out []*files.File
	err := e.Guard(ctx, Access{Permission: rbac.PatientClinicalRead, PracticeID: practice, PatientID: &patient,
		Action: "file.list", ResourceType: "patient", ResourceID: patient.String()},
		func(ctx context.Context) (string, error) {
			var err error
			if out, err = e.Files.List(ctx, practice, patient); err == nil && len(out) == 0 {
				// No files, or no such patient: say which.
				_, err = e.Scheduling.Patient(ctx, practice, patient)
			}
			return patient.String(), err
		})
	return out, err
}

// OpenFile returns a file's record and its content, decrypted as it is
// read, for the caller in ctx, who needs patient.clinical.read over the
// file's patient ("file.read", logged when the file is opened). The
// caller closes the reader; content altered or moved in the bucket fails
// on Read with files.ErrUnreadable.
func (e *Engine) OpenFile(ctx context.Context, practice tenant.PracticeID, id files.ID) (*files.File, io.ReadCloser, error) {
	if e.Files == nil {
		return nil, nil, noFiles("carebook.OpenFile")
	}
	pm, err := e.Authorize(ctx, Access{Permission: rbac.PatientClinicalRead, PracticeID: practice, FileID: &id,
		Action: "file.read", ResourceType: "file", ResourceID: id.String()})
	if err != nil {
		return nil, nil, err
	}
	f := pm.file
	var rc io.ReadCloser
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		var err error
		rc, err = e.Files.OpenRecord(ctx, f)
		return id.String(), err
	})
	if err != nil {
		return nil, nil, err
	}
	return f, &watchedFile{ReadCloser: rc, e: e, ctx: ctx, f: f}, nil
}

// watchedFile is an opened file that records, once, a read that finds the
// object altered or moved (files.ErrUnreadable) as "phi.unreadable".
type watchedFile struct {
	io.ReadCloser
	e        *Engine
	ctx      context.Context
	f        *files.File
	reported bool
}

func (w *watchedFile) Read(p []byte) (int, error) {
	n, err := w.ReadCloser.Read(p)
	if err != nil && !w.reported && errors.Is(err, files.ErrUnreadable) {
		w.reported = true
		w.e.recordUnreadable(w.ctx, w.f.PracticeID, keys.Binding{Table: "files", Column: "object", Row: w.f.ID.String()})
	}
	return n, err
}

// DeleteFile removes a file for the caller in ctx, who needs
// patient.clinical.write over the file's patient ("file.delete").
func (e *Engine) DeleteFile(ctx context.Context, practice tenant.PracticeID, id files.ID) error {
	if e.Files == nil {
		return noFiles("carebook.DeleteFile")
	}
	return e.Guard(ctx, Access{Permission: rbac.PatientClinicalWrite, PracticeID: practice, FileID: &id,
		Action: "file.delete", ResourceType: "file", ResourceID: id.String()},
		func(ctx context.Context) (string, error) {
			return id.String(), e.Files.Delete(ctx, practice, id)
		})
}
