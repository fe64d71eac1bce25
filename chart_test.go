package carebook_test

import (
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
)

// TestChartThroughTheGuard: a practice admin opens an encounter, writes a
// note, signs and locks it, charts a vital and a restricted problem; the
// locked note and the locked encounter refuse changes; the front desk is
// refused (403, logged as denied); the patient reads their chart without
// the restricted entry, the admin with it; every access writes exactly one
// entry naming the patient and the category; the chain verifies.
func TestChartThroughTheGuard(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		admin := callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
		desk := callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID))
		self := callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, c.patient.ID))
		pt := c.patient.ID
		now := c.clk.Now()

		enc, err := c.e.WriteChart(admin, c.practice, carebook.ChartWrite{PatientID: pt, Status: ehr.Draft,
			Body: &ehr.Encounter{Class: "ambulatory", Reason: "Cough", Start: now}})
		require.NoError(t, err)
		note, err := c.e.WriteChart(admin, c.practice, carebook.ChartWrite{PatientID: pt, EncounterID: &enc.ID, Status: ehr.Draft,
			Body: &ehr.Note{Title: "Visit", Subjective: "Dry cough for a week.", Plan: "Fluids."}})
		require.NoError(t, err)
		locked, err := c.e.WriteChart(admin, c.practice, carebook.ChartWrite{ID: &note.ID, Version: note.Version, PatientID: pt,
			EncounterID: &enc.ID, Status: ehr.Locked, Body: note.Body})
		require.NoError(t, err)
		require.Equal(t, 2, locked.Version)
		require.NotEmpty(t, locked.SignedBy, "the caller signed it")
		_, err = c.e.WriteChart(admin, c.practice, carebook.ChartWrite{ID: &note.ID, Version: locked.Version, PatientID: pt,
			EncounterID: &enc.ID, Status: ehr.Draft, Body: &ehr.Note{Title: "Visit", Plan: "Changed."}})
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "a locked note: %v", err)
		_, err = c.e.WriteChart(admin, c.practice, carebook.ChartWrite{ID: &note.ID, Version: 1, PatientID: pt,
			EncounterID: &enc.ID, Status: ehr.Draft, Body: note.Body})
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "a stale version: %v", err)

		_, err = c.e.WriteChart(admin, c.practice, carebook.ChartWrite{PatientID: pt, EncounterID: &enc.ID, Status: ehr.Active,
			Body: &ehr.Vital{Code: "8867-4", Value: 88, Unit: "/min", EffectiveAt: now}})
		require.NoError(t, err)
		_, err = c.e.WriteChart(admin, c.practice, carebook.ChartWrite{PatientID: pt, Status: ehr.Active, Restricted: true,
			Body: &ehr.Problem{Coding: ehr.Coding{Display: "Depression"}, ClinicalStatus: "active"}})
		require.NoError(t, err)
		_, err = c.e.WriteChart(admin, c.practice, carebook.ChartWrite{ID: &enc.ID, Version: enc.Version, PatientID: pt, Status: ehr.Locked, Body: enc.Body})
		require.NoError(t, err)
		_, err = c.e.WriteChart(admin, c.practice, carebook.ChartWrite{PatientID: pt, EncounterID: &enc.ID, Status: ehr.Active,
			Body: &ehr.Vital{Code: "8480-6", Value: 120, Unit: "mm[Hg]", EffectiveAt: now}})
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "a vital in a locked encounter: %v", err)
		_, err = c.e.WriteChart(admin, c.practice, carebook.ChartWrite{PatientID: pt, EncounterID: &enc.ID, Status: ehr.Active,
			Body: &ehr.Vital{Code: "8480-6", Value: 120, Unit: "cm", EffectiveAt: now}})
		require.Equal(t, "unit", errs.FieldOf(err), "bad input names its field: %v", err)

		_, err = c.e.Chart(desk, c.practice, pt, ehr.ChartFilter{})
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))
		_, err = c.e.WriteChart(desk, c.practice, carebook.ChartWrite{PatientID: pt, Status: ehr.Active,
			Body: &ehr.Problem{Coding: ehr.Coding{Display: "x"}, ClinicalStatus: "active"}})
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))

		all, err := c.e.Chart(admin, c.practice, pt, ehr.ChartFilter{})
		require.NoError(t, err)
		require.Len(t, all, 4, "encounter, note, vital, problem")
		mine, err := c.e.Chart(self, c.practice, pt, ehr.ChartFilter{})
		require.NoError(t, err)
		require.Len(t, mine, 3, "the restricted problem is not the patient's to see here")
		for _, e := range mine {
			require.False(t, e.Restricted)
		}
		history, err := c.e.ChartHistory(admin, c.practice, pt, note.ID)
		require.NoError(t, err)
		require.Len(t, history, 2)
		require.Equal(t, ehr.Draft, history[0].Status)
		require.Equal(t, ehr.Locked, history[1].Status)
		require.NoError(t, c.e.VerifyChart(admin, c.practice, pt))

		outcomes := func(action string) []audit.Outcome {
			var out []audit.Outcome
			for _, en := range entries(t, c, action) {
				require.Equal(t, pt, *en.PatientID, action)
				out = append(out, en.Outcome)
			}
			return out
		}
		a, d, f := audit.Allowed, audit.Denied, audit.Failed
		require.Equal(t, []audit.Outcome{a, a, a, f, f, a, a, a, f, f, d}, outcomes("chart.write"))
		require.Equal(t, []audit.Outcome{d, a, a}, outcomes("chart.read"))
		kinds := map[string]int{}
		for _, en := range entries(t, c, "chart.write") {
			kinds[en.ResourceType]++
		}
		require.Equal(t, map[string]int{"chart.encounter": 2, "chart.note": 4, "chart.vital": 3, "chart.problem": 2}, kinds)
	})
}
