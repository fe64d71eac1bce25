package files

import (
	"context"

	"github.com/carebook/carebook/errs"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:///dir
	_ "gocloud.dev/blob/s3blob"   // s3://bucket?...
)

// OpenBucket opens the bucket named by url:
//
//   - "file:///path/to/dir" is a local directory (add "?create_dir=1" to
//     make it on first use);
//   - "s3://bucket?region=…" is S3; for an S3-compatible server add
//     "endpoint=http://host:port&use_path_style=true". Credentials come
//     from the AWS SDK's usual sources (AWS_ACCESS_KEY_ID and
//     AWS_SECRET_ACCESS_KEY, a profile, an instance role).
//
// The caller closes the bucket.
func OpenBucket(ctx context.Context, url string) (*blob.Bucket, error) {
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		return nil, errs.WithField(errs.Wrap(errs.KindInvalid, "files.OpenBucket", "cannot open the bucket: "+err.Error(), err), "url")
	}
	return b, nil
}
