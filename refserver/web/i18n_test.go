package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
)

// TestCatalogsAreWhole: English and Spanish have the same keys, and every
// key a template (`.T "key"`) or the Go code (`T("key")`, and the
// navigation's labels) uses is in them.
func TestCatalogsAreWhole(t *testing.T) {
	for k := range english {
		if _, ok := spanish[k]; !ok {
			t.Errorf("%s: English only", k)
		}
	}
	for k := range spanish {
		if _, ok := english[k]; !ok {
			t.Errorf("%s: Spanish only", k)
		}
	}
	used := map[string]string{}
	tmplKey := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	goKey := regexp.MustCompile(`(?:\bT|newView\(r,|label:)\s*\(?"([a-z0-9_]+\.[a-z0-9_.]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, p)
		for _, m := range tmplKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = p
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	goFiles, _ := filepath.Glob("*.go")
	for _, p := range goFiles {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = p
		}
	}
	var missing []string
	for k, where := range used {
		if _, ok := english[k]; !ok {
			missing = append(missing, k+" (used in "+where+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("no string %s", m)
	}
	if len(used) < 10 {
		t.Fatalf("found only %d keys in use: the patterns of this test no longer match the code", len(used))
	}
}
