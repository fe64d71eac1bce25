package audit_test

import (
	"io"
	"strings"
	"testing"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
)

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"audit/p/2031-03-10.jsonl.gz": true,
		"a":                           true,
		"":                            false,
		"/abs":                        false,
		"a//b":                        false,
		"a/../b":                      false,
		"..":                          false,
		"a/./b":                       false,
		"a\\b":                        false,
		"a b":                         false,
		"a/":                          false,
	} {
		if got := audit.ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestDirArchive(t *testing.T) {
	ctx := t.Context()
	a, err := audit.NewDirArchive(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, "x/y.txt", strings.NewReader("one")); err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, "x/y.txt", strings.NewReader("one")); err != nil {
		t.Fatalf("Put of the same content again = %v, want nil", err)
	}
	if err := a.Put(ctx, "x/y.txt", strings.NewReader("two")); !errs.Is(err, errs.KindConflict) {
		t.Fatalf("Put of other content = %v, want a conflict", err)
	}
	r, err := a.Get(ctx, "x/y.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "one" {
		t.Fatalf("Get = %q, want the first content", b)
	}
	if _, err := a.Get(ctx, "x/none"); !errs.Is(err, errs.KindNotFound) {
		t.Fatalf("Get of a missing name = %v, want not found", err)
	}
	if err := a.Put(ctx, "../escape", strings.NewReader("x")); !errs.Is(err, errs.KindInvalid) {
		t.Fatalf("Put of ../escape = %v, want invalid", err)
	}
}
