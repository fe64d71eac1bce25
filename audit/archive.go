package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/carebook/carebook/errs"
)

// Archive is cold storage for exported periods: an object store in
// production, a local directory (DirArchive) otherwise.
//
// The contract every implementation keeps:
//   - Names are slash-separated relative paths whose segments use only
//     ASCII letters, digits, '.', '_' and '-', and are not "." or "..";
//     other names are refused with KindInvalid (see ValidName).
//   - Objects are write-once. Put of a new name stores all of r or nothing,
//     so a reader never sees a partial object. Put of an existing name with
//     the same content succeeds and changes nothing; with different content
//     it is refused with KindConflict and the stored object is kept.
//   - Get returns the object's content, or KindNotFound; the caller closes it.
//   - It is safe for concurrent use.
type Archive interface {
	Put(ctx context.Context, name string, r io.Reader) error
	Get(ctx context.Context, name string) (io.ReadCloser, error)
}

// ValidName reports whether name is a valid Archive name.
func ValidName(name string) bool {
	if name == "" || len(name) > 1024 {
		return false
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for _, c := range seg {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
				c == '.' || c == '_' || c == '-'
			if !ok {
				return false
			}
		}
	}
	return true
}

// DirArchive is an Archive in a local directory. Put writes a temporary file
// in the target directory, syncs it, and then links it into place, which
// (unlike a rename) never replaces an object another Put stored meanwhile.
type DirArchive struct {
	dir string
}

var _ Archive = (*DirArchive)(nil)

// NewDirArchive returns an Archive in dir, creating dir if needed.
func NewDirArchive(dir string) (*DirArchive, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("audit.NewDirArchive: %w", err)
	}
	return &DirArchive{dir: dir}, nil
}

func (a *DirArchive) path(op, name string) (string, error) {
	if !ValidName(name) {
		return "", errs.Invalid(op, "name", "bad archive name "+fmt.Sprintf("%q", name))
	}
	return filepath.Join(a.dir, filepath.FromSlash(name)), nil
}

// Put stores r under name; see Archive.
func (a *DirArchive) Put(ctx context.Context, name string, r io.Reader) (err error) {
	const op = "audit.DirArchive.Put"
	path, err := a.path(op, name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".put-*")
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := os.Link(tmp.Name(), path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w", op, err)
	}
	same, err := sameContent(path, h.Sum(nil))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if !same {
		return errs.Conflict(op, "archive object "+name+" exists with other content")
	}
	return nil
}

// Get opens the object name; see Archive.
func (a *DirArchive) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	const op = "audit.DirArchive.Get"
	path, err := a.path(op, name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.NotFound(op, "archive object "+name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return f, nil
}

// sameContent reports whether the file at path has the SHA-256 sum.
func sameContent(path string, sum []byte) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return bytes.Equal(h.Sum(nil), sum), nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
