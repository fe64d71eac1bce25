package web

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
)

// portalMatrix are the rows of the patient's own record pages: patients
// only (staff hold no self grant there: 403), each their own record (a
// request or a file of another patient reads as not found).
var portalMatrix = map[string]string{
	"GET /p/{practice}/record":                                   "ffyyns",
	"GET /p/{practice}/record/print":                             "ffyyns",
	"GET /p/{practice}/record/fhir":                              "ffyyns",
	"GET /p/{practice}/record/files/{file}":                      "ffynns",
	"GET /p/{practice}/record/corrections":                       "ffyyns",
	"POST /p/{practice}/record/corrections":                      "ffyyns",
	"POST /p/{practice}/record/corrections/{amendment}/disagree": "ffynns",
	"GET /p/{practice}/record/copies":                            "ffyyns",
	"POST /p/{practice}/record/copies":                           "ffyyns",
}

// rightsMatrix are the rows of the rights pages: the practice's
// administrator (front desk and patients are refused, another practice
// reads as not found).
var rightsMatrix = map[string]string{
	"GET /p/{practice}/patients/{patient}/rights":                                "yfffns",
	"GET /p/{practice}/patients/{patient}/rights/print":                          "yfffns",
	"GET /p/{practice}/patients/{patient}/rights/fhir":                           "yfffns",
	"POST /p/{practice}/patients/{patient}/rights/amendments/{amendment}/decide": "yfffns",
	"POST /p/{practice}/patients/{patient}/rights/amendments/{amendment}/extend": "yfffns",
	"POST /p/{practice}/patients/{patient}/rights/amendments/{amendment}/rebut":  "yfffns",
	"POST /p/{practice}/patients/{patient}/rights/copies/{copy}/fulfil":          "yfffns",
	"POST /p/{practice}/patients/{patient}/rights/copies/{copy}/deny":            "yfffns",
	"POST /p/{practice}/patients/{patient}/rights/copies/{copy}/extend":          "yfffns",
	"POST /p/{practice}/patients/{patient}/rights/disclosures":                   "yfffns",
	"GET /p/{practice}/rights/overdue":                                           "yfffns",
}

// rightsSamples makes an amendment request and a copy request for the
// demo patient and for another (samples of {amendment} and {copy}), after
// chartSamples wrote their charts.
func (a *app) rightsSamples(patients sample) map[string]sample {
	a.t.Helper()
	if patients.own == "" {
		return nil
	}
	var am, cp sample
	for i, raw := range []string{patients.own, patients.other} {
		pt, err := refserver.ParseID("patient", raw)
		if err != nil {
			a.t.Fatal(err)
		}
		problem := a.entryKind(pt, ehr.KindProblem)
		x, err := a.engine.RequestAmendment(a.adminCtx(), a.demo.PracticeID, pt, []ehr.EntryID{problem}, "The onset is wrong.")
		if err != nil {
			a.t.Fatal(err)
		}
		r, err := a.engine.RequestRecordCopy(a.adminCtx(), a.demo.PracticeID, pt, ehr.FHIR)
		if err != nil {
			a.t.Fatal(err)
		}
		if i == 0 {
			am.own, cp.own = x.ID.String(), r.ID.String()
		} else {
			am.other, cp.other = x.ID.String(), r.ID.String()
		}
	}
	return map[string]sample{"amendment": am, "copy": cp}
}

// entryKind is the first current entry of kind in patient's chart.
func (a *app) entryKind(patient scheduling.PatientID, k ehr.Kind) ehr.EntryID {
	a.t.Helper()
	es, err := a.engine.Chart(a.adminCtx(), a.demo.PracticeID, patient, ehr.ChartFilter{Kinds: []ehr.Kind{k}})
	if err != nil || len(es) == 0 {
		a.t.Fatalf("no %s in the chart: %v", k, err)
	}
	return es[0].ID
}

// signedNote writes a signed note into encounter of c's chart.
func (a *app) signedNote(patient scheduling.PatientID, c charted, title string) ehr.EntryID {
	a.t.Helper()
	e, err := a.engine.WriteChart(a.adminCtx(), a.demo.PracticeID, carebook.ChartWrite{PatientID: patient, EncounterID: &c.encounter,
		Status: ehr.Signed, Body: &ehr.Note{Title: title, Assessment: "Blood pressure well controlled."}})
	if err != nil {
		a.t.Fatal(err)
	}
	return e.ID
}

// TestPortalRecordShowsSignedEntries: the patient's health record, its
// printable copy and its FHIR download hold the signed and active entries
// and no draft; each read is the Engine's, logged; another patient's file
// is not found, and the staff chart refuses the patient.
func TestPortalRecordShowsSignedEntries(t *testing.T) {
	a := newSQLiteApp(t)
	olivia := a.entryOf("Olivia").Patient.ID
	c := a.writeChart(olivia)
	signed := a.signedNote(olivia, c, "Blood pressure review")
	other := a.entryOf("Marcus").Patient.ID
	theirs := a.writeChart(other)
	me := a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
	rec := a.base() + "/record"

	pg := me.get(rec).want(t, 200, "My health record", "Hypertension", "Heart rate", "Referral", "Blood pressure review",
		"Blood pressure well controlled.", `href="`+rec+`/print"`, `href="`+rec+`/fhir"`)
	for _, hidden := range []string{"<h3>Visit note</h3>", "Feels well.", "Check-up", `chart-status-draft`} {
		if strings.Contains(pg.body, hidden) {
			t.Fatalf("the record shows %q, of a draft", hidden)
		}
	}
	pr := me.get(rec+"/print").want(t, 200, "Health record", demo.PracticeName, "Olivia Bennett", "Monday 4 March 2030",
		"Hypertension", "Heart rate", "Referral", "Blood pressure review")
	if strings.Contains(pr.body, "<h3>Visit note</h3>") {
		t.Fatal("the copy shows the draft note")
	}
	dl := me.get(rec+"/fhir").want(t, 200)
	if ct := dl.header.Get("Content-Type"); ct != "application/fhir+json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if cd := dl.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Fatalf("Content-Disposition = %q", cd)
	}
	var bundle map[string]any
	if err := json.Unmarshal([]byte(dl.body), &bundle); err != nil || bundle["resourceType"] != "Bundle" {
		t.Fatalf("not a Bundle: %v\n%.300s", err, dl.body)
	}
	if !strings.Contains(dl.body, signed.String()) || !strings.Contains(dl.body, c.problem.String()) {
		t.Fatal("the download lacks the signed note or the problem")
	}
	if strings.Contains(dl.body, c.note.String()) || strings.Contains(dl.body, `"id": "`+c.encounter.String()+`"`) {
		t.Fatal("the download holds the draft note or the open encounter")
	}
	me.get(rec+"/files/"+c.file).want(t, 200, "Referral letter")
	me.get(rec+"/files/"+theirs.file).want(t, 404)
	me.get(a.base()+"/patients/"+other.String()+"/chart").want(t, 403)
	me.get(a.base()+"/patients/"+other.String()+"/rights").want(t, 403)

	ctx := a.adminCtx()
	exports, err := a.engine.Audit.Query(ctx, a.demo.PracticeID, audit.Filter{Action: "chart.export"})
	if err != nil || len(exports) != 1 || *exports[0].PatientID != olivia || exports[0].Outcome != audit.Allowed {
		t.Fatalf("chart.export entries: %+v, %v", exports, err)
	}
	a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword).get(rec).want(t, 403)
}

// TestPortalCorrectionAndRights: the patient asks for a correction (bad
// input names its field and writes nothing; a form without the CSRF
// token is refused); the administrator denies it on the rights page; the
// patient sends a disagreement and the administrator rebuts it; the
// front desk gets 403 on the rights pages.
func TestPortalCorrectionAndRights(t *testing.T) {
	a := newSQLiteApp(t)
	olivia := a.entryOf("Olivia").Patient.ID
	c := a.writeChart(olivia)
	me := a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
	corr := a.base() + "/record/corrections"
	count := func() int {
		t.Helper()
		as, err := a.engine.Amendments(a.adminCtx(), a.demo.PracticeID, olivia)
		if err != nil {
			t.Fatal(err)
		}
		return len(as)
	}
	me.get(corr).want(t, 200, "Request a correction", "Hypertension")
	me.post(corr, url.Values{"entry_ids": {c.problem.String()}}).want(t, 422, `id="reason-error"`)
	me.post(corr, url.Values{"entry_ids": {c.note.String()}, "reason": {"Wrong."}}).want(t, 422, `id="entry_ids-error"`)
	me.post(corr, url.Values{"entry_ids": {"nonsense"}, "reason": {"Wrong."}}).want(t, 422, `id="entry_ids-error"`)
	// A form without the session's CSRF token is refused by the core,
	// which ends the session and asks to sign in again.
	if res := me.post(corr, url.Values{"entry_ids": {c.problem.String()}, "reason": {"Wrong."}, refserver.CSRFField: {"forged"}}); res.status != 303 || !strings.HasPrefix(res.location(), refserver.SignInPath) {
		t.Fatalf("forged CSRF token: %d %s", res.status, res.location())
	}
	if n := count(); n != 0 {
		t.Fatalf("refused requests wrote %d", n)
	}
	me = a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
	res := me.post(corr, url.Values{"entry_ids": {c.problem.String()}, "reason": {"I never had hypertension."}})
	if res.status != 303 {
		t.Fatalf("request: %d\n%s", res.status, res.body)
	}
	me.get(res.location()).want(t, 200, "I never had hypertension.", "Waiting", "3 May 2030", "60 days left")
	as, _ := a.engine.Amendments(a.adminCtx(), a.demo.PracticeID, olivia)
	id := as[0].ID.String()

	rights := a.base() + "/patients/" + olivia.String() + "/rights"
	admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
	admin.get(a.base()+"/patients/"+olivia.String()+"/chart").want(t, 200, `href="`+rights+`"`)
	admin.get(rights).want(t, 200, "Rights of Olivia Bennett", "I never had hypertension.", "60 days left")
	admin.post(rights+"/amendments/"+id+"/decide", url.Values{"decision": {"deny"}, "denial_basis": {"accurate"}}).
		want(t, 422, `id="decide-`+id+`-reason-error"`)
	admin.post(rights+"/amendments/"+id+"/decide", url.Values{"decision": {"deny"}, "reason": {"x"}}).
		want(t, 422, `id="decide-`+id+`-denial_basis-error"`)
	if as, _ := a.engine.Amendments(a.adminCtx(), a.demo.PracticeID, olivia); as[0].Status != ehr.Requested {
		t.Fatalf("a refused decision wrote %s", as[0].Status)
	}
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	desk.get(rights).want(t, 403)
	desk.post(rights+"/amendments/"+id+"/decide", url.Values{"decision": {"accept"}, "amendment": {"x"}}).want(t, 403)
	desk.get(a.base()+"/rights/overdue").want(t, 403)
	res = admin.post(rights+"/amendments/"+id+"/decide", url.Values{"decision": {"deny"}, "denial_basis": {"accurate"},
		"reason": {"The diagnosis is documented by two readings."}})
	if res.status != 303 {
		t.Fatalf("deny: %d\n%s", res.status, res.body)
	}
	me.get(corr).want(t, 200, "Denied", "The diagnosis is documented by two readings.", `action="`+corr+"/"+id+`/disagree"`)
	me.post(corr+"/"+id+"/disagree", url.Values{"statement": {""}}).want(t, 422, `id="statement-`+id+`-error"`)
	if res := me.post(corr+"/"+id+"/disagree", url.Values{"statement": {"Both readings were after running."}}); res.status != 303 {
		t.Fatalf("disagree: %d\n%s", res.status, res.body)
	}
	admin.get(rights).want(t, 200, "Both readings were after running.", `action="`+rights+"/amendments/"+id+`/rebut"`)
	if res := admin.post(rights+"/amendments/"+id+"/rebut", url.Values{"rebuttal": {"Readings were taken at rest."}}); res.status != 303 {
		t.Fatalf("rebut: %d\n%s", res.status, res.body)
	}
	me.get(corr).want(t, 200, "Readings were taken at rest.")
}

// TestRightsCopiesDisclosuresOverdue: a copy request shows its 30-day
// clock, is listed overdue once past it, is produced and recorded as
// provided; a disclosure is recorded and reported; bad input names its
// field and writes nothing.
func TestRightsCopiesDisclosuresOverdue(t *testing.T) {
	a := newSQLiteApp(t)
	olivia := a.entryOf("Olivia").Patient.ID
	c := a.writeChart(olivia)
	me := a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
	copies := a.base() + "/record/copies"
	me.post(copies, url.Values{"form": {"paper"}}).want(t, 422, `id="form-error"`)
	if res := me.post(copies, url.Values{"form": {"fhir"}}); res.status != 303 {
		t.Fatalf("request a copy: %d\n%s", res.status, res.body)
	}
	me.get(copies).want(t, 200, "FHIR R4 (JSON)", "Waiting", "30 days left")
	rs, err := a.engine.RecordRequests(a.adminCtx(), a.demo.PracticeID, olivia)
	if err != nil || len(rs) != 1 {
		t.Fatalf("record requests: %d, %v", len(rs), err)
	}
	id := rs[0].ID.String()

	rights := a.base() + "/patients/" + olivia.String() + "/rights"
	a.clock.Advance(31 * 24 * time.Hour)
	admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
	me = a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
	admin.get(a.base()+"/rights/overdue").want(t, 200, "Overdue requests", "Olivia Bennett", "overdue by 1 days", `href="`+rights+"#req-"+id+`"`)
	cp := admin.get(rights+"/fhir").want(t, 200)
	if !strings.Contains(cp.body, c.problem.String()) || strings.Contains(cp.body, c.note.String()) {
		t.Fatal("the copy staff produce is not the patient's released record")
	}
	admin.get(rights+"/print").want(t, 200, "Olivia Bennett", "Hypertension")
	if res := admin.post(rights+"/copies/"+id+"/fulfil", url.Values{"form": {"fhir"}}); res.status != 303 {
		t.Fatalf("fulfil: %d\n%s", res.status, res.body)
	}
	admin.post(rights+"/copies/"+id+"/deny", url.Values{"reason": {"x"}}).want(t, 409)
	me.get(copies).want(t, 200, "Provided")
	admin.get(a.base()+"/rights/overdue").want(t, 200, catalogs["en"]["rights.overdue.none_copies"])

	disc := rights + "/disclosures"
	admin.post(disc, url.Values{"disclosed_at": {"2030-03-20"}, "description": {"Immunizations"}, "purpose": {"School"}}).
		want(t, 422, `id="disclosure-record-recipient-error"`)
	admin.post(disc, url.Values{"disclosed_at": {"20 March"}, "recipient": {"Lincoln School"}, "description": {"Immunizations"}, "purpose": {"School"}}).
		want(t, 422, `id="disclosure-record-disclosed_at-error"`)
	if ds, _ := a.engine.DisclosureReport(a.adminCtx(), a.demo.PracticeID, olivia); len(ds) != 0 {
		t.Fatalf("refused disclosures wrote %d", len(ds))
	}
	if res := admin.post(disc, url.Values{"disclosed_at": {"2030-03-20"}, "recipient": {"Lincoln School"}, "description": {"Immunizations"},
		"purpose": {"School enrolment"}}); res.status != 303 {
		t.Fatalf("disclose: %d\n%s", res.status, res.body)
	}
	admin.get(rights).want(t, 200, "Lincoln School", "School enrolment", "Wednesday 20 March 2030")
}
