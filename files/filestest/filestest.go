// Package filestest is the conformance suite of files.MetaStore: every
// implementation runs Run against a fresh database.
package filestest

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/internal/patienttest"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Stores are what the suite works on: the store under test, and the stores
// it makes practices and patients with (files belong to both).
type Stores struct {
	Meta     files.MetaStore
	Tenants  tenant.Store
	Patients interface {
		CreatePatient(ctx context.Context, p *scheduling.Patient) error
	}
}

// Fixture is a practice with a patient, made in Stores.
type Fixture = patienttest.Fixture

var epoch = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// NewFixture makes a group, a practice and a patient of it.
func NewFixture(t testing.TB, s Stores) Fixture {
	t.Helper()
	return patienttest.NewFixture(t, patienttest.Makers{Tenants: s.Tenants, Patients: s.Patients}, epoch)
}

// NewPatient makes another patient of practice.
func NewPatient(t testing.TB, s Stores, practice tenant.PracticeID) Fixture {
	t.Helper()
	return patienttest.NewPatient(t, patienttest.Makers{Tenants: s.Tenants, Patients: s.Patients}, practice, epoch)
}

// Run runs the conformance suite; open returns fresh stores for each test.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	ctx := context.Background()
	newFile := func(fx Fixture, name string, at time.Time) *files.File {
		return &files.File{ID: newID(), PracticeID: fx.Practice, PatientID: fx.Patient, Name: name,
			ContentType: "application/pdf", Size: 1234, ObjectKey: uuid.NewString(), CreatedAt: at}
	}

	t.Run("create, get, list and delete", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		f1 := newFile(fx, "Référence — Dr Ng.pdf", epoch.Add(time.Minute+123456789*time.Nanosecond))
		f2 := newFile(fx, "scan.png", epoch)
		for _, f := range []*files.File{f1, f2} {
			if err := s.Meta.CreateFile(ctx, f); err != nil {
				t.Fatalf("CreateFile(%s): %v", f.Name, err)
			}
		}
		got, err := s.Meta.GetFile(ctx, fx.Practice, f1.ID)
		if err != nil {
			t.Fatalf("GetFile: %v", err)
		}
		want := *f1
		want.CreatedAt = f1.CreatedAt.Truncate(time.Microsecond)
		if *got != want {
			t.Errorf("GetFile = %+v, want %+v", *got, want)
		}
		list, err := s.Meta.ListPatientFiles(ctx, fx.Practice, fx.Patient)
		if err != nil {
			t.Fatalf("ListPatientFiles: %v", err)
		}
		if len(list) != 2 || list[0].ID != f2.ID || list[1].ID != f1.ID {
			t.Errorf("ListPatientFiles = %v, want [%s %s] (oldest first)", list, f2.Name, f1.Name)
		}
		if err := s.Meta.DeleteFile(ctx, fx.Practice, f1.ID); err != nil {
			t.Fatalf("DeleteFile: %v", err)
		}
		if _, err := s.Meta.GetFile(ctx, fx.Practice, f1.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("GetFile after DeleteFile: %v, want KindNotFound", err)
		}
		if err := s.Meta.DeleteFile(ctx, fx.Practice, f1.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("DeleteFile again: %v, want KindNotFound", err)
		}
	})

	t.Run("scoped to the practice", func(t *testing.T) {
		s := open(t)
		a, b := NewFixture(t, s), NewFixture(t, s)
		f := newFile(a, "a.pdf", epoch)
		if err := s.Meta.CreateFile(ctx, f); err != nil {
			t.Fatalf("CreateFile: %v", err)
		}
		if _, err := s.Meta.GetFile(ctx, b.Practice, f.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("GetFile from another practice: %v, want KindNotFound", err)
		}
		if list, err := s.Meta.ListPatientFiles(ctx, b.Practice, a.Patient); err != nil || len(list) != 0 {
			t.Errorf("ListPatientFiles from another practice = %v, %v; want none", list, err)
		}
		if err := s.Meta.DeleteFile(ctx, b.Practice, f.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("DeleteFile from another practice: %v, want KindNotFound", err)
		}
		if _, err := s.Meta.GetFile(ctx, a.Practice, f.ID); err != nil {
			t.Errorf("the file is gone after another practice's DeleteFile: %v", err)
		}
	})

	t.Run("the patient must be of the practice", func(t *testing.T) {
		s := open(t)
		a, b := NewFixture(t, s), NewFixture(t, s)
		for name, patient := range map[string]scheduling.PatientID{"another practice's": b.Patient, "unknown": newID()} {
			f := newFile(a, "x.pdf", epoch)
			f.PatientID = patient
			if err := s.Meta.CreateFile(ctx, f); !errs.Is(err, errs.KindNotFound) {
				t.Errorf("CreateFile for %s patient: %v, want KindNotFound", name, err)
			}
		}
	})

	t.Run("ID and object key are unique", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		f := newFile(fx, "a.pdf", epoch)
		if err := s.Meta.CreateFile(ctx, f); err != nil {
			t.Fatalf("CreateFile: %v", err)
		}
		sameID := newFile(fx, "b.pdf", epoch)
		sameID.ID = f.ID
		sameKey := newFile(fx, "c.pdf", epoch)
		sameKey.ObjectKey = f.ObjectKey
		for name, g := range map[string]*files.File{"ID": sameID, "object key": sameKey} {
			if err := s.Meta.CreateFile(ctx, g); !errs.Is(err, errs.KindConflict) {
				t.Errorf("CreateFile with a taken %s: %v, want KindConflict", name, err)
			}
		}
	})

	t.Run("a negative size breaks the schema", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		f := newFile(fx, "a.pdf", epoch)
		f.Size = -1
		if err := s.Meta.CreateFile(ctx, f); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("CreateFile with size -1: %v, want KindInvalid", err)
		}
	})
}
