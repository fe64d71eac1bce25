package api

import (
	"context"
	"strings"
	"testing"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

// chartEntry charts a problem of patient in practice, straight in the
// store, for requests to name.
func (m *matrixEnv) chartEntry(practice, patient string) string {
	m.t.Helper()
	e := &ehr.Entry{ID: uuid.New(), PracticeID: uuid.MustParse(practice), PatientID: uuid.MustParse(patient), Kind: ehr.KindProblem,
		Version: 1, Status: ehr.Active, Body: &ehr.Problem{Coding: ehr.Coding{Display: "Asthma"}, ClinicalStatus: "active"},
		AuthorID: "staff:test", RecordedAt: testNow}
	if err := m.st.EHR.Append(context.Background(), e, testNow); err != nil {
		m.t.Fatal(err)
	}
	return e.ID.String()
}

// TestRightsAPI walks the patient's rights through the API behind
// SessionAuth, on SQLite and PostgreSQL: the patient requests an
// amendment and a copy of their record, the administrator denies the one
// and fulfils the other, the patient disagrees and the administrator
// rebuts; a second decision is 409; a disclosure is recorded and reported
// to the patient; the front desk is refused, and every access logged once.
func TestRightsAPI(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) { testRightsAPI(t, newMatrixEnvOn(t, st)) })
}

func testRightsAPI(t *testing.T, m *matrixEnv) {
	admin, desk, self := bearer(m.token("practice_admin_A")), bearer(m.token("front_desk_A")), bearer(m.token("patient_P1"))
	base := "/api/v1/practices/" + m.a.practice
	pt := base + "/patients/" + m.a.patient
	entry := m.chartEntry(m.a.practice, m.a.patient)

	a := m.ok(m.do("POST", pt+"/amendments", map[string]any{"entry_ids": []string{entry}, "reason": "I never had asthma."}, self), 201)
	if a["status"] != "requested" || a["due"] != "2030-05-03T15:00:00Z" {
		t.Fatalf("request = %v", a)
	}
	id := str(a, "id")
	if n := len(m.items(m.do("GET", pt+"/amendments", nil, self))); n != 1 {
		t.Fatalf("the patient lists %d requests", n)
	}
	m.problem(m.do("GET", pt+"/amendments", nil, desk), 403, "")
	m.problem(m.do("POST", pt+"/amendments/"+id+"/decision", map[string]any{"accept": true, "amendment": "x"}, self), 403, "")
	d := m.ok(m.do("POST", pt+"/amendments/"+id+"/decision", map[string]any{"denial_basis": "accurate", "reason": "Confirmed by spirometry."}, admin), 200)
	if d["status"] != "denied" || d["denial_reason"] != "Confirmed by spirometry." {
		t.Fatalf("decision = %v", d)
	}
	m.problem(m.do("POST", pt+"/amendments/"+id+"/decision", map[string]any{"accept": true, "amendment": "x"}, admin), 409, "")
	m.ok(m.do("POST", pt+"/amendments/"+id+"/disagreement", map[string]any{"text": "It was bronchitis."}, self), 200)
	r := m.ok(m.do("POST", pt+"/amendments/"+id+"/rebuttal", map[string]any{"text": "Spirometry says otherwise."}, admin), 200)
	if r["rebuttal"] == nil || r["disagreement"] == nil {
		t.Fatalf("after the rebuttal: %v", r)
	}

	rr := m.ok(m.do("POST", pt+"/record-requests", map[string]any{"form": "fhir"}, self), 201)
	m.ok(m.do("POST", pt+"/record-requests/"+str(rr, "id")+"/extension", map[string]any{"reason": "Archived paper records."}, admin), 200)
	f := m.ok(m.do("POST", pt+"/record-requests/"+str(rr, "id")+"/fulfilment", map[string]any{"form": "human-readable"}, admin), 200)
	if f["status"] != "fulfilled" || f["fulfilled_form"] != "human-readable" {
		t.Fatalf("fulfilment = %v", f)
	}
	if n := len(m.items(m.do("GET", pt+"/record-requests", nil, self))); n != 1 {
		t.Fatalf("the patient lists %d record requests", n)
	}
	if n := len(m.items(m.do("GET", base+"/amendments/overdue", nil, admin))); n != 0 {
		t.Fatalf("%d overdue amendments", n)
	}
	if n := len(m.items(m.do("GET", base+"/record-requests/overdue", nil, admin))); n != 0 {
		t.Fatalf("%d overdue record requests", n)
	}
	m.problem(m.do("GET", base+"/record-requests/overdue", nil, self), 403, "")

	m.ok(m.do("POST", pt+"/disclosures", map[string]any{"disclosed_at": "2030-03-01T10:00:00Z", "recipient": "State registry",
		"description": "Immunizations", "purpose": "Required by law"}, admin), 201)
	m.problem(m.do("POST", pt+"/disclosures", map[string]any{"disclosed_at": "2030-03-01T10:00:00Z", "recipient": "x",
		"description": "x", "purpose": "x"}, self), 403, "")
	if n := len(m.items(m.do("GET", pt+"/disclosures", nil, self))); n != 1 {
		t.Fatalf("the patient's report lists %d disclosures", n)
	}
	// The other patient's record is not P1's to ask about.
	m.problem(m.do("GET", base+"/patients/"+m.a.otherPatient+"/disclosures", nil, self), 403, "")

	for action, want := range map[string][]audit.Outcome{
		"amendment.request":  {audit.Allowed},
		"amendment.read":     {audit.Allowed, audit.Denied},
		"amendment.decide":   {audit.Denied, audit.Allowed, audit.Failed},
		"amendment.disagree": {audit.Allowed},
		"amendment.rebut":    {audit.Allowed},
		"access.request":     {audit.Allowed},
		"access.fulfil":      {audit.Allowed},
		"disclosure.record":  {audit.Allowed, audit.Denied},
		"disclosure.report":  {audit.Allowed, audit.Denied},
	} {
		var got []audit.Outcome
		for _, e := range m.entries(action) {
			if e.PatientID == nil {
				t.Errorf("%s: an entry names no patient", action)
			}
			got = append(got, e.Outcome)
		}
		if len(got) != len(want) {
			t.Errorf("%s: outcomes %v, want %v", action, got, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: outcomes %v, want %v", action, got, want)
				break
			}
		}
	}
}

// TestRightsBadInput refuses bad requests, decisions and disclosures with
// a 4xx naming the field, never a 5xx, and writes nothing.
func TestRightsBadInput(t *testing.T) {
	m := newMatrixEnv(t)
	admin := bearer(m.token("practice_admin_A"))
	base := "/api/v1/practices/" + m.a.practice
	pt := base + "/patients/" + m.a.patient
	entry := m.chartEntry(m.a.practice, m.a.patient)
	othersEntry := m.chartEntry(m.a.practice, m.a.otherPatient)
	a := m.ok(m.do("POST", pt+"/amendments", map[string]any{"entry_ids": []string{entry}, "reason": "Wrong."}, admin), 201)
	rr := m.ok(m.do("POST", pt+"/record-requests", map[string]any{}, admin), 201)
	am, rq := pt+"/amendments/"+str(a, "id"), pt+"/record-requests/"+str(rr, "id")
	disclosure := func(k string, v any) map[string]any {
		d := map[string]any{"disclosed_at": "2030-03-01T10:00:00Z", "recipient": "Registry", "description": "Immunizations", "purpose": "Law"}
		if v == nil {
			delete(d, k)
		} else {
			d[k] = v
		}
		return d
	}
	for _, c := range []struct {
		name   string
		path   string
		body   any
		status int
		field  string
	}{
		{"no entries", pt + "/amendments", map[string]any{"reason": "x"}, 400, "entry_ids"},
		{"an entry not a UUID", pt + "/amendments", map[string]any{"entry_ids": []string{"problem-1"}, "reason": "x"}, 400, "entry_ids"},
		{"an unknown entry", pt + "/amendments", map[string]any{"entry_ids": []string{uuid.NewString()}, "reason": "x"}, 404, "entry_ids"},
		{"another patient's entry", pt + "/amendments", map[string]any{"entry_ids": []string{othersEntry}, "reason": "x"}, 404, "entry_ids"},
		{"no reason", pt + "/amendments", map[string]any{"entry_ids": []string{entry}}, 400, "reason"},
		{"a reason too long", pt + "/amendments", map[string]any{"entry_ids": []string{entry}, "reason": strings.Repeat("a", 10_001)}, 400, "reason"},
		{"an unknown member", pt + "/amendments", map[string]any{"entry_ids": []string{entry}, "reason": "x", "x": 1}, 400, "x"},
		{"reason not a string", pt + "/amendments", map[string]any{"entry_ids": []string{entry}, "reason": 7}, 400, "reason"},
		{"malformed JSON", pt + "/amendments", raw(`{"reason": `), 400, ""},
		{"a request ID not a UUID", pt + "/amendments/first/decision", map[string]any{"accept": true, "amendment": "x"}, 400, "amendment"},
		{"an unknown request", pt + "/amendments/" + uuid.NewString() + "/decision", map[string]any{"accept": true, "amendment": "x"}, 404, ""},
		{"accepted without text", am + "/decision", map[string]any{"accept": true}, 400, "amendment"},
		{"denied on no basis", am + "/decision", map[string]any{"denial_basis": "dunno", "reason": "x"}, 400, "denial_basis"},
		{"denied without reason", am + "/decision", map[string]any{"denial_basis": "accurate"}, 400, "reason"},
		{"an extension without reason", am + "/extension", map[string]any{"reason": ""}, 400, "reason"},
		{"a disagreement before a denial", am + "/disagreement", map[string]any{"text": "x"}, 409, ""},
		{"an unknown form", pt + "/record-requests", map[string]any{"form": "pdf"}, 400, "form"},
		{"fulfilled in no form", rq + "/fulfilment", map[string]any{}, 400, "form"},
		{"denied without reason", rq + "/denial", map[string]any{}, 400, "reason"},
		{"a record request ID not a UUID", pt + "/record-requests/x/denial", map[string]any{"reason": "x"}, 400, "record_request"},
		{"no date", pt + "/disclosures", disclosure("disclosed_at", nil), 400, "disclosed_at"},
		{"a date not RFC 3339", pt + "/disclosures", disclosure("disclosed_at", "2030-03-01"), 400, "disclosed_at"},
		{"a date in the future", pt + "/disclosures", disclosure("disclosed_at", "2030-03-05T10:00:00Z"), 400, "disclosed_at"},
		{"no recipient", pt + "/disclosures", disclosure("recipient", nil), 400, "recipient"},
		{"an address too long", pt + "/disclosures", disclosure("recipient_address", strings.Repeat("a", 501)), 400, "recipient_address"},
		{"no description", pt + "/disclosures", disclosure("description", nil), 400, "description"},
		{"no purpose", pt + "/disclosures", disclosure("purpose", "   "), 400, "purpose"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m.t = t
			m.problem(m.do("POST", c.path, c.body, admin), c.status, c.field)
			as := m.items(m.do("GET", pt+"/amendments", nil, admin))
			if len(as) != 1 || as[0].(map[string]any)["status"] != "requested" || as[0].(map[string]any)["version"] != 1.0 {
				t.Errorf("amendments after a refusal: %v", as)
			}
			rs := m.items(m.do("GET", pt+"/record-requests", nil, admin))
			if len(rs) != 1 || rs[0].(map[string]any)["version"] != 1.0 {
				t.Errorf("record requests after a refusal: %v", rs)
			}
			if n := len(m.items(m.do("GET", pt+"/disclosures", nil, admin))); n != 0 {
				t.Errorf("%d disclosures after a refusal", n)
			}
		})
	}
}
