package carebook_test

import (
	"strings"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
)

// TestMovedCiphertext: a patient's sealed fields copied onto another
// patient's row in SQL do not open there: the read fails with KindConflict
// naming the row (no crash, no wrong patient shown), the attempt is logged
// as failed, and a "phi.unreadable" entry names the row; the patient the
// ciphertext came from still reads. The same holds for a ciphertext
// copied from another practice.
func TestMovedCiphertext(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		desk := callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID))
		victim, err := c.e.Scheduling.CreatePatient(c.staff, c.practice, schedulingPatient("Alan", "Turing"))
		require.NoError(t, err)

		copySealed := func(fromPractice, from, to string) {
			t.Helper()
			_, err := st.DB().ExecContext(c.staff, `UPDATE patients SET sealed = (SELECT sealed FROM patients WHERE practice_id = ? AND id = ?)
WHERE practice_id = ? AND id = ?`, fromPractice, from, c.practice.String(), to)
			require.NoError(t, err)
		}
		copySealed(c.practice.String(), c.patient.ID.String(), victim.ID.String())
		_, err = c.e.Patient(desk, c.practice, victim.ID)
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "%v", err)
		require.Contains(t, err.Error(), "patients.sealed of row "+victim.ID.String())
		got, err := c.e.Patient(desk, c.practice, c.patient.ID)
		require.NoError(t, err, "the patient the ciphertext came from")
		require.Equal(t, c.patient.GivenName, got.GivenName)

		unreadable := entries(t, c, carebook.ActionUnreadable)
		require.Len(t, unreadable, 1)
		require.Equal(t, audit.Failed, unreadable[0].Outcome)
		require.Equal(t, "patients.sealed", unreadable[0].ResourceType)
		require.Equal(t, victim.ID.String(), unreadable[0].ResourceID)
		who, _ := carebook.CallerFrom(desk)
		require.Equal(t, who.Actor.ID, unreadable[0].Actor)
		var outcomes []audit.Outcome
		for _, e := range entries(t, c, "patient.read") {
			outcomes = append(outcomes, e.Outcome)
		}
		require.Equal(t, []audit.Outcome{audit.Failed, audit.Allowed}, outcomes)

		// From another practice's patient: the practice is bound in too.
		other := newClinic(t, st)
		copySealed(other.practice.String(), other.patient.ID.String(), victim.ID.String())
		_, err = c.e.Scheduling.Patient(c.staff, c.practice, victim.ID)
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "%v", err)
		require.True(t, strings.Contains(err.Error(), "does not open"), "%v", err)
		require.Len(t, entries(t, c, carebook.ActionUnreadable), 2)
	})
}
