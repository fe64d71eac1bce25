package carebook_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/keys"
)

// A new clinic signs up (its first administrator, group and practice in
// one transaction), a patient registers with it (an account, a new patient
// record and the self grant linking them), and the patient signs in. Every
// step writes its activity-log entry in its own transaction.
func ExampleEngine_RegisterPatient() {
	ctx := context.Background()
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

	clinic, err := e.SignUpClinic(ctx, carebook.ClinicSignUp{Email: "owner@harbor.example", Password: "a long passphrase 1", ClinicName: "Harbor Pediatrics"})
	if err != nil {
		fmt.Println(err)
		return
	}
	acct, rec, token, err := e.RegisterPatient(ctx, carebook.PatientSignUp{PracticeID: clinic.Practice.ID,
		Email: "ada@example.com", Password: "another passphrase 2", GivenName: "Ada", FamilyName: "Lovelace", BirthDate: "2015-12-10"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(clinic.Practice.Name, "has patient", rec.GivenName, rec.FamilyName, "with a verification token:", token != "")
	if _, err := e.Identity.VerifyEmail(ctx, token); err != nil {
		fmt.Println(err)
		return
	}
	_, sess, err := e.Login(ctx, identity.LoginRequest{Identifier: "ada@example.com", Password: "another passphrase 2", Device: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("signed in as a patient:", sess.AccountID == acct.ID && sess.Kind == identity.Patient)
	_, _, err = e.Login(ctx, identity.LoginRequest{Identifier: "ada@example.com", Password: "wrong", Device: "example"})
	fmt.Println("a wrong password:", err != nil)
	// Output:
	// Harbor Pediatrics has patient Ada Lovelace with a verification token: true
	// signed in as a patient: true
	// a wrong password: true
}
