package keys

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/carebook/carebook/errs"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// Provider gives the master key that wraps the practices' keysets. A KMS or
// Vault adapter implements it with the KMS's AEAD (tink-go-awskms,
// tink-go-hcvault); FileProvider is the local one.
//
// Every wrapped keyset records the ID of the master key that wrapped it, so
// that a rotation can tell the keysets still to re-wrap from those done, and
// so that a provider holding several master keys (Rotating) can pick the
// right one to unwrap.
type Provider interface {
	// Primary returns the master key new keysets are wrapped with and its ID.
	Primary(ctx context.Context) (id string, a tink.AEAD, err error)
	// Master returns the master key of ID id, to unwrap keysets, or an
	// error of KindNotFound if the provider does not hold it.
	Master(ctx context.Context, id string) (tink.AEAD, error)
}

// FileProvider is a master key kept in a local key file, for `make run`
// and tests. The file holds a tink AES256-GCM keyset in tink's JSON keyset
// format, in clear (written with insecurecleartextkeyset): whoever reads the
// file can open every practice's data, so it is made with mode 0600 and
// must be backed up and guarded like the database itself; losing it loses
// all sealed data. Production deployments use a KMS-backed Provider instead.
type FileProvider struct {
	id string
	a  tink.AEAD
}

var _ Provider = (*FileProvider)(nil)

// OpenFile returns the master key in the key file at path, making the file
// (mode 0600, in a directory made with mode 0700 if missing) with a new
// random key if it does not exist. The key's ID is "file:" followed by the
// ID of the keyset's primary key.
func OpenFile(path string) (*FileProvider, error) {
	const op = "keys.OpenFile"
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer f.Close()
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: read the master key file %s: %w", op, path, err)
	}
	return newFileProvider(op, h)
}

// createFile makes the key file at path with a new key. The file is
// created exclusively, so that two processes starting at once cannot each
// make their own key: the loser reads the winner's.
func createFile(path string) (*FileProvider, error) {
	const op = "keys.OpenFile"
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".masterkey-*")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(tmp)); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("%s: write the master key: %w", op, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	// Link fails if path exists: another process made it first.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return OpenFile(path)
		}
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return newFileProvider(op, h)
}

// NewStatic returns a master key held in memory, for tests and for
// embedders that fetch the key themselves: h must be an AEAD keyset.
func NewStatic(h *keyset.Handle) (*FileProvider, error) {
	return newFileProvider("keys.NewStatic", h)
}

func newFileProvider(op string, h *keyset.Handle) (*FileProvider, error) {
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("%s: the master keyset is not an AEAD keyset: %w", op, err)
	}
	return &FileProvider{id: fmt.Sprintf("file:%d", h.KeysetInfo().GetPrimaryKeyId()), a: a}, nil
}

// ID returns the master key's ID.
func (p *FileProvider) ID() string { return p.id }

// Primary returns the file's key.
func (p *FileProvider) Primary(context.Context) (string, tink.AEAD, error) { return p.id, p.a, nil }

// Master returns the file's key if id is its ID.
func (p *FileProvider) Master(_ context.Context, id string) (tink.AEAD, error) {
	if id != p.id {
		return nil, errs.NotFound("keys.FileProvider.Master", "master key "+id)
	}
	return p.a, nil
}

// Rotating is a Provider during a master-key rotation: it wraps with New
// and unwraps with whichever of New and Old holds the keyset's master key.
// Use it while Service.RotateMaster runs elsewhere, or to resume a rotation
// that was cut short; once it has finished, Old is no longer needed.
type Rotating struct {
	New Provider
	Old []Provider
}

var _ Provider = Rotating{}

// Primary returns New's primary key.
func (r Rotating) Primary(ctx context.Context) (string, tink.AEAD, error) {
	return r.New.Primary(ctx)
}

// Master returns the master key id from New or else the first of Old that
// holds it.
func (r Rotating) Master(ctx context.Context, id string) (tink.AEAD, error) {
	a, err := r.New.Master(ctx, id)
	if err == nil || errs.KindOf(err) != errs.KindNotFound {
		return a, err
	}
	for _, p := range r.Old {
		a, err := p.Master(ctx, id)
		if err == nil || errs.KindOf(err) != errs.KindNotFound {
			return a, err
		}
	}
	return nil, errs.NotFound("keys.Rotating.Master", "master key "+id)
}
