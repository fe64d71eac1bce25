package carebook_test

import (
	"context"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/ehr/fhir"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestPatientReadsReleasedEntries enumerates the chart's read paths
// (Chart, ChartHistory, ExportPatient, and the entries an amendment
// request may name) for the patient reading their own chart, who sees
// only what the practice released (signed notes, locked encounters,
// active or inactive entries, nothing restricted), and for staff, who see
// drafts too; a patient who is also staff of the practice reads as staff.
func TestPatientReadsReleasedEntries(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		admin := callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
		self := callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, c.patient.ID))
		pt, now := c.patient.ID, c.clk.Now()
		write := func(w carebook.ChartWrite) *ehr.Entry {
			t.Helper()
			w.PatientID = pt
			e, err := c.e.WriteChart(admin, c.practice, w)
			require.NoError(t, err)
			return e
		}
		open := write(carebook.ChartWrite{Status: ehr.Draft, Body: &ehr.Encounter{Class: "ambulatory", Reason: "Open", Start: now}})
		closed := write(carebook.ChartWrite{Status: ehr.Draft, Body: &ehr.Encounter{Class: "ambulatory", Reason: "Closed", Start: now}})
		signedDraft := write(carebook.ChartWrite{EncounterID: &closed.ID, Status: ehr.Draft, Body: &ehr.Note{Title: "Signed later", Plan: "Rest."}})
		signed := write(carebook.ChartWrite{ID: &signedDraft.ID, Version: 1, EncounterID: &closed.ID, Status: ehr.Signed, Body: signedDraft.Body})
		vital := write(carebook.ChartWrite{EncounterID: &closed.ID, Status: ehr.Active, Body: &ehr.Vital{Code: "8867-4", Value: 70, Unit: "/min", EffectiveAt: now}})
		locked := write(carebook.ChartWrite{ID: &closed.ID, Version: 1, Status: ehr.Locked, Body: closed.Body})
		draft := write(carebook.ChartWrite{EncounterID: &open.ID, Status: ehr.Draft, Body: &ehr.Note{Title: "Draft", Plan: "Not yet."}})
		active := write(carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Problem{Coding: ehr.Coding{Display: "Asthma"}, ClinicalStatus: "active"}})
		inactive := write(carebook.ChartWrite{Status: ehr.Inactive, Body: &ehr.Allergy{Substance: ehr.Coding{Display: "Latex"}, Type: "allergy", Category: "environment"}})
		restricted := write(carebook.ChartWrite{Status: ehr.Active, Restricted: true, Body: &ehr.Problem{Coding: ehr.Coding{Display: "Depression"}, ClinicalStatus: "active"}})
		wrong := write(carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Medication{Medication: ehr.Coding{Display: "Aspirin"}, ReportedBy: "patient", Taking: "active"}})
		write(carebook.ChartWrite{ID: &wrong.ID, Version: 1, Status: ehr.EnteredInError, Body: wrong.Body})

		released := []uuid.UUID{locked.ID, signed.ID, vital.ID, active.ID, inactive.ID}
		hidden := []uuid.UUID{open.ID, draft.ID, restricted.ID, wrong.ID}
		ids := func(entries []*ehr.Entry) []uuid.UUID {
			var out []uuid.UUID
			for _, e := range entries {
				out = append(out, e.ID)
			}
			return out
		}
		exported := func(caller context.Context) []uuid.UUID {
			t.Helper()
			b, next, err := c.e.ExportPatient(caller, c.practice, pt, carebook.EverythingQuery{Base: "https://x/fhir", Self: "https://x/fhir/$everything", Limit: carebook.MaxEverythingPage})
			require.NoError(t, err)
			require.Empty(t, next)
			var out []uuid.UUID
			entries, _ := b["entry"].([]any)
			for _, en := range entries {
				if id, err := uuid.Parse(en.(map[string]any)["resource"].(fhir.Resource).ID()); err == nil {
					out = append(out, id)
				}
			}
			return out
		}

		t.Run("patient", func(t *testing.T) {
			chart, err := c.e.Chart(self, c.practice, pt, ehr.ChartFilter{WithErrors: true})
			require.NoError(t, err)
			require.ElementsMatch(t, released, ids(chart))
			for _, e := range chart {
				require.True(t, carebook.Released(e), "%s %s", e.Kind, e.Status)
			}
			versions, err := c.e.ChartHistory(self, c.practice, pt, signed.ID)
			require.NoError(t, err)
			require.Len(t, versions, 1, "the draft before the signature is not the patient's")
			require.Equal(t, ehr.Signed, versions[0].Status)
			versions, err = c.e.ChartHistory(self, c.practice, pt, locked.ID)
			require.NoError(t, err)
			require.Len(t, versions, 1)
			for _, id := range hidden {
				_, err := c.e.ChartHistory(self, c.practice, pt, id)
				require.Equal(t, errs.KindNotFound, errs.KindOf(err), "history of %s: %v", id, err)
			}
			got := exported(self)
			for _, id := range released {
				require.Contains(t, got, id)
			}
			for _, id := range hidden {
				require.NotContains(t, got, id)
			}
			_, err = c.e.RequestAmendment(self, c.practice, pt, []ehr.EntryID{draft.ID}, "Not what I said.")
			require.Equal(t, errs.KindNotFound, errs.KindOf(err))
			require.Equal(t, "entry_ids", errs.FieldOf(err))
			_, err = c.e.RequestAmendment(self, c.practice, pt, []ehr.EntryID{signed.ID}, "I rested a week, not a day.")
			require.NoError(t, err)
		})
		t.Run("staff", func(t *testing.T) {
			chart, err := c.e.Chart(admin, c.practice, pt, ehr.ChartFilter{WithErrors: true})
			require.NoError(t, err)
			require.ElementsMatch(t, append(append([]uuid.UUID{}, released...), hidden...), ids(chart))
			versions, err := c.e.ChartHistory(admin, c.practice, pt, signed.ID)
			require.NoError(t, err)
			require.Len(t, versions, 2)
			versions, err = c.e.ChartHistory(admin, c.practice, pt, draft.ID)
			require.NoError(t, err)
			require.Len(t, versions, 1)
			got := exported(admin)
			for _, id := range append(append([]uuid.UUID{}, released...), hidden...) {
				require.Contains(t, got, id)
			}
			b, _, err := c.e.ExportPatient(admin, c.practice, pt, carebook.EverythingQuery{Limit: carebook.MaxEverythingPage, Released: true})
			require.NoError(t, err)
			copyIDs := map[uuid.UUID]bool{}
			for _, en := range b["entry"].([]any) {
				if id, err := uuid.Parse(en.(map[string]any)["resource"].(fhir.Resource).ID()); err == nil {
					copyIDs[id] = true
				}
			}
			for _, id := range released {
				require.True(t, copyIDs[id], "the patient's copy, made by staff, has %s", id)
			}
			for _, id := range hidden {
				require.False(t, copyIDs[id], "the patient's copy, made by staff, lacks %s", id)
			}
		})
		t.Run("patient who is staff", func(t *testing.T) {
			// One account with both grants reads as staff.
			account := uuid.New()
			for _, g := range []rbac.NewGrant{{AccountID: account, RoleID: rbac.PatientRoleID, Scope: rbac.SelfScope(p.GroupID, p.ID, pt)},
				{AccountID: account, RoleID: rbac.PracticeAdminID, Scope: rbac.PracticeScope(p.GroupID, p.ID)}} {
				_, err := c.e.RBAC.GrantAsSystem(c.staff, g)
				require.NoError(t, err)
			}
			pr, err := c.e.RBAC.Principal(c.staff, account)
			require.NoError(t, err)
			both := carebook.WithCaller(context.Background(), carebook.Caller{Actor: actor.Actor{Kind: actor.Staff, ID: account.String()}, Principal: pr})
			chart, err := c.e.Chart(both, c.practice, pt, ehr.ChartFilter{})
			require.NoError(t, err)
			require.Contains(t, ids(chart), draft.ID)
		})
	})
}
