// Package patienttest makes the practices and patients that the
// conformance suites of patient-owned data (files, the chart) start from.
package patienttest

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Makers are the stores the fixtures are made in.
type Makers struct {
	Tenants  tenant.Store
	Patients interface {
		CreatePatient(ctx context.Context, p *scheduling.Patient) error
	}
}

// Fixture is a practice with a patient.
type Fixture struct {
	Practice tenant.PracticeID
	Patient  scheduling.PatientID
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// NewFixture makes a group, a practice and a patient of it, created at at.
func NewFixture(t testing.TB, m Makers, at time.Time) Fixture {
	t.Helper()
	ctx := context.Background()
	g := &tenant.Group{ID: newID(), Name: "Group", CreatedAt: at}
	if err := m.Tenants.CreateGroup(ctx, g); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	p := &tenant.Practice{ID: newID(), GroupID: g.ID, Name: "Practice", Policy: tenant.DefaultPolicy, CreatedAt: at}
	if err := m.Tenants.CreatePractice(ctx, p); err != nil {
		t.Fatalf("CreatePractice: %v", err)
	}
	return NewPatient(t, m, p.ID, at)
}

// NewPatient makes another patient of practice, created at at.
func NewPatient(t testing.TB, m Makers, practice tenant.PracticeID, at time.Time) Fixture {
	t.Helper()
	pt := &scheduling.Patient{ID: newID(), PracticeID: practice, GivenName: "Pat", FamilyName: "Parker",
		BirthDate: "1980-02-29", Phone: "+12025550143", Email: "pat@example.com", Language: "en",
		CreatedAt: at, UpdatedAt: at}
	if err := m.Patients.CreatePatient(context.Background(), pt); err != nil {
		t.Fatalf("CreatePatient: %v", err)
	}
	return Fixture{Practice: practice, Patient: pt.ID}
}
