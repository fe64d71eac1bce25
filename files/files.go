// Package files keeps patients' files (scans, referral letters, consent
// forms) in a blob bucket, encrypted in the process before a byte leaves it.
//
// A Store writes each file through gocloud.dev/blob: a local directory
// ("file:///dir", for make run) or S3 ("s3://bucket?..."), opened with
// OpenBucket. The bytes are sealed on the way with the practice's tink
// streaming AEAD, which Keys hands out (a keyset of AES256-GCM-HKDF-1MB
// keys: its primary key seals new files, its older keys still open old
// ones, so a rotated practice key needs no rewrite of the objects), with
// associated data binding the practice, the patient and the file ID, so an
// object copied under another file's record, patient or practice does not
// decrypt, and a truncated or altered object fails to open. Reading streams
// segment by segment: a file is never held whole in memory.
//
// The object key is 32 random bytes in hex: it names neither the file, nor
// the patient, nor the practice. The bucket is never exposed by URL; files
// are read only through Open, after the caller's own authorisation.
//
// What a file is (its name, content type, size and object key) is a row of
// a MetaStore (sqlstore.Files), scoped by practice: every file belongs to a
// practice and to one of its patients. sqlstore seals the file name with
// the practice's keys, like the other PHI columns; the content type and
// the size stay in clear.
package files

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/tink"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// ID identifies a file within its practice.
type ID = uuid.UUID

// File is what the metadata store keeps of a stored file.
type File struct {
	ID          ID                   `json:"id"`
	PracticeID  tenant.PracticeID    `json:"practice_id"`
	PatientID   scheduling.PatientID `json:"patient_id"`
	Name        string               `json:"name"`         // as uploaded; the MetaStore seals it
	ContentType string               `json:"content_type"` // a media type, e.g. "application/pdf"
	Size        int64                `json:"size"`         // bytes of plaintext
	ObjectKey   string               `json:"-"`            // the bucket key: random, opaque
	CreatedAt   time.Time            `json:"created_at"`
}

// Keys hands out each practice's streaming AEAD: *keys.Service implements
// it with a per-practice tink keyset; the files package needs no more of
// it than this.
type Keys interface {
	StreamingAEAD(ctx context.Context, practice tenant.PracticeID) (tink.StreamingAEAD, error)
}

// MetaStore keeps files' records. Every method is scoped to its practice:
// a file of another practice is KindNotFound.
type MetaStore interface {
	// CreateFile stores f as given; its patient must exist in its practice
	// (else KindNotFound).
	CreateFile(ctx context.Context, f *File) error
	// GetFile returns the file id of practice, or KindNotFound.
	GetFile(ctx context.Context, practice tenant.PracticeID, id ID) (*File, error)
	// ListPatientFiles returns the files of a patient, oldest first.
	ListPatientFiles(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) ([]*File, error)
	// DeleteFile removes the record of the file id, or is KindNotFound.
	DeleteFile(ctx context.Context, practice tenant.PracticeID, id ID) error
}

// ErrUnreadable is wrapped by the error of reading a file whose stored
// object does not decrypt under its record: altered, truncated, or moved
// from another file, patient or practice.
var ErrUnreadable = errors.New("the stored file does not decrypt: it was altered, truncated or moved")

// DefaultMaxSize bounds a file when Options.MaxSize is zero.
const DefaultMaxSize = 64 << 20

// MaxNameLen bounds a file name, in bytes.
const MaxNameLen = 255

// Options configure a Store. The zero value is usable.
type Options struct {
	MaxSize int64          // bytes; 0 means DefaultMaxSize
	Clock   clock.Clock    // default clock.System
	IDs     clock.IDSource // default clock.UUIDv7
	Random  io.Reader      // object keys' randomness; default crypto/rand
}

// Store keeps files in a bucket, encrypted, with their records in a
// MetaStore. It is safe for concurrent use.
type Store struct {
	bucket *blob.Bucket
	keys   Keys
	meta   MetaStore
	opts   Options
}

// New returns a Store over bucket, sealing with keys and recording in meta.
// The caller keeps the bucket and closes it.
func New(bucket *blob.Bucket, keys Keys, meta MetaStore, opts Options) *Store {
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	if opts.IDs == nil {
		opts.IDs = clock.UUIDv7{}
	}
	if opts.Random == nil {
		opts.Random = rand.Reader
	}
	return &Store{bucket: bucket, keys: keys, meta: meta, opts: opts}
}

// associatedData binds a ciphertext to its practice, patient and file.
func associatedData(f *File) []byte {
	ad := make([]byte, 0, 64)
	ad = append(ad, "carebook/files/v1\x00"...)
	ad = append(ad, f.PracticeID[:]...)
	ad = append(ad, f.PatientID[:]...)
	return append(ad, f.ID[:]...)
}

// Put encrypts the content of r into a new object and records it as a file
// of the patient: Upload, then Record. Nothing is left behind when Put
// fails.
func (s *Store) Put(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, name, contentType string, r io.Reader) (*File, error) {
	f, err := s.Upload(ctx, practice, patient, name, contentType, r)
	if err != nil {
		return nil, err
	}
	if err := s.Record(ctx, f); err != nil {
		s.Discard(ctx, f)
		return nil, err
	}
	return f, nil
}

// Upload encrypts the content of r into a new object for a file of the
// patient and returns the file, not yet recorded: Record records it (in
// the caller's transaction, which the upload need not hold open), and
// Discard removes the object if that fails. The name must be 1 to
// MaxNameLen bytes of UTF-8 without control characters, the content type
// a media type (type/subtype); content longer than the maximum size is
// KindTooLarge. A failed Upload leaves no object.
func (s *Store) Upload(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, name, contentType string, r io.Reader) (*File, error) {
	const op = "files.Upload"
	if err := checkName(op, name); err != nil {
		return nil, err
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.Contains(mt, "/") {
		return nil, errs.Invalid(op, "content_type", "is not a media type such as application/pdf")
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(s.opts.Random, key); err != nil {
		return nil, errs.Wrap(errs.KindInternal, op, "draw an object key", err)
	}
	f := &File{
		ID:          s.opts.IDs.New(),
		PracticeID:  practice,
		PatientID:   patient,
		Name:        name,
		ContentType: mime.FormatMediaType(mt, params),
		ObjectKey:   hex.EncodeToString(key),
		CreatedAt:   s.opts.Clock.Now().UTC().Truncate(time.Microsecond),
	}
	aead, err := s.keys.StreamingAEAD(ctx, practice)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, op, "the practice's file key", err)
	}
	if f.Size, err = s.write(ctx, aead, f, r); err != nil {
		return nil, err
	}
	return f, nil
}

// Record stores the record of f, which Upload wrote. Its patient must exist
// in its practice (else KindNotFound).
func (s *Store) Record(ctx context.Context, f *File) error { return s.meta.CreateFile(ctx, f) }

// Discard removes the object of f, which Upload wrote and no record names
// (its Record failed or was rolled back): without a record it could never
// be reached. It does not fail; an object already gone is fine.
func (s *Store) Discard(ctx context.Context, f *File) {
	_ = s.bucket.Delete(context.WithoutCancel(ctx), f.ObjectKey)
}

// write encrypts r into f's object and returns the plaintext's size. On
// failure the upload is abandoned (cancelling the writer's context aborts
// it) and no object is left.
func (s *Store) write(ctx context.Context, aead tink.StreamingAEAD, f *File, r io.Reader) (int64, error) {
	const op = "files.Put"
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, f.ObjectKey, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return 0, errs.Wrap(errs.KindInternal, op, "open the object", err)
	}
	abandon := func(err error) (int64, error) {
		cancel()
		_ = w.Close()
		_ = s.bucket.Delete(context.WithoutCancel(ctx), f.ObjectKey)
		return 0, err
	}
	enc, err := aead.NewEncryptingWriter(w, associatedData(f))
	if err != nil {
		return abandon(errs.Wrap(errs.KindInternal, op, "start encrypting", err))
	}
	n, err := io.Copy(enc, io.LimitReader(r, s.opts.MaxSize+1))
	switch {
	case err != nil:
		return abandon(errs.Wrap(errs.KindInternal, op, "write the file", err))
	case n > s.opts.MaxSize:
		return abandon(errs.E(errs.KindTooLarge, op, "the file is larger than the limit"))
	}
	if err := enc.Close(); err != nil {
		return abandon(errs.Wrap(errs.KindInternal, op, "finish encrypting", err))
	}
	if err := w.Close(); err != nil {
		_ = s.bucket.Delete(context.WithoutCancel(ctx), f.ObjectKey)
		return 0, errs.Wrap(errs.KindInternal, op, "store the object", err)
	}
	return n, nil
}

func checkName(op, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errs.Invalid(op, "name", "is empty")
	case len(name) > MaxNameLen:
		return errs.Invalid(op, "name", "is longer than 255 bytes")
	case !utf8.ValidString(name):
		return errs.Invalid(op, "name", "is not UTF-8")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return errs.Invalid(op, "name", "holds a control character")
	}
	return nil
}

// Get returns the record of the file id of practice, or KindNotFound.
func (s *Store) Get(ctx context.Context, practice tenant.PracticeID, id ID) (*File, error) {
	return s.meta.GetFile(ctx, practice, id)
}

// List returns the files of a patient of practice, oldest first.
func (s *Store) List(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) ([]*File, error) {
	return s.meta.ListPatientFiles(ctx, practice, patient)
}

// Open returns the plaintext of the file id of practice, decrypted as it is
// read. A file of another practice is KindNotFound; an object that does not
// decrypt under its record fails on Read with an error wrapping
// ErrUnreadable (KindConflict), as does one whose length differs from the
// record's. The caller closes the reader.
func (s *Store) Open(ctx context.Context, practice tenant.PracticeID, id ID) (io.ReadCloser, error) {
	f, err := s.meta.GetFile(ctx, practice, id)
	if err != nil {
		return nil, err
	}
	return s.OpenRecord(ctx, f)
}

// OpenRecord is Open of the file whose record f the caller has read (Get)
// already, for one that needs the record before it opens the content.
func (s *Store) OpenRecord(ctx context.Context, f *File) (io.ReadCloser, error) {
	const op = "files.Open"
	aead, err := s.keys.StreamingAEAD(ctx, f.PracticeID)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, op, "the practice's file key", err)
	}
	obj, err := s.bucket.NewReader(ctx, f.ObjectKey, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, errs.Wrap(errs.KindConflict, op, "the stored object of the file is missing", err)
		}
		return nil, errs.Wrap(errs.KindInternal, op, "open the object", err)
	}
	dec, err := aead.NewDecryptingReader(obj, associatedData(f))
	if err != nil {
		_ = obj.Close()
		return nil, unreadable(op, err)
	}
	return &reader{dec: dec, obj: obj, want: f.Size}, nil
}

func unreadable(op string, err error) error {
	return errs.Wrap(errs.KindConflict, op, ErrUnreadable.Error(), errors.Join(ErrUnreadable, err))
}

// reader is an open file: the decrypting reader over the object, checking
// that the plaintext has the recorded length.
type reader struct {
	dec  io.Reader
	obj  *blob.Reader
	want int64
	got  int64
	err  error
}

func (r *reader) Read(p []byte) (int, error) {
	const op = "files.Open"
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.dec.Read(p)
	r.got += int64(n)
	switch {
	case r.got > r.want:
		r.err = unreadable(op, errors.New("longer than its record"))
		return 0, r.err
	case err == io.EOF && r.got != r.want:
		r.err = unreadable(op, errors.New("shorter than its record"))
		return n, r.err
	case err != nil && err != io.EOF:
		r.err = unreadable(op, err)
		return n, r.err
	}
	return n, err
}

func (r *reader) Close() error { return r.obj.Close() }

// Delete removes the file id of practice: its object, then its record. A
// Delete that failed half way may be repeated.
func (s *Store) Delete(ctx context.Context, practice tenant.PracticeID, id ID) error {
	const op = "files.Delete"
	f, err := s.meta.GetFile(ctx, practice, id)
	if err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, f.ObjectKey); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return errs.Wrap(errs.KindInternal, op, "delete the object", err)
	}
	return s.meta.DeleteFile(ctx, practice, id)
}
