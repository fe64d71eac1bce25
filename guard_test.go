package carebook_test

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// callerWith returns a context carrying a Caller whose account holds role
// at scope, as an embedder builds it from its own sign-in.
func callerWith(t testing.TB, c *clinic, role rbac.RoleID, scope rbac.Scope) context.Context {
	t.Helper()
	account := uuid.New()
	_, err := c.e.RBAC.GrantAsSystem(c.staff, rbac.NewGrant{AccountID: account, RoleID: role, Scope: scope})
	require.NoError(t, err)
	pr, err := c.e.RBAC.Principal(c.staff, account)
	require.NoError(t, err)
	ctx := carebook.WithRequest(context.Background(), carebook.Request{IP: "192.0.2.7", UserAgent: "embedder", ID: "req-1"})
	return carebook.WithCaller(ctx, carebook.Caller{Actor: actor.Actor{Kind: actor.Staff, ID: account.String()}, Principal: pr})
}

// entries returns the practice's activity-log entries of action.
func entries(t *testing.T, c *clinic, action string) []*audit.Entry {
	t.Helper()
	got, err := c.e.Audit.Query(c.staff, c.practice, audit.Filter{Action: action})
	require.NoError(t, err)
	return got
}

// TestGuardLogsEmbeddersPatientReads: a patient read through the Engine
// with a caller in the context writes its entry (allowed, naming the
// patient, the caller and the caller's role); without a caller it is
// refused and writes nothing; a caller without the permission, or of
// another practice, is refused and the denial is logged.
func TestGuardLogsEmbeddersPatientReads(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		desk := callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID))

		got, err := c.e.Patient(desk, c.practice, c.patient.ID)
		require.NoError(t, err)
		require.Equal(t, c.patient.ID, got.ID)
		reads := entries(t, c, "patient.read")
		require.Len(t, reads, 1)
		e := reads[0]
		require.Equal(t, audit.Allowed, e.Outcome)
		require.Equal(t, c.patient.ID, *e.PatientID)
		require.Equal(t, c.patient.ID.String(), e.ResourceID)
		require.Equal(t, rbac.FrontDesk, e.Role)
		require.Equal(t, "192.0.2.7", e.IP)
		require.Equal(t, "req-1", e.RequestID)
		who, _ := carebook.CallerFrom(desk)
		require.Equal(t, who.Actor.ID, e.Actor)

		// An access naming no practice or group is bad input, named.
		_, err = c.e.Authorize(desk, carebook.Access{Permission: rbac.PatientContactRead})
		require.Equal(t, errs.KindInvalid, errs.KindOf(err))
		var fe *errs.Error
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "practice_id", fe.Field)

		// No caller: refused, nothing read, nothing logged.
		_, err = c.e.Patient(context.Background(), c.practice, c.patient.ID)
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
		_, err = c.e.Patient(c.staff, c.practice, c.patient.ID) // an actor is no caller
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
		require.Len(t, entries(t, c, "patient.read"), 1)

		// Another patient's self grant does not reach this patient: 403,
		// and the denial is logged.
		other, err := c.e.Scheduling.CreatePatient(c.staff, c.practice, schedulingPatient("Alan", "Turing"))
		require.NoError(t, err)
		self := callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, other.ID))
		_, err = c.e.Patient(self, c.practice, c.patient.ID)
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))
		if _, err := c.e.Patient(self, c.practice, other.ID); err != nil {
			t.Fatalf("a patient reading their own record: %v", err)
		}

		// A caller of another practice learns nothing: 404, logged as
		// denied in the practice asked about.
		g2, err := c.e.Tenants.CreateGroup(c.staff, "Elsewhere Health")
		require.NoError(t, err)
		p2, err := c.e.Tenants.CreatePractice(c.staff, tenant.NewPractice{GroupID: g2.ID, Name: "Elsewhere"})
		require.NoError(t, err)
		stranger := callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(g2.ID, p2.ID))
		_, err = c.e.Patient(stranger, c.practice, c.patient.ID)
		require.Equal(t, errs.KindNotFound, errs.KindOf(err))

		var outcomes []audit.Outcome
		for _, e := range entries(t, c, "patient.read") {
			outcomes = append(outcomes, e.Outcome)
		}
		require.Equal(t, []audit.Outcome{audit.Allowed, audit.Denied, audit.Allowed, audit.Denied}, outcomes)
	})
}

// TestGuardWriteAndEntryCommitTogether: Guard's operation and its entry
// are one transaction; an operation that fails leaves a "failed" entry and
// nothing of its own.
func TestGuardWriteAndEntryCommitTogether(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		desk := callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID))
		access := carebook.Access{Permission: rbac.AppointmentBook, PracticeID: c.practice, PatientID: &c.patient.ID,
			Action: "appointment.book", ResourceType: "appointment"}
		start := c.at(3, 3, 10, 0)
		var booked uuid.UUID
		err = c.e.Guard(desk, access, func(ctx context.Context) (string, error) {
			a, err := c.e.Scheduling.Book(ctx, c.practice, bookRequest(c, start))
			if err != nil {
				return "", err
			}
			booked = a.ID
			return a.ID.String(), nil
		})
		require.NoError(t, err)
		got := entries(t, c, "appointment.book")
		require.Len(t, got, 1)
		require.Equal(t, booked.String(), got[0].ResourceID)
		require.Equal(t, audit.Allowed, got[0].Outcome)

		// The same time again conflicts: the booking is not written, and the
		// attempt is logged as failed, not allowed.
		err = c.e.Guard(desk, access, func(ctx context.Context) (string, error) {
			_, err := c.e.Scheduling.Book(ctx, c.practice, bookRequest(c, start))
			return "", err
		})
		require.Equal(t, errs.KindConflict, errs.KindOf(err))
		got = entries(t, c, "appointment.book")
		require.Len(t, got, 2)
		require.Equal(t, audit.Failed, got[1].Outcome)
		list, err := c.e.Store().Scheduling.ListAppointments(c.staff, c.practice, schedulingFilter(start))
		require.NoError(t, err)
		require.Len(t, list, 1)

		// An access named by its appointment acts on that appointment's
		// patient: another patient's self grant does not reach it.
		other, err := c.e.Scheduling.CreatePatient(c.staff, c.practice, schedulingPatient("Alan", "Turing"))
		require.NoError(t, err)
		self := callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, other.ID))
		read := carebook.Access{Permission: rbac.AppointmentRead, PracticeID: c.practice, AppointmentID: &booked,
			Action: "appointment.read", ResourceType: "appointment"}
		_, err = c.e.Authorize(self, read)
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))
		pm, err := c.e.Authorize(desk, read)
		require.NoError(t, err)
		require.NoError(t, pm.Do(desk, func(context.Context) (string, error) { return "", nil }))
		reads := entries(t, c, "appointment.read")
		require.Len(t, reads, 2)
		require.Equal(t, audit.Denied, reads[0].Outcome)
		require.Equal(t, c.patient.ID, *reads[0].PatientID)
		require.Equal(t, audit.Allowed, reads[1].Outcome)

		// Engine.Book is the same path: refused without a caller, logged
		// with one.
		later := start.Add(time.Hour)
		_, err = c.e.Book(c.staff, c.practice, bookRequest(c, later))
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(err))
		a, err := c.e.Book(desk, c.practice, bookRequest(c, later))
		require.NoError(t, err)
		got = entries(t, c, "appointment.book")
		require.Len(t, got, 3)
		require.Equal(t, a.ID.String(), got[2].ResourceID)
	})
}

// schedulingPatient is a new patient's details.
func schedulingPatient(given, family string) scheduling.PatientInput {
	return scheduling.PatientInput{GivenName: given, FamilyName: family, BirthDate: "1990-06-23", Language: "en"}
}

// bookRequest books the clinic's patient at start.
func bookRequest(c *clinic, start time.Time) scheduling.BookRequest {
	return scheduling.BookRequest{PatientID: c.patient.ID, ProviderID: c.provider, VisitTypeID: c.vt, Start: start}
}

// schedulingFilter keeps the appointments that overlap the half hour from
// start.
func schedulingFilter(start time.Time) scheduling.AppointmentFilter {
	return scheduling.AppointmentFilter{From: start, To: start.Add(30 * time.Minute)}
}

// TestDeny: an embedder's own refusal, even of a caller holding the
// permission, is logged as a denial naming the patient and answered 403;
// without a caller it is 401 and writes nothing.
func TestDeny(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		self := callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, c.patient.ID))
		a := carebook.Access{Permission: rbac.PatientClinicalRead, PracticeID: c.practice, PatientID: &c.patient.ID,
			Action: "chart.read", ResourceType: "chart", ResourceID: c.patient.ID.String()}
		err = c.e.Deny(self, a, "the staff chart is not the patient's")
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))
		got := entries(t, c, "chart.read")
		require.Len(t, got, 1)
		require.Equal(t, audit.Denied, got[0].Outcome)
		require.Equal(t, c.patient.ID, *got[0].PatientID)
		require.Equal(t, errs.KindUnauthenticated, errs.KindOf(c.e.Deny(context.Background(), a, "x")))
		require.Len(t, entries(t, c, "chart.read"), 1)
	})
}
