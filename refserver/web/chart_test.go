package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/scheduling"
)

// chartMatrix are the rows of the chart's pages: the practice's
// administrator only, of those of the demo (front desk and patients are
// refused, another practice reads as not found).
var chartMatrix = map[string]string{
	"GET /p/{practice}/charts":                                    "yfffns",
	"GET /p/{practice}/patients/{patient}/chart":                  "yfffns",
	"GET /p/{practice}/patients/{patient}/chart/new/{kind}":       "yfffns",
	"POST /p/{practice}/patients/{patient}/chart/new/{kind}":      "yfffns",
	"GET /p/{practice}/patients/{patient}/chart/entries/{entry}":  "yfffns",
	"POST /p/{practice}/patients/{patient}/chart/entries/{entry}": "yfffns",
	"POST /p/{practice}/patients/{patient}/chart/documents":       "yfffns",
	"GET /p/{practice}/patients/{patient}/chart/files/{file}":     "yfffns",
	"GET /p/{practice}/patients/{patient}/chart/verify":           "yfffns",
}

// downloads are the GET page routes that answer a file, not a page.
var downloads = map[string]bool{"GET /p/{practice}/patients/{patient}/chart/files/{file}": true}

// adminCtx is a context whose caller is the demo administrator.
func (a *app) adminCtx() context.Context {
	a.t.Helper()
	ctx := context.Background()
	acct, err := a.engine.Store().Identity.AccountByEmail(ctx, demo.AdminEmail)
	if err != nil {
		a.t.Fatal(err)
	}
	pr, err := a.engine.RBAC.Principal(ctx, acct.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	return carebook.WithCaller(ctx, carebook.Caller{Actor: actor.Actor{Kind: actor.Staff, ID: acct.ID.String()}, Principal: pr})
}

// charted is a small chart written for a patient.
type charted struct {
	encounter, note, vital, problem, document ehr.EntryID
	file                                      string
}

// writeChart writes, as the administrator, an open encounter with a
// draft note and a heart rate, a problem and a document for patient.
func (a *app) writeChart(patient scheduling.PatientID) charted {
	a.t.Helper()
	ctx, pid := a.adminCtx(), a.demo.PracticeID
	write := func(w carebook.ChartWrite) ehr.EntryID {
		a.t.Helper()
		w.PatientID = patient
		e, err := a.engine.WriteChart(ctx, pid, w)
		if err != nil {
			a.t.Fatal(err)
		}
		return e.ID
	}
	var c charted
	c.encounter = write(carebook.ChartWrite{Status: ehr.Draft, Body: &ehr.Encounter{Class: "ambulatory", Reason: "Check-up", Start: testNow.Add(-time.Hour)}})
	c.note = write(carebook.ChartWrite{EncounterID: &c.encounter, Status: ehr.Draft, Body: &ehr.Note{Title: "Visit note", Subjective: "Feels well."}})
	c.vital = write(carebook.ChartWrite{EncounterID: &c.encounter, Status: ehr.Active, Body: &ehr.Vital{Code: "8867-4", Value: 72, Unit: "/min", EffectiveAt: testNow.Add(-50 * time.Minute)}})
	c.problem = write(carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Problem{Coding: ehr.Coding{Display: "Hypertension"}, ClinicalStatus: "active"}})
	f, err := a.engine.PutFile(ctx, pid, patient, "referral.txt", "text/plain", strings.NewReader("Referral letter"))
	if err != nil {
		a.t.Fatal(err)
	}
	c.file = f.ID.String()
	c.document = write(carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Document{FileID: f.ID, Title: "Referral"}})
	return c
}

// chartSamples writes a chart for the demo patient and for another, and
// returns the samples of the chart routes' wildcards.
func (a *app) chartSamples() map[string]sample {
	a.t.Helper()
	ctx := context.Background()
	me, _ := a.engine.Scheduling.Patients(ctx, a.demo.PracticeID, scheduling.PatientFilter{Email: demo.PatientEmail, Limit: 1})
	all, _ := a.engine.Scheduling.Patients(ctx, a.demo.PracticeID, scheduling.PatientFilter{Limit: 50})
	if len(me) != 1 {
		return nil
	}
	var other *scheduling.Patient
	for _, x := range all {
		if x.ID != me[0].ID {
			other = x
			break
		}
	}
	if other == nil {
		return nil
	}
	mine, theirs := a.writeChart(me[0].ID), a.writeChart(other.ID)
	return map[string]sample{
		"kind":  {"problem", "problem"},
		"entry": {mine.note.String(), theirs.note.String()},
		"file":  {mine.file, theirs.file},
	}
}

// TestChartPagesRender: every chart page renders for the administrator.
func TestChartPagesRender(t *testing.T) {
	t.Skip("in progress")
}
