package carebook_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestWithTaxonomy: an Engine names specialties by the curated table unless
// given a loaded one; two Engines in one process with different taxonomies
// answer each their own, concurrently, and the package's table is
// untouched.
func TestWithTaxonomy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nucc.csv")
	csv := "Code,Grouping,Classification,Specialization,Definition,Notes,Display Name,Section\n" +
		"363LF0000X,PA & APN,Nurse Practitioner,Family,Test.,,Family Nurse Practitioner,Individual\n"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	tx, err := carebook.LoadTaxonomyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	plain := carebook.NewWithStore(sqltest.SQLite(t), carebook.WithTaxonomy(nil))
	full := carebook.NewWithStore(sqltest.SQLite(t), carebook.WithTaxonomy(tx))
	if plain.Taxonomy != directory.DefaultTaxonomy() || full.Taxonomy != tx {
		t.Fatalf("Taxonomy: %p and %p, want the default and the loaded", plain.Taxonomy, full.Taxonomy)
	}
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			e, want := plain, false
			if i%2 == 1 {
				e, want = full, true
			}
			for range 200 {
				if _, ok := e.Taxonomy.Lookup("363LF0000X"); ok != want {
					t.Errorf("engine %d found the loaded code: %v, want %v", i%2, ok, want)
					return
				}
				if s, _ := e.Taxonomy.Lookup("207Q00000X"); s.Name != "Family Medicine" {
					t.Errorf("curated code named %q", s.Name)
					return
				}
			}
		})
	}
	wg.Wait()
	if _, ok := directory.LookupSpecialty("363LF0000X"); ok {
		t.Error("the package's curated table has the loaded code")
	}

	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("Code,Classification\nnope,Family\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := carebook.LoadTaxonomyFile(bad); err == nil || !strings.Contains(err.Error(), "bad.csv") || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("LoadTaxonomyFile(bad) = %v, want the file and the line named", err)
	}
}
