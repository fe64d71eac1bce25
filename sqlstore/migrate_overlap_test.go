package sqlstore_test

import (
	"context"
	"errors"
	"io/fs"
	"testing"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestPatientOverlapMigration runs the migration that brings in the
// patient's one-visit-at-a-time rule on a database that already holds a
// patient's overlapping visits: it must not fail, it marks the later booked
// of each overlap as allowed (with a history entry), and the rule holds
// afterwards.
func TestPatientOverlapMigration(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		f := mustFixture(t, s)
		prov2 := *f.prov
		prov2.ID, prov2.NPI = newID(), "1234567893"
		ok(t, s.Scheduling.CreateProvider(ctx, &prov2), "CreateProvider")
		blk2 := *f.blk
		blk2.ID, blk2.ProviderID = newID(), prov2.ID
		ok(t, s.Scheduling.CreateBlock(ctx, &blk2), "CreateBlock")
		other := *f.pat
		other.ID = newID()
		ok(t, s.Scheduling.CreatePatient(ctx, &other), "CreatePatient")

		// Booked in this order (created_at): the first keeps the rule.
		mk := func(n int, start time.Time, mods ...func(*scheduling.Appointment)) *scheduling.Appointment {
			a := f.appt(start, false)
			a.CreatedAt = day0.Add(time.Duration(n) * time.Minute)
			a.AllowPatientOverlap = true // how the overlaps get in, before the rule is undone below
			for _, m := range mods {
				m(a)
			}
			ok(t, s.Scheduling.InsertAppointment(ctx, a), "InsertAppointment")
			return a
		}
		onProv2 := func(a *scheduling.Appointment) { a.ProviderID, a.BlockID = prov2.ID, blk2.ID }
		first := mk(1, at(0, 15, 0))                                                  // 15:00–15:30
		second := mk(2, at(0, 15, 15), onProv2)                                       // overlaps first
		third := mk(3, at(0, 15, 20), func(a *scheduling.Appointment) { a.Seat = 2 }) // a second seat, same patient
		canceled := mk(4, at(0, 15, 0), onProv2, func(a *scheduling.Appointment) {
			a.Seat, a.Status, a.Start, a.End, a.HoldStart, a.HoldEnd = 2, scheduling.StatusCanceled, at(0, 15, 0), at(0, 15, 10), at(0, 15, 0), at(0, 15, 10)
		})
		touching := mk(5, at(0, 16, 0), onProv2) // 16:00–16:30, touches nothing
		stranger := mk(6, at(0, 16, 0), func(a *scheduling.Appointment) { a.PatientID = other.ID })

		// The database as it was before the rule: no column, no constraint.
		run(t, s, "20261201000300_patient_overlap.tx.down.sql")
		run(t, s, "20261201000300_patient_overlap.tx.up.sql")

		for _, a := range []*scheduling.Appointment{first, second, third, canceled, touching, stranger} {
			got, err := s.Scheduling.GetAppointment(ctx, f.p.ID, a.ID)
			ok(t, err, "GetAppointment")
			want := a.ID == second.ID || a.ID == third.ID
			if got.AllowPatientOverlap != want {
				t.Errorf("appointment booked %v: AllowPatientOverlap = %v, want %v", a.CreatedAt, got.AllowPatientOverlap, want)
			}
			h, err := s.Scheduling.ListChanges(ctx, f.p.ID, a.ID)
			ok(t, err, "ListChanges")
			if want != (len(h) == 1) {
				t.Errorf("appointment booked %v: history %+v", a.CreatedAt, h)
			}
			if len(h) == 1 && (h[0].Action != "allow-patient-overlap" || h[0].By != "system:migration" || !h[0].AllowPatientOverlap ||
				h[0].From != a.Status || h[0].To != a.Status || h[0].Reason == "") {
				t.Errorf("history entry = %+v", h[0])
			}
		}
		// The rule holds now: a new visit over the first is refused.
		a := f.appt(at(0, 15, 0), false)
		a.ProviderID, a.BlockID, a.Seat = prov2.ID, blk2.ID, 2
		if err := s.Scheduling.InsertAppointment(ctx, a); !errors.Is(err, scheduling.ErrPatientBusy) {
			t.Errorf("InsertAppointment over the first visit after the migration: %v, want ErrPatientBusy", err)
		}
	})
}

// run executes one migration file of s's dialect.
func run(t *testing.T, s *sqlstore.Store, name string) {
	t.Helper()
	fsys, err := sqlstore.MigrationsFS(s.Dialect())
	ok(t, err, "MigrationsFS")
	b, err := fs.ReadFile(fsys, name)
	ok(t, err, "ReadFile")
	_, err = s.DB().ExecContext(context.Background(), string(b))
	ok(t, err, name)
}
