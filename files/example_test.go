package files_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// oneKey hands every practice the same streaming AEAD; the keys package
// will keep a keyset per practice.
type oneKey struct{ aead tink.StreamingAEAD }

func (k oneKey) StreamingAEAD(context.Context, tenant.PracticeID) (tink.StreamingAEAD, error) {
	return k.aead, nil
}

// A practice stores a patient's referral letter in a local directory and
// reads it back; on disk the object is ciphertext under a random name.
func ExampleStore() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "carebook-files-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	master, err := keys.OpenFile(filepath.Join(dir, "master-key.json"))
	if err != nil {
		log.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "carebook.db"), sqlstore.WithMasterKey(master))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	bucket, err := files.OpenBucket(ctx, "file://"+filepath.ToSlash(filepath.Join(dir, "objects"))+"?create_dir=1")
	if err != nil {
		log.Fatal(err)
	}
	defer bucket.Close()
	h, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		log.Fatal(err)
	}
	aead, err := streamingaead.New(h)
	if err != nil {
		log.Fatal(err)
	}

	// A practice and its patient.
	now := time.Now()
	g := &tenant.Group{ID: uuid.New(), Name: "Riverside", CreatedAt: now}
	p := &tenant.Practice{ID: uuid.New(), GroupID: g.ID, Name: "Riverside Clinic", Policy: tenant.DefaultPolicy, CreatedAt: now}
	pt := &scheduling.Patient{ID: uuid.New(), PracticeID: p.ID, GivenName: "Pat", FamilyName: "Parker",
		BirthDate: "1980-02-29", Language: "en", CreatedAt: now, UpdatedAt: now}
	for _, err := range []error{db.Tenants.CreateGroup(ctx, g), db.Tenants.CreatePractice(ctx, p), db.Scheduling.CreatePatient(ctx, pt)} {
		if err != nil {
			log.Fatal(err)
		}
	}

	store := files.New(bucket, oneKey{aead}, db.Files, files.Options{})
	f, err := store.Put(ctx, p.ID, pt.ID, "referral.txt", "text/plain; charset=utf-8", strings.NewReader("Dear colleague, ..."))
	if err != nil {
		log.Fatal(err)
	}
	rc, err := store.Open(ctx, p.ID, f.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	text, err := io.ReadAll(rc)
	if err != nil {
		log.Fatal(err)
	}
	stored, err := bucket.ReadAll(ctx, f.ObjectKey)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Name, f.ContentType, f.Size, "bytes")
	fmt.Println(string(text))
	fmt.Println("object key of", len(f.ObjectKey), "hex digits; plaintext in the object:", strings.Contains(string(stored), "Dear colleague"))
	// Output:
	// referral.txt text/plain; charset=utf-8 19 bytes
	// Dear colleague, ...
	// object key of 64 hex digits; plaintext in the object: false
}
