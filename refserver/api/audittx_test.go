package api

import (
	"context"
	"testing"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/scheduling"
	"github.com/google/uuid"
)

// TestPatientDataWriteAndEntryShareATransaction checks that a route that
// writes patient data records its "allowed" entry in the write's
// transaction: while appending to the activity log fails, a booking and a
// new patient are refused and leave nothing behind; once it works, the
// entry names the record written; and a write that fails is recorded as a
// failed attempt.
func TestPatientDataWriteAndEntryShareATransaction(t *testing.T) {
	m := newMatrixEnv(t)
	ctx := context.Background()
	base := "/api/v1/practices/" + m.a.practice
	desk := bearer(m.token("front_desk_A"))
	book := map[string]any{"patient_id": m.a.patient, "provider_id": m.a.provider, "visit_type_id": m.a.visitType,
		"start": "2030-03-05T10:00:00-05:00"}
	count := func() (appointments, patients int) {
		t.Helper()
		as, err := m.st.Scheduling.ListAppointments(ctx, m.practice, scheduling.AppointmentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		ps, err := m.st.Scheduling.ListPatients(ctx, m.practice, scheduling.PatientFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(as), len(ps)
	}
	appointments, patients := count()
	booked := len(m.entries("appointment.book"))

	exec := func(q string) {
		t.Helper()
		if _, err := m.st.DB().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`CREATE TRIGGER audit_down BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'the activity log is down'); END`)
	m.problem(m.do("POST", base+"/appointments", book, desk), 500, "")
	m.problem(m.do("POST", base+"/patients", map[string]any{"given_name": "Ada", "family_name": "Byron",
		"birth_date": "1985-12-10", "phone": "+12025550145"}, desk), 500, "")
	if a, p := count(); a != appointments || p != patients {
		t.Errorf("with the activity log down: %d appointments, %d patients stored; want %d, %d", a, p, appointments, patients)
	}
	exec(`DROP TRIGGER audit_down`)

	ap := m.ok(m.do("POST", base+"/appointments", book, desk), 201)
	if a, _ := count(); a != appointments+1 {
		t.Errorf("%d appointments stored, want %d", a, appointments+1)
	}
	got := m.entries("appointment.book")
	if len(got) != booked+1 {
		t.Fatalf("appointment.book entries = %d, want %d", len(got), booked+1)
	}
	if e := got[len(got)-1]; e.Outcome != audit.Allowed || e.ResourceID != str(ap, "id") || e.PatientID == nil ||
		e.PatientID.String() != m.a.patient || e.Role != "front_desk" {
		t.Errorf("allowed entry = %+v", e)
	}

	// The time is taken now: the attempt fails, and is recorded so.
	m.problem(m.do("POST", base+"/appointments", book, desk), 409, "start")
	got = m.entries("appointment.book")
	if len(got) != booked+2 || got[len(got)-1].Outcome != audit.Failed || got[len(got)-1].ResourceID != "" {
		t.Errorf("appointment.book entries after a conflict = %+v", got[booked:])
	}
	// So is a write refused before it reached the service.
	m.problem(m.do("POST", base+"/appointments/"+m.a.appointment+"/status", map[string]any{"status": ""}, desk), 400, "status")
	st := m.entries("appointment.status")
	if len(st) != 1 || st[0].Outcome != audit.Failed || st[0].ResourceID != m.a.appointment {
		t.Errorf("appointment.status entries = %+v", st)
	}
	if _, err := m.engine.Audit.Verify(ctx, uuid.MustParse(m.a.practice)); err != nil {
		t.Errorf("Verify: %v", err)
	}
}
