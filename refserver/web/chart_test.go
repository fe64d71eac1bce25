package web

import (
	"context"
	"net/url"
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
var downloads = map[string]bool{"GET /p/{practice}/patients/{patient}/chart/files/{file}": true,
	"GET /p/{practice}/record/fhir": true, "GET /p/{practice}/record/files/{file}": true,
	"GET /p/{practice}/patients/{patient}/rights/fhir": true,
	// robots.txt and the sitemaps are text and XML (find_test.go and
	// sitemap_test.go check them).
	"GET /robots.txt": true, "GET /sitemap.xml": true, "GET /sitemaps/{file}": true}

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

// TestChartLockedNoteAndDenials: the administrator signs and locks a
// note; its page offers no edit, and a forged edit is a 409 page that
// writes nothing; bad input names its field; the front desk gets 403.
func TestChartLockedNoteAndDenials(t *testing.T) {
	a := newSQLiteApp(t)
	olivia := a.entryOf("Olivia").Patient.ID
	c := a.writeChart(olivia)
	base := a.base() + "/patients/" + olivia.String() + "/chart"
	admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
	admin.get(base).want(t, 200, "Chart of Olivia Bennett", "Hypertension", "Heart rate", "Referral")
	note := base + "/entries/" + c.note.String()
	res := admin.post(note, url.Values{"kind": {"note"}, "version": {"1"}, "encounter_id": {c.encounter.String()}, "title": {"Visit note"},
		"subjective": {"Feels well."}, "status": {"locked"}})
	if res.status != 303 {
		t.Fatalf("sign and lock: %d\n%s", res.status, res.body)
	}
	pg := admin.get(note).want(t, 200, "Locked", "Add an addendum")
	if strings.Contains(pg.body, `action="`+note+`"`) {
		t.Fatal("a locked note offers an edit form")
	}
	admin.post(note, url.Values{"kind": {"note"}, "version": {"2"}, "encounter_id": {c.encounter.String()}, "title": {"Forged"},
		"subjective": {"x"}, "status": {"draft"}}).want(t, 409, "locked")
	vs, err := a.engine.ChartHistory(a.adminCtx(), a.demo.PracticeID, olivia, c.note)
	if err != nil || len(vs) != 2 {
		t.Fatalf("history: %d versions, %v", len(vs), err)
	}
	admin.post(base+"/new/problem", url.Values{"clinical_status": {"active"}, "status": {"active"}}).want(t, 422, `id="new-problem-display-error"`)
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	desk.get(base).want(t, 403)
	if strings.Contains(desk.get(a.base()+"/desk/book?q=Bennett").body, "Open the chart") {
		t.Fatal("the front desk sees a link to the chart")
	}
}
