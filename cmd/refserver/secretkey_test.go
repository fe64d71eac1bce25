package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretKey checks where serve's key comes from: the flag; else the
// file beside a SQLite database, made once and then kept; and that
// PostgreSQL without the flag is refused.
func TestSecretKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clinic.db")
	cfg := DefaultConfig()
	cfg.DSN = "sqlite:" + db
	made, from, err := secretKey(cfg)
	if err != nil || from != db+".key" {
		t.Fatalf("secretKey = %v, %q, %v", made, from, err)
	}
	fi, err := os.Stat(db + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	again, _, err := secretKey(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id1, _, _ := made.CurrentKey(ctx)
	id2, _, _ := again.CurrentKey(ctx)
	if id1 != id2 {
		t.Error("the second start made another key")
	}

	cfg.SecretKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	if _, from, err := secretKey(cfg); err != nil || from != "-secret-key" {
		t.Errorf("with -secret-key: %q, %v", from, err)
	}
	cfg.SecretKey, cfg.DSN = "", "postgres://u@h/db"
	if _, _, err := secretKey(cfg); err == nil || !strings.Contains(err.Error(), "CAREBOOK_SECRET_KEY") {
		t.Errorf("PostgreSQL without a key: %v", err)
	}
}

func TestSecretKeyFlag(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	for _, c := range []struct {
		args []string
		env  map[string]string
		ok   bool
	}{
		{nil, map[string]string{"CAREBOOK_SECRET_KEY": good}, true},
		{[]string{"-secret-key", good}, map[string]string{"CAREBOOK_SECRET_KEY": "short"}, true},
		{nil, map[string]string{"CAREBOOK_SECRET_KEY": base64.StdEncoding.EncodeToString([]byte("sixteen bytes!!!"))}, false},
	} {
		m := NewMain()
		m.Stderr = io.Discard
		m.Getenv = env(c.env)
		err := m.ParseFlags(c.args)
		if c.ok && (err != nil || m.Config.SecretKey != good) {
			t.Errorf("ParseFlags(%q, %v) = %v, key %q", c.args, c.env, err, m.Config.SecretKey)
		}
		if !c.ok && (err == nil || !strings.Contains(err.Error(), "CAREBOOK_SECRET_KEY")) {
			t.Errorf("ParseFlags(%q, %v) = %v, want an error naming CAREBOOK_SECRET_KEY", c.args, c.env, err)
		}
	}
}
