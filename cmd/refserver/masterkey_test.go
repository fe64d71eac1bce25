package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/notify"
	"github.com/google/uuid"
)

// TestMasterKey checks where serve's master key comes from: the file beside
// a SQLite database, made once (mode 0600) and then kept; the file named by
// -master-key-file; and that PostgreSQL without it is refused.
func TestMasterKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clinic.db")
	cfg := DefaultConfig()
	cfg.DSN = "sqlite:" + db
	made, from, err := masterKey(cfg)
	if err != nil || from != db+masterKeySuffix {
		t.Fatalf("masterKey = %v, %q, %v", made, from, err)
	}
	fi, err := os.Stat(db + masterKeySuffix)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	again, _, err := masterKey(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id1, _, _ := made.Primary(ctx)
	id2, _, _ := again.Primary(ctx)
	if id1 != id2 {
		t.Error("the second start made another key")
	}

	cfg.MasterKeyFile = filepath.Join(t.TempDir(), "keys", "master.json")
	if _, from, err := masterKey(cfg); err != nil || from != cfg.MasterKeyFile {
		t.Errorf("with -master-key-file: %q, %v", from, err)
	}
	cfg.MasterKeyFile, cfg.DSN = "", "postgres://u@h/db"
	if _, _, err := masterKey(cfg); err == nil || !strings.Contains(err.Error(), "CAREBOOK_MASTER_KEY_FILE") {
		t.Errorf("PostgreSQL without a key: %v", err)
	}
	cfg.DSN = "sqlite::memory:"
	if _, from, err := masterKey(cfg); err != nil || !strings.Contains(from, "in-memory") {
		t.Errorf("in memory: %q, %v", from, err)
	}
	cfg.MasterKeyFile = filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(cfg.MasterKeyFile, []byte("not a keyset"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := masterKey(cfg); err == nil || !strings.Contains(err.Error(), "master key file") {
		t.Errorf("a bad key file: %v", err)
	}
}

// TestOneKeyFile: a demo run beside a SQLite database leaves one key file,
// the master key's, and the email links it signs (with a key derived from
// the master key) still verify after a restart, and not with another
// master key.
func TestOneKeyFile(t *testing.T) {
	dir := t.TempDir()
	token := func(t *testing.T, db string, verify string) (string, error) {
		t.Helper()
		m := NewMain()
		m.Stdout, m.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
		m.Getenv = env(nil)
		if err := m.ParseFlags([]string{"migrate", "-dsn", "sqlite:" + db}); err != nil {
			t.Fatal(err)
		}
		master, _, err := masterKey(m.Config)
		if err != nil {
			t.Fatal(err)
		}
		e, err := carebook.New(context.Background(), carebook.Config{DSN: m.Config.DSN, Migrate: true, MasterKey: master},
			carebook.WithLinks(nil, "https://clinic.example"))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		links := e.Links()
		if verify != "" {
			_, err := links.Verify(verify, time.Now())
			return "", err
		}
		return links.Token(notify.Link{Action: notify.LinkUnsubscribe, Practice: uuid.New(), Subject: uuid.New(), Nonce: uuid.New(),
			Expires: time.Now().Add(time.Hour)}), nil
	}
	db := filepath.Join(dir, "c.db")
	tok, _ := token(t, db, "")
	if _, err := token(t, db, tok); err != nil {
		t.Errorf("a link signed before the restart: %v", err)
	}
	if _, err := token(t, filepath.Join(t.TempDir(), "other.db"), tok); err == nil {
		t.Error("a link verified under another master key")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*key*"))
	if len(files) != 1 || files[0] != db+masterKeySuffix {
		t.Errorf("key files beside the database: %v, want only %s", files, db+masterKeySuffix)
	}
}
