package files_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/files"
)

func TestOpenBucket(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, c := range []struct {
		name, url string
		ok        bool
	}{
		{"a directory", "file://" + filepath.ToSlash(dir), true},
		{"a directory made on first use", "file://" + filepath.ToSlash(filepath.Join(dir, "new")) + "?create_dir=1", true},
		{"S3 with an endpoint", "s3://bucket?endpoint=http://127.0.0.1:1&region=us-east-1&use_path_style=true", true},
		{"a missing directory", "file://" + filepath.ToSlash(filepath.Join(dir, "missing")), false},
		{"an unknown S3 parameter", "s3://bucket?colour=blue", false},
		{"an unknown scheme", "gopher://bucket", false},
		{"no scheme", "bucket", false},
	} {
		b, err := files.OpenBucket(ctx, c.url)
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !c.ok && (!errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "url"):
			t.Errorf("%s: %v, want KindInvalid on url", c.name, err)
		}
		if b != nil {
			_ = b.Close()
		}
	}
}
