package files_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/tenant"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// TestKeyRotationAndShredding: after a new primary key joins the practice's
// keyset, old files still open and new ones are sealed with the new key
// alone; with the keyset gone (a fresh one in its place), no file opens.
func TestKeyRotationAndShredding(t *testing.T) {
	keys := &practiceKeys{byID: map[tenant.PracticeID]tink.StreamingAEAD{}}
	e := newEnv(t, dirBackend(t), keys, files.Options{})
	m := keyset.NewManager()
	oldID, err := m.Add(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetPrimary(oldID); err != nil {
		t.Fatal(err)
	}
	use := func(m *keyset.Manager) {
		h, err := m.Handle()
		if err != nil {
			t.Fatal(err)
		}
		a, err := streamingaead.New(h)
		if err != nil {
			t.Fatal(err)
		}
		keys.mu.Lock()
		keys.byID[e.a.Practice] = a
		keys.mu.Unlock()
	}
	use(m)
	before := e.put(e.a, "before.pdf", content(3000))

	newID, err := m.Add(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetPrimary(newID); err != nil {
		t.Fatal(err)
	}
	use(m)
	after := e.put(e.a, "after.pdf", content(3000))
	for _, f := range []*files.File{before, after} {
		if got, err := e.read(e.a.Practice, f.ID); err != nil || !bytes.Equal(got, content(3000)) {
			t.Errorf("%s after the rotation: %d bytes, %v", f.Name, len(got), err)
		}
	}

	// The old key removed: the file sealed after the rotation still opens,
	// the one before does not.
	if err := m.Disable(oldID); err != nil {
		t.Fatal(err)
	}
	use(m)
	if _, err := e.read(e.a.Practice, after.ID); err != nil {
		t.Errorf("after.pdf without the old key: %v", err)
	}
	if _, err := e.read(e.a.Practice, before.ID); !errors.Is(err, files.ErrUnreadable) || !errs.Is(err, errs.KindConflict) {
		t.Errorf("before.pdf without the old key: %v, want ErrUnreadable", err)
	}

	// Shredded: the practice's keyset replaced by a new one.
	keys.mu.Lock()
	keys.byID[e.a.Practice] = newAEAD(t)
	keys.mu.Unlock()
	if _, err := e.read(e.a.Practice, after.ID); !errors.Is(err, files.ErrUnreadable) {
		t.Errorf("after.pdf with the keyset shredded: %v, want ErrUnreadable", err)
	}
}
