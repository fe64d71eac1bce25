package carebook_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Patient reads a patient for the caller on the context: the engine
// decides (here front desk may read contact details), and the read and its
// activity-log entry commit together. Without a caller it refuses.
func ExampleEngine_Patient() {
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.System, ID: "setup"})
	dir, err := os.MkdirTemp("", "carebook-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	// The master key seals patients' data; keep its file with the database.
	master, err := keys.OpenFile(filepath.Join(dir, "master-key.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := carebook.New(ctx, carebook.Config{DSN: "sqlite:" + filepath.Join(dir, "carebook.db"), Migrate: true, MasterKey: master},
		carebook.WithClock(clock.NewFixed(time.Date(2026, time.May, 4, 8, 0, 0, 0, time.UTC))))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()

	// A practice, one patient, and a front-desk account the embedder
	// signed in by its own means.
	desk := uuid.New()
	g, _, err := e.CreateGroupWithAdmin(ctx, "Harbor Health", uuid.New())
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := e.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Pediatrics"})
	if err != nil {
		fmt.Println(err)
		return
	}
	pat, err := e.Scheduling.CreatePatient(ctx, p.ID, scheduling.PatientInput{GivenName: "Ada", FamilyName: "Lovelace", BirthDate: "2015-12-10"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := e.RBAC.GrantAsSystem(ctx, rbac.NewGrant{AccountID: desk, RoleID: rbac.FrontDeskID, Scope: rbac.PracticeScope(g.ID, p.ID)}); err != nil {
		fmt.Println(err)
		return
	}
	pr, err := e.RBAC.Principal(ctx, desk)
	if err != nil {
		fmt.Println(err)
		return
	}

	_, err = e.Patient(context.Background(), p.ID, pat.ID)
	fmt.Println("without a caller:", err != nil)

	asDesk := carebook.WithCaller(context.Background(), carebook.Caller{Actor: actor.Actor{Kind: actor.Staff, ID: desk.String()}, Principal: pr})
	got, err := e.Patient(asDesk, p.ID, pat.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("read:", got.GivenName, got.FamilyName)
	log, err := e.Audit.Query(ctx, p.ID, audit.Filter{Action: "patient.read"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, en := range log {
		fmt.Println("logged:", en.Action, en.Outcome, en.Role, en.PatientID.String() == pat.ID.String())
	}
	// Output:
	// without a caller: true
	// read: Ada Lovelace
	// logged: patient.read allowed front_desk true
}
