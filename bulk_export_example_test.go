package carebook_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// StartExport accepts a bulk export of a practice for its administrator;
// RunExports (the job RegisterJobs runs with JobsConfig.FHIRExports) writes
// it, one sealed NDJSON file a resource type; OpenExportFile reads a file
// back, decrypted, for the same administrator.
func ExampleEngine_StartExport() {
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.System, ID: "setup"})
	dir, err := os.MkdirTemp("", "carebook-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	master, err := keys.OpenFile(filepath.Join(dir, "master-key.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	bucket, err := files.OpenBucket(ctx, "file://"+filepath.ToSlash(filepath.Join(dir, "files"))+"?create_dir=1")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bucket.Close()
	e, err := carebook.New(ctx, carebook.Config{DSN: "sqlite:" + filepath.Join(dir, "carebook.db"), Migrate: true, MasterKey: master},
		carebook.WithClock(clock.NewFixed(time.Date(2026, time.May, 4, 8, 0, 0, 0, time.UTC))), carebook.WithFiles(bucket, files.Options{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()

	admin := uuid.New()
	g, _, err := e.CreateGroupWithAdmin(ctx, "Harbor Health", admin)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := e.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Pediatrics"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range []string{"Ada", "Alan"} {
		if _, err := e.Scheduling.CreatePatient(ctx, p.ID, scheduling.PatientInput{GivenName: name, FamilyName: "Lovelace", BirthDate: "2015-12-10"}); err != nil {
			fmt.Println(err)
			return
		}
	}
	pr, err := e.RBAC.Principal(ctx, admin)
	if err != nil {
		fmt.Println(err)
		return
	}
	asAdmin := carebook.WithCaller(ctx, carebook.Caller{Actor: actor.Actor{Kind: actor.Staff, ID: admin.String()}, Principal: pr})

	x, err := e.StartExport(asAdmin, p.ID, carebook.ExportRequest{Types: []string{"Patient", "Organization"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x.State, pr.Can(rbac.PatientRightsManage, rbac.Target{GroupID: g.ID, PracticeID: p.ID}))
	if _, err := e.RunExports(ctx); err != nil {
		fmt.Println(err)
		return
	}
	done, err := e.ExportStatus(asAdmin, p.ID, x.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(done.State, done.ExpiresAt.Sub(*done.FinishedAt))
	for _, o := range done.Outputs {
		_, rc, err := e.OpenExportFile(asAdmin, p.ID, x.ID, o.ID)
		if err != nil {
			fmt.Println(err)
			return
		}
		lines := 0
		for sc := bufio.NewScanner(rc); sc.Scan(); {
			lines++
		}
		rc.Close()
		fmt.Println(o.Type, o.Count, lines)
	}
	// Output:
	// accepted true
	// complete 24h0m0s
	// Patient 2 2
	// Organization 1 1
}
