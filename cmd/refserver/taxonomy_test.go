package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNUCCCSV runs the binary's wiring with -nucc-csv: a good file is
// loaded (its codes counted in the log), a bad one stops the start naming
// the option, the file, the line and the column.
func TestNUCCCSV(t *testing.T) {
	dir := t.TempDir()
	const header = "Code,Grouping,Classification,Specialization,Definition,Notes,Display Name,Section\n"
	const row = "363LF0000X,PA & APN,Nurse Practitioner,Family,Test.,,Family Nurse Practitioner,Individual\n"
	good := filepath.Join(dir, "good.csv")
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(good, []byte(header+row), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(header+row+"363lf0000X,PA & APN,Nurse Practitioner,,Test.,,Nurse Practitioner,Individual\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(csv string) (string, error) {
		var logs bytes.Buffer
		m := NewMain()
		m.Stdout, m.Stderr = io.Discard, &logs
		m.Getenv = env(map[string]string{"CAREBOOK_NUCC_CSV": csv})
		if err := m.ParseFlags([]string{"migrate", "-dsn", "sqlite:" + filepath.Join(t.TempDir(), "m.db")}); err != nil {
			t.Fatal(err)
		}
		err := m.Run(context.Background())
		if err == nil {
			err = m.Wait(context.Background())
			m.Close()
		}
		return logs.String(), err
	}
	logs, err := run(good)
	if err != nil || !strings.Contains(logs, "provider taxonomy loaded") || !strings.Contains(logs, "codes=31") {
		t.Fatalf("good file: err %v, logs %q; want 31 codes (30 curated, 1 from the file)", err, logs)
	}
	_, err = run(bad)
	for _, want := range []string{"-nucc-csv / CAREBOOK_NUCC_CSV", "bad.csv", "Code", "line 3", `"363lf0000X"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad file: err %v, want it to name %s", err, want)
		}
	}
	if _, err := run(filepath.Join(dir, "missing.csv")); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing file: err %v", err)
	}
}
