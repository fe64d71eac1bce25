package carebook_test

import (
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestRightsThroughTheGuard walks the patient's rights through the
// Engine, on SQLite and PostgreSQL: the patient requests an amendment of
// their chart and a copy of their record; the front desk is refused; an
// administrator extends, denies, and rebuts the patient's disagreement;
// the overdue lists follow the clock; a disclosure is recorded and
// reported over 6 years; bad input names its field and is KindConflict in
// the wrong state; every access writes exactly one entry naming the
// patient and the category.
func TestRightsThroughTheGuard(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		admin := callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
		desk := callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID))
		self := callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, c.patient.ID))
		pt := c.patient.ID
		other, err := c.e.Scheduling.CreatePatient(c.staff, c.practice, scheduling.PatientInput{GivenName: "Alan", FamilyName: "Turing",
			BirthDate: "2014-06-23", Language: "en"})
		require.NoError(t, err)

		problem, err := c.e.WriteChart(admin, c.practice, carebook.ChartWrite{PatientID: pt, Status: ehr.Active,
			Body: &ehr.Problem{Coding: ehr.Coding{Display: "Asthma"}, ClinicalStatus: "active"}})
		require.NoError(t, err)
		hidden, err := c.e.WriteChart(admin, c.practice, carebook.ChartWrite{PatientID: pt, Status: ehr.Active, Restricted: true,
			Body: &ehr.Problem{Coding: ehr.Coding{Display: "Depression"}, ClinicalStatus: "active"}})
		require.NoError(t, err)

		// Requests: bad input names its field; a restricted entry is not the patient's to name.
		_, err = c.e.RequestAmendment(self, c.practice, pt, nil, "Wrong.")
		require.Equal(t, "entry_ids", errs.FieldOf(err), "%v", err)
		_, err = c.e.RequestAmendment(self, c.practice, pt, []ehr.EntryID{problem.ID}, " ")
		require.Equal(t, "reason", errs.FieldOf(err), "%v", err)
		_, err = c.e.RequestAmendment(self, c.practice, pt, []ehr.EntryID{hidden.ID}, "Wrong.")
		require.Equal(t, errs.KindNotFound, errs.KindOf(err), "%v", err)
		_, err = c.e.RequestAmendment(admin, c.practice, other.ID, []ehr.EntryID{problem.ID}, "Wrong.")
		require.Equal(t, errs.KindNotFound, errs.KindOf(err), "another patient's entry: %v", err)
		_, err = c.e.RequestAmendment(desk, c.practice, pt, []ehr.EntryID{problem.ID}, "Wrong.")
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))
		_, err = c.e.RequestAmendment(self, c.practice, other.ID, []ehr.EntryID{problem.ID}, "Wrong.")
		require.Equal(t, errs.KindForbidden, errs.KindOf(err), "a patient asks only about their own record")
		a, err := c.e.RequestAmendment(self, c.practice, pt, []ehr.EntryID{problem.ID}, "I never had asthma.")
		require.NoError(t, err)
		require.Equal(t, c.clk.Now().UTC().AddDate(0, 0, 60), a.Due)
		require.Equal(t, ehr.Requested, a.Status)

		// Only staff with patient.rights.manage decide.
		_, err = c.e.DecideAmendment(self, c.practice, pt, a.ID, carebook.AmendmentDecision{Accept: true, Amendment: "x"})
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))
		_, err = c.e.DecideAmendment(admin, c.practice, pt, a.ID, carebook.AmendmentDecision{Basis: "because"})
		require.Equal(t, "denial_basis", errs.FieldOf(err))
		_, err = c.e.DecideAmendment(admin, c.practice, other.ID, a.ID, carebook.AmendmentDecision{Accept: true, Amendment: "x"})
		require.Equal(t, errs.KindNotFound, errs.KindOf(err), "a request of another patient")
		_, err = c.e.ExtendAmendment(admin, c.practice, pt, a.ID, "")
		require.Equal(t, "reason", errs.FieldOf(err))
		a, err = c.e.ExtendAmendment(admin, c.practice, pt, a.ID, "The chart is being reviewed by the author.")
		require.NoError(t, err)
		require.Equal(t, c.clk.Now().UTC().AddDate(0, 0, 90), a.Due)
		_, err = c.e.ExtendAmendment(admin, c.practice, pt, a.ID, "Again.")
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "extended once only")

		// Overdue follows the clock: past 90 days, undecided.
		c.clk.Advance(89 * 24 * time.Hour)
		overdue, err := c.e.OverdueAmendments(admin, c.practice)
		require.NoError(t, err)
		require.Empty(t, overdue)
		c.clk.Advance(2 * 24 * time.Hour)
		overdue, err = c.e.OverdueAmendments(admin, c.practice)
		require.NoError(t, err)
		require.Len(t, overdue, 1)
		_, err = c.e.OverdueAmendments(desk, c.practice)
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))

		// Two deciders at once: one wins, the other is KindConflict.
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, results[i] = c.e.DecideAmendment(admin, c.practice, pt, a.ID, carebook.AmendmentDecision{
					Basis: ehr.Accurate, Reason: "The diagnosis was confirmed by spirometry."})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range results {
			if err == nil {
				won++
			} else {
				require.Equal(t, errs.KindConflict, errs.KindOf(err), "%v", err)
			}
		}
		require.Equal(t, 1, won)
		_, err = c.e.RebutAmendment(admin, c.practice, pt, a.ID, "Too soon.")
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "no disagreement to rebut yet")
		_, err = c.e.DisagreeAmendment(self, c.practice, pt, a.ID, "I still disagree: it was bronchitis.")
		require.NoError(t, err)
		a, err = c.e.RebutAmendment(admin, c.practice, pt, a.ID, "Spirometry showed reversible obstruction.")
		require.NoError(t, err)
		require.Equal(t, ehr.Denied, a.Status)
		require.NotNil(t, a.Disagreement)
		require.NotNil(t, a.Rebuttal)
		linked, err := c.e.EntryAmendments(self, c.practice, pt, problem.ID)
		require.NoError(t, err)
		require.Len(t, linked, 1, "the denial and its statements are linked to the entry")
		require.Equal(t, a.Rebuttal.Text, linked[0].Rebuttal.Text)
		overdue, err = c.e.OverdueAmendments(admin, c.practice)
		require.NoError(t, err)
		require.Empty(t, overdue, "decided")

		// An accepted amendment is linked to its entries.
		b, err := c.e.RequestAmendment(admin, c.practice, pt, []ehr.EntryID{problem.ID, hidden.ID}, "The onset date is wrong.")
		require.NoError(t, err, "staff record a request for the patient")
		_, err = c.e.DecideAmendment(admin, c.practice, pt, b.ID, carebook.AmendmentDecision{Accept: true})
		require.Equal(t, "amendment", errs.FieldOf(err))
		b, err = c.e.DecideAmendment(admin, c.practice, pt, b.ID, carebook.AmendmentDecision{Accept: true, Amendment: "Onset is 2019, not 2020."})
		require.NoError(t, err)
		require.Equal(t, ehr.Accepted, b.Status)
		_, err = c.e.DisagreeAmendment(self, c.practice, pt, b.ID, "x")
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "only a denial takes a disagreement")
		linked, err = c.e.EntryAmendments(admin, c.practice, pt, hidden.ID)
		require.NoError(t, err)
		require.Len(t, linked, 1)
		_, err = c.e.EntryAmendments(self, c.practice, pt, hidden.ID)
		require.Equal(t, errs.KindNotFound, errs.KindOf(err), "the restricted entry stays hidden from the patient")
		mine, err := c.e.Amendments(self, c.practice, pt)
		require.NoError(t, err)
		require.Len(t, mine, 2)

		// Right of access.
		_, err = c.e.RequestRecordCopy(self, c.practice, pt, "pdf")
		require.Equal(t, "form", errs.FieldOf(err))
		r, err := c.e.RequestRecordCopy(self, c.practice, pt, ehr.FHIR)
		require.NoError(t, err)
		require.Equal(t, c.clk.Now().UTC().AddDate(0, 0, 30), r.Due)
		_, err = c.e.FulfilRecordRequest(self, c.practice, pt, r.ID, ehr.FHIR)
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))
		c.clk.Advance(31 * 24 * time.Hour)
		late, err := c.e.OverdueRecordRequests(admin, c.practice)
		require.NoError(t, err)
		require.Len(t, late, 1)
		_, err = c.e.ExtendRecordRequest(admin, c.practice, pt, r.ID, "Too late to extend.")
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "an extension comes before the limit runs out")
		r, err = c.e.FulfilRecordRequest(admin, c.practice, pt, r.ID, ehr.HumanReadable)
		require.NoError(t, err)
		require.Equal(t, ehr.Fulfilled, r.Status)
		require.Equal(t, ehr.HumanReadable, r.FulfilledForm)
		_, err = c.e.DenyRecordRequest(admin, c.practice, pt, r.ID, "x")
		require.Equal(t, errs.KindConflict, errs.KindOf(err))
		r2, err := c.e.RequestRecordCopy(admin, c.practice, pt, "")
		require.NoError(t, err)
		_, err = c.e.DenyRecordRequest(admin, c.practice, pt, r2.ID, "")
		require.Equal(t, "reason", errs.FieldOf(err))
		_, err = c.e.DenyRecordRequest(admin, c.practice, pt, r2.ID, "Psychotherapy notes are excluded.")
		require.NoError(t, err)
		reqs, err := c.e.RecordRequests(self, c.practice, pt)
		require.NoError(t, err)
		require.Len(t, reqs, 2)
		late, err = c.e.OverdueRecordRequests(admin, c.practice)
		require.NoError(t, err)
		require.Empty(t, late)

		// Disclosures, reported over the last 6 years, oldest first.
		now := c.clk.Now()
		in := func(at time.Time) carebook.DisclosureInput {
			return carebook.DisclosureInput{DisclosedAt: at, Recipient: "State immunization registry", Description: "Immunizations",
				Purpose: "Required by law"}
		}
		for _, at := range []time.Time{now.Add(-time.Hour), now.AddDate(-6, 0, -1), now.AddDate(-1, 0, 0)} {
			_, err := c.e.RecordDisclosure(admin, c.practice, pt, in(at))
			require.NoError(t, err)
		}
		bad := in(now.Add(time.Hour))
		_, err = c.e.RecordDisclosure(admin, c.practice, pt, bad)
		require.Equal(t, "disclosed_at", errs.FieldOf(err))
		bad = in(now)
		bad.Purpose = ""
		_, err = c.e.RecordDisclosure(admin, c.practice, pt, bad)
		require.Equal(t, "purpose", errs.FieldOf(err))
		_, err = c.e.RecordDisclosure(self, c.practice, pt, in(now))
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))
		report, err := c.e.DisclosureReport(self, c.practice, pt)
		require.NoError(t, err)
		require.Len(t, report, 2, "the one older than 6 years is left out")
		require.True(t, report[0].DisclosedAt.Before(report[1].DisclosedAt))
		_, err = c.e.DisclosureReport(admin, c.practice, uuid.New())
		require.Equal(t, errs.KindNotFound, errs.KindOf(err))

		// Every access wrote one entry naming the patient and the category.
		a1, d1, f1 := audit.Allowed, audit.Denied, audit.Failed
		outcomes := func(action string) []audit.Outcome {
			var out []audit.Outcome
			for _, en := range entries(t, c, action) {
				require.NotNil(t, en.PatientID, action)
				out = append(out, en.Outcome)
			}
			return out
		}
		require.Equal(t, []audit.Outcome{f1, f1, f1, f1, d1, d1, a1, a1}, outcomes("amendment.request"))
		decided := map[audit.Outcome]int{}
		for _, o := range outcomes("amendment.decide") {
			decided[o]++
		}
		require.Equal(t, map[audit.Outcome]int{d1: 1, f1: 4, a1: 2}, decided, "the race's loser failed")
		require.Equal(t, []audit.Outcome{f1, a1, a1}, outcomes("access.request"))
		require.Equal(t, []audit.Outcome{a1, a1, a1, f1, f1, d1}, outcomes("disclosure.record"))
		for _, en := range entries(t, c, "amendment.overdue") {
			require.Equal(t, "amendment", en.ResourceType)
		}
		for _, en := range entries(t, c, "disclosure.report") {
			require.Equal(t, "disclosure", en.ResourceType)
		}

		// After a rotation, Reseal seals the rights' rows with the new key,
		// and they still read back.
		require.NoError(t, c.e.Keys.Rotate(c.staff, c.practice))
		primary, err := c.e.Keys.PrimaryKeyID(c.staff, c.practice)
		require.NoError(t, err)
		_, err = c.e.Reseal(c.staff, c.practice)
		require.NoError(t, err)
		for table, want := range map[string]int{"ehr_amendments": 2, "ehr_record_requests": 2, "ehr_disclosures": 3} {
			var n int
			require.NoError(t, st.DB().QueryRowContext(c.staff, `SELECT COUNT(*) FROM `+table+` WHERE practice_id = ? AND sealed_key = ?`,
				c.practice, int64(primary)).Scan(&n))
			require.Equal(t, want, n, table)
		}
		mine, err = c.e.Amendments(self, c.practice, pt)
		require.NoError(t, err)
		require.Equal(t, "Spirometry showed reversible obstruction.", mine[0].Rebuttal.Text)
	})
}
