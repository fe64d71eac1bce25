package carebook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/ehr/fhir"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// mustFHIRSchema compiles the vendored official R4 JSON schema.
func mustFHIRSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile("ehr/fhir/testdata/fhir.schema.json")
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("fhir.schema.json", doc))
	s, err := c.Compile("fhir.schema.json")
	require.NoError(t, err)
	return s
}

// TestExportPatient: an admin pages through a charted patient's
// $everything three resources at a time to the end (every resource
// schema-valid, the restricted entry in); the patient's own export leaves
// it out; the front desk is refused; each page writes one "chart.export"
// entry naming the patient; a bad cursor or limit names its field.
func TestExportPatient(t *testing.T) {
	schema := mustFHIRSchema(t)
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		admin := callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
		desk := callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID))
		self := callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, c.patient.ID))
		pt, now := c.patient.ID, c.clk.Now()
		enc, err := c.e.WriteChart(admin, c.practice, carebook.ChartWrite{PatientID: pt, Status: ehr.Draft,
			Body: &ehr.Encounter{Class: "ambulatory", Reason: "Cough", Start: now}})
		require.NoError(t, err)
		for _, w := range []carebook.ChartWrite{
			{PatientID: pt, EncounterID: &enc.ID, Status: ehr.Signed, Body: &ehr.Note{Title: "Visit", Subjective: "Dry cough."}},
			{PatientID: pt, EncounterID: &enc.ID, Status: ehr.Active, Body: &ehr.Vital{Code: "8867-4", Value: 88, Unit: "/min", EffectiveAt: now}},
			{PatientID: pt, Status: ehr.Active, Body: &ehr.Allergy{Substance: ehr.Coding{Display: "Peanut"}, Type: "allergy", Category: "food"}},
			{PatientID: pt, Status: ehr.Active, Body: &ehr.Immunization{Vaccine: ehr.Coding{System: fhir.SystemCVX, Code: "140", Display: "Flu"}, OccurredOn: now.Format("2006-01-02"), Given: "completed"}},
			{PatientID: pt, Status: ehr.Active, Restricted: true, Body: &ehr.Problem{Coding: ehr.Coding{Display: "Depression"}, ClinicalStatus: "active"}},
		} {
			_, err := c.e.WriteChart(admin, c.practice, w)
			require.NoError(t, err)
		}
		med, err := c.e.WriteChart(admin, c.practice, carebook.ChartWrite{PatientID: pt, Status: ehr.Active,
			Body: &ehr.Medication{Medication: ehr.Coding{Display: "Aspirin"}, ReportedBy: "patient", Taking: "active"}})
		require.NoError(t, err)
		_, err = c.e.WriteChart(admin, c.practice, carebook.ChartWrite{ID: &med.ID, Version: 1, PatientID: pt, Status: ehr.EnteredInError, Body: med.Body})
		require.NoError(t, err)

		export := func(caller context.Context) (map[string]int, int) {
			types, pages, cursor := map[string]int{}, 0, ""
			for {
				b, next, err := c.e.ExportPatient(caller, c.practice, pt,
					carebook.EverythingQuery{Base: "https://x/fhir", Self: "https://x/fhir/Patient/" + pt.String() + "/$everything", Cursor: cursor, Limit: 3})
				require.NoError(t, err)
				pages++
				raw, err := json.Marshal(b)
				require.NoError(t, err)
				v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
				require.NoError(t, err)
				require.NoError(t, schema.Validate(v), "page %d", pages)
				entries, _ := b["entry"].([]any)
				require.LessOrEqual(t, len(entries), 3)
				for _, en := range entries {
					types[en.(map[string]any)["resource"].(fhir.Resource).Type()]++
				}
				if next == "" {
					total := 0
					for _, n := range types {
						total += n
					}
					require.Equal(t, b["total"], total)
					return types, pages
				}
				cursor = next
			}
		}
		types, pages := export(admin)
		require.Equal(t, 1, types["Patient"])
		require.Equal(t, 1, types["Condition"], "the admin sees the restricted problem")
		require.Equal(t, 7, types["Provenance"])
		require.Equal(t, 1, types["MedicationRequest"], "entered in error is exported, as such")
		mine, myPages := export(self)
		require.Zero(t, mine["Condition"], "the restricted problem is left out")
		require.Equal(t, 4, mine["Provenance"], "the signed note, the vital, the allergy, the immunization: no draft encounter, no entry in error")

		_, _, err = c.e.ExportPatient(desk, c.practice, pt, carebook.EverythingQuery{})
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))
		_, _, err = c.e.ExportPatient(admin, c.practice, pt, carebook.EverythingQuery{Cursor: "x"})
		require.Equal(t, "cursor", errs.FieldOf(err))
		_, _, err = c.e.ExportPatient(admin, c.practice, pt, carebook.EverythingQuery{Limit: carebook.MaxEverythingPage + 1})
		require.Equal(t, "limit", errs.FieldOf(err))

		var outs []audit.Outcome
		for _, en := range entries(t, c, "chart.export") {
			require.Equal(t, pt, *en.PatientID)
			outs = append(outs, en.Outcome)
		}
		require.Len(t, outs, pages+myPages+1, "one entry a page, and the denial")
		require.Equal(t, audit.Denied, outs[len(outs)-1])
	})
}
