package carebook_test

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
)

// TestRegisterPatient: a sign-up writes the account, a new patient record
// and the self grant linking them, with one entry, or nothing at all (bad
// input of the record leaves the email free); it never claims an existing
// record of the same email; the new patient's own record is the one the
// grant names.
func TestRegisterPatient(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.System, ID: "test"})
		e := carebook.NewWithStore(st, carebook.WithClock(clock.NewFixed(time.Date(2030, 3, 4, 15, 0, 0, 0, time.UTC))),
			carebook.WithIdentityConfig(identity.Config{Argon2: fastArgon2}))
		g, err := e.Tenants.CreateGroup(ctx, "Harbor Health")
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Pediatrics"})
		if err != nil {
			t.Fatal(err)
		}
		existing, err := e.Scheduling.CreatePatient(ctx, p.ID, scheduling.PatientInput{GivenName: "Ada", FamilyName: "Byron",
			BirthDate: "1990-12-10", Email: "ada@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		in := carebook.PatientSignUp{PracticeID: p.ID, Email: "ada@example.com", Password: "correct horse battery",
			GivenName: "Ada", FamilyName: "Lovelace", BirthDate: "1985-12-10"}
		for _, tc := range []struct {
			edit  func(*carebook.PatientSignUp)
			kind  errs.Kind
			field string
		}{
			{func(s *carebook.PatientSignUp) { s.BirthDate = "10/12/1815" }, errs.KindInvalid, "birth_date"},
			{func(s *carebook.PatientSignUp) { s.GivenName = "" }, errs.KindInvalid, "given_name"},
			{func(s *carebook.PatientSignUp) { s.Phone = "12" }, errs.KindInvalid, "phone"},
			{func(s *carebook.PatientSignUp) { s.Password = "short" }, errs.KindInvalid, "password"},
			{func(s *carebook.PatientSignUp) { s.Email = "" }, errs.KindInvalid, "email"},
		} {
			bad := in
			tc.edit(&bad)
			_, _, _, err := e.RegisterPatient(context.Background(), bad)
			if errs.KindOf(err) != tc.kind || errs.FieldOf(err) != tc.field {
				t.Errorf("%+v: %v, want %v naming %s", bad, err, tc.kind, tc.field)
			}
		}
		acct, pt, tok, err := e.RegisterPatient(context.Background(), in)
		if err != nil {
			t.Fatalf("the email is not free after the refused sign-ups: %v", err)
		}
		if pt.ID == existing.ID || pt.FamilyName != "Lovelace" || tok == "" || acct.EmailVerifiedAt != nil {
			t.Fatalf("record %+v (existing %s), token %q, account %+v", pt, existing.ID, tok, acct)
		}
		if _, _, _, err := e.RegisterPatient(context.Background(), in); errs.KindOf(err) != errs.KindConflict || errs.FieldOf(err) != "email" {
			t.Fatalf("a second sign-up: %v, want a conflict naming email", err)
		}
		pr, err := e.RBAC.Principal(ctx, acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		caller := carebook.WithCaller(context.Background(), carebook.Caller{Actor: actor.Actor{Kind: actor.Patient, ID: acct.ID.String()}, Principal: pr})
		own, err := e.OwnPatient(caller, p.ID)
		if err != nil || own != pt.ID {
			t.Fatalf("OwnPatient = %s, %v; want %s", own, err, pt.ID)
		}
		t0 := rbac.Target{GroupID: g.ID, PracticeID: p.ID, PatientID: &existing.ID}
		if pr.Can(rbac.AppointmentBook, t0) {
			t.Fatal("the new account may book for the existing record of its email")
		}
		entries, err := e.Audit.Query(ctx, p.ID, audit.Filter{Action: "patient.register"})
		if err != nil || len(entries) != 1 || entries[0].Actor != acct.ID.String() || *entries[0].PatientID != pt.ID {
			t.Fatalf("entries: %+v, %v", entries, err)
		}
		staff := carebook.WithCaller(context.Background(), carebook.Caller{Actor: actor.Actor{Kind: actor.Staff, ID: "x"}})
		if _, err := e.OwnPatient(staff, p.ID); errs.KindOf(err) != errs.KindForbidden {
			t.Fatalf("OwnPatient of an account with no record: %v, want forbidden", err)
		}
	})
}
