package carebook_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
)

// TestBreakGlass: a clinician of one location cannot read a patient's
// chart; opening it by break-glass with a stated reason lets them read it,
// restricted entries included, but not write it, for one hour only; every
// read in that hour is logged with the role break_glass; the opening is
// logged once and told to the inbox; a practice-wide clinician sees the
// restricted entries only by break-glass; the front desk and the patient
// cannot break the glass, and bad reasons are refused naming the field.
func TestBreakGlass(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		locs, err := c.e.Tenants.Locations(c.staff, c.practice)
		require.NoError(t, err)
		admin := callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
		away := callerWith(t, c, rbac.ClinicianID, rbac.LocationScope(p.GroupID, p.ID, locs[0].ID))
		clinician := callerWith(t, c, rbac.ClinicianID, rbac.PracticeScope(p.GroupID, p.ID))
		desk := callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID))
		self := callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, c.patient.ID))
		pt := c.patient.ID
		now := c.clk.Now()

		_, err = c.e.WriteChart(clinician, c.practice, carebook.ChartWrite{PatientID: pt, Status: ehr.Active,
			Body: &ehr.Allergy{Substance: ehr.Coding{Display: "Penicillin"}, Type: "allergy", Category: "medication", Criticality: "high"}})
		require.NoError(t, err, "a clinician of the practice writes the chart")
		_, err = c.e.WriteChart(admin, c.practice, carebook.ChartWrite{PatientID: pt, Status: ehr.Active, Restricted: true,
			Body: &ehr.Problem{Coding: ehr.Coding{Display: "Depression"}, ClinicalStatus: "active"}})
		require.NoError(t, err)

		mine, err := c.e.Chart(clinician, c.practice, pt, ehr.ChartFilter{})
		require.NoError(t, err)
		require.Len(t, mine, 1, "the clinician does not see the restricted problem")
		_, err = c.e.Chart(away, c.practice, pt, ehr.ChartFilter{})
		require.Equal(t, errs.KindForbidden, errs.KindOf(err), "a location's clinician does not reach the patient: %v", err)

		for _, bad := range []string{"", "urgent", strings.Repeat("x", 1001)} {
			_, err = c.e.BreakGlass(away, c.practice, pt, bad)
			require.Equal(t, "reason", errs.FieldOf(err), "reason %.10q: %v", bad, err)
		}
		for name, who := range map[string]context.Context{"front desk": desk, "patient": self} {
			_, err = c.e.BreakGlass(who, c.practice, pt, "Unconscious, needs the allergy list.")
			require.Equal(t, errs.KindForbidden, errs.KindOf(err), "%s: %v", name, err)
		}
		_, err = c.e.BreakGlass(admin, c.practice, pt, "Unconscious, needs the allergy list.")
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "an admin reads the whole chart already: %v", err)
		_, err = c.e.BreakGlass(away, c.practice, c.e.IDs.New(), "Unconscious, needs the allergy list.")
		require.Equal(t, errs.KindNotFound, errs.KindOf(err), "an unknown patient: %v", err)

		b, err := c.e.BreakGlass(away, c.practice, pt, "Unconscious in the waiting room, needs the allergy list.")
		require.NoError(t, err)
		require.True(t, now.Add(time.Hour).Equal(b.ExpiresAt), "ends in an hour: %v", b.ExpiresAt)
		_, err = c.e.BreakGlass(away, c.practice, pt, "Unconscious in the waiting room, once more.")
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "still in force: %v", err)

		opened, err := c.e.Chart(away, c.practice, pt, ehr.ChartFilter{})
		require.NoError(t, err)
		require.Len(t, opened, 2, "the allergy and the restricted problem")
		_, err = c.e.Patient(away, c.practice, pt)
		require.NoError(t, err, "who the patient is")
		_, err = c.e.WriteChart(away, c.practice, carebook.ChartWrite{PatientID: pt, Status: ehr.Active,
			Body: &ehr.Problem{Coding: ehr.Coding{Display: "x"}, ClinicalStatus: "active"}})
		require.Equal(t, errs.KindForbidden, errs.KindOf(err), "break-glass reads, never writes: %v", err)
		// The same account, its clinician grant gone (now at the front
		// desk): the opening lends it nothing any more.
		awayCaller, _ := carebook.CallerFrom(away)
		acct := awayCaller.Principal.Account()
		demoted, err := rbac.NewPrincipal(acct, []*rbac.Grant{{ID: c.e.IDs.New(), AccountID: acct, RoleID: rbac.FrontDeskID,
			Scope: rbac.PracticeScope(p.GroupID, p.ID)}}, nil)
		require.NoError(t, err)
		_, err = c.e.Chart(carebook.WithCaller(context.Background(), carebook.Caller{Actor: awayCaller.Actor, Principal: demoted}),
			c.practice, pt, ehr.ChartFilter{})
		require.Equal(t, errs.KindForbidden, errs.KindOf(err), "a grant revoked ends the access: %v", err)

		c.clk.Advance(time.Minute)
		_, err = c.e.BreakGlass(clinician, c.practice, pt, "The restricted problem matters for this prescription.")
		require.NoError(t, err)
		wide, err := c.e.Chart(clinician, c.practice, pt, ehr.ChartFilter{})
		require.NoError(t, err)
		require.Len(t, wide, 2, "the restricted problem by break-glass")

		c.clk.Advance(time.Hour)
		_, err = c.e.Chart(away, c.practice, pt, ehr.ChartFilter{})
		require.Equal(t, errs.KindForbidden, errs.KindOf(err), "the hour is over: %v", err)
		wide, err = c.e.Chart(clinician, c.practice, pt, ehr.ChartFilter{})
		require.NoError(t, err)
		require.Len(t, wide, 1, "the restricted problem is hidden again")

		var roles []string
		for _, en := range entries(t, c, "chart.read") {
			roles = append(roles, string(en.Outcome)+":"+en.Role)
		}
		require.Equal(t, []string{
			"allowed:clinician",                     // the clinician's first read
			"denied:clinician",                      // the location's clinician
			"allowed:clinician,break_glass",         // by break-glass
			"denied:front_desk",                     // the same account, demoted
			"allowed:clinician,break_glass",         // the clinician's restricted view
			"denied:clinician", "allowed:clinician", // after the hour
		}, roles)
		glass := entries(t, c, "chart.breakglass")
		outcomes := map[audit.Outcome]int{}
		for _, en := range glass {
			require.NotNil(t, en.PatientID, "each names the patient")
			outcomes[en.Outcome]++
		}
		require.Equal(t, map[audit.Outcome]int{audit.Allowed: 2, audit.Denied: 2, audit.Failed: 6}, outcomes)

		inbox, err := c.e.Notify.Inbox(c.staff, c.practice, true, nil, 0)
		require.NoError(t, err)
		notices := 0
		for _, m := range inbox {
			if m.Kind == notify.KindBreakGlass {
				notices++
				require.Contains(t, m.Text, pt.String())
				require.NotContains(t, m.Text, "waiting room", "the reason is for the review, not the inbox")
			}
		}
		require.Equal(t, 2, notices)

		review, err := c.e.BreakGlassReview(admin, c.practice, now.Add(-time.Hour), now.Add(2*time.Hour))
		require.NoError(t, err)
		require.Len(t, review, 2)
		require.Equal(t, "Unconscious in the waiting room, needs the allergy list.", review[1].Reason)
		// After a rotation, Reseal seals the reasons with the new key, and
		// they still read back.
		require.NoError(t, c.e.Keys.Rotate(c.staff, c.practice))
		primary, err := c.e.Keys.PrimaryKeyID(c.staff, c.practice)
		require.NoError(t, err)
		_, err = c.e.Reseal(c.staff, c.practice)
		require.NoError(t, err)
		var resealed int
		require.NoError(t, st.DB().QueryRowContext(c.staff, `SELECT COUNT(*) FROM ehr_break_glass WHERE practice_id = ? AND sealed_key = ?`,
			c.practice, int64(primary)).Scan(&resealed))
		require.Equal(t, 2, resealed)
		review, err = c.e.BreakGlassReview(admin, c.practice, now.Add(-time.Hour), now.Add(2*time.Hour))
		require.NoError(t, err)
		require.Equal(t, "The restricted problem matters for this prescription.", review[0].Reason)

		_, err = c.e.BreakGlassReview(away, c.practice, now, now.Add(time.Hour))
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))
		_, err = c.e.BreakGlassReview(admin, c.practice, now, now)
		require.Equal(t, "to", errs.FieldOf(err))
	})
}
