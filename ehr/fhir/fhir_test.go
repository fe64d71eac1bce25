package fhir_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/ehr/fhir"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// mustSchema compiles testdata/fhir.schema.json once.
func mustSchema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	schemaOnce.Do(func() {
		f, err := os.Open("testdata/fhir.schema.json")
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if schemaErr = c.AddResource("fhir.schema.json", doc); schemaErr != nil {
			return
		}
		schema, schemaErr = c.Compile("fhir.schema.json")
	})
	require.NoError(tb, schemaErr)
	return schema
}

// Validate checks one resource (any JSON-encodable value) against the
// official R4 schema, through its JSON.
func Validate(tb testing.TB, r any) error {
	tb.Helper()
	b, err := json.Marshal(r)
	require.NoError(tb, err)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(tb, err)
	return mustSchema(tb).Validate(v)
}

// fixture is a record with every body type, every appointment status and
// an entry entered in error; restricted is a restricted entry, kept out
// as a caller without the grant would (ehr.Visible).
type fixture struct {
	rec        fhir.Record
	restricted *ehr.Entry
	opts       fhir.Options
}

func id(n int) uuid.UUID { return uuid.MustParse(fmt.Sprintf("01900000-0000-7000-8000-%012d", n)) }

func newFixture() fixture {
	at := time.Date(2026, 11, 3, 14, 30, 0, 0, time.UTC)
	practice := &tenant.Practice{ID: id(1), GroupID: id(2), Name: "Maple Clinic", CreatedAt: at}
	loc := &tenant.Location{ID: id(3), PracticeID: practice.ID, Name: "Main St", TimeZone: "America/New_York",
		Address: tenant.Address{Line1: "1 Main St", City: "Springfield", Region: "MA", PostalCode: "01101", Country: "US"},
		Geo:     tenant.GeoPoint{Lat: 42.1, Lng: -72.5}}
	prov := &scheduling.Provider{ID: id(4), PracticeID: practice.ID, NPI: "1234567893", GivenName: "Ada", FamilyName: "Lovelace",
		Specialties: []string{"cardiology"}, LocationIDs: []tenant.LocationID{loc.ID}}
	pat := &scheduling.Patient{ID: id(5), PracticeID: practice.ID, GivenName: "Grace", FamilyName: "Hopper", BirthDate: "1980-12-09",
		Phone: "+12025550143", Email: "grace@example.com", Language: "en", CreatedAt: at, UpdatedAt: at}
	rec := fhir.Record{Practice: practice, Patient: pat, Providers: []*scheduling.Provider{prov}, Locations: []*tenant.Location{loc}}
	for i, s := range []scheduling.Status{scheduling.StatusNew, scheduling.StatusConfirmed, scheduling.StatusArrived,
		scheduling.StatusOut, scheduling.StatusCanceled, scheduling.StatusNoVisit} {
		start := at.Add(time.Duration(i) * 24 * time.Hour)
		rec.Appointments = append(rec.Appointments, &scheduling.Appointment{ID: id(10 + i), PracticeID: practice.ID, ProviderID: prov.ID,
			LocationID: loc.ID, PatientID: pat.ID, Start: start, End: start.Add(30 * time.Minute), Status: s, CreatedAt: at, UpdatedAt: at})
	}
	signedAt := at.Add(time.Hour)
	enc := id(100)
	end := at.Add(40 * time.Minute)
	n := 100
	entry := func(status ehr.Status, inEncounter bool, body ehr.Body) *ehr.Entry {
		e := &ehr.Entry{ID: id(n), PracticeID: practice.ID, PatientID: pat.ID, Kind: body.Kind(), Version: 1, Status: status,
			Body: body, AuthorID: "acct-1", RecordedAt: at.Add(time.Duration(n) * time.Minute), Seq: int64(n - 99)}
		if inEncounter {
			e.EncounterID = &enc
		}
		if ehr.Signs(e.Kind, status) {
			e.SignedBy, e.SignedAt = "acct-2", &signedAt
		}
		n++
		return e
	}
	apptID := rec.Appointments[3].ID
	rec.Entries = []*ehr.Entry{
		entry(ehr.Locked, false, &ehr.Encounter{AppointmentID: &apptID, ProviderID: &prov.ID, Class: "ambulatory", Reason: "chest pain", Start: at, End: &end}),
		entry(ehr.Signed, true, &ehr.Note{Title: "Visit note", Subjective: "Pain since Monday.", Assessment: "Angina?", Plan: "ECG"}),
		entry(ehr.Active, false, &ehr.Problem{Coding: ehr.Coding{System: "http://snomed.info/sct", Code: "194828000", Display: "Angina"}, ClinicalStatus: "active", Onset: "2026-10-01"}),
		entry(ehr.Active, false, &ehr.Problem{Coding: ehr.Coding{Display: "Sprained ankle"}, ClinicalStatus: "resolved", Onset: "2025-01-01", Abatement: "2025-02-01"}),
		entry(ehr.Active, false, &ehr.Allergy{Substance: ehr.Coding{System: "http://www.nlm.nih.gov/research/umls/rxnorm", Code: "7980", Display: "Penicillin G"},
			Type: "allergy", Category: "medication", Criticality: "high", Reaction: "hives"}),
		entry(ehr.Active, false, &ehr.Medication{Medication: ehr.Coding{System: "http://www.nlm.nih.gov/research/umls/rxnorm", Code: "197361", Display: "Amlodipine 5 MG"},
			Dosage: "once a day", ReportedBy: "patient", Taking: "active"}),
		entry(ehr.Active, false, &ehr.Medication{Medication: ehr.Coding{Display: "Aspirin"}, ReportedBy: "relative", Taking: "intended"}),
		entry(ehr.Active, true, &ehr.Vital{Code: "8867-4", Value: 72, Unit: "/min", EffectiveAt: at}),
		entry(ehr.Active, true, &ehr.Vital{Code: "8310-5", Value: 36.8, Unit: "Cel", EffectiveAt: at}),
		entry(ehr.Active, true, &ehr.Immunization{Vaccine: ehr.Coding{System: fhir.SystemCVX, Code: "140", Display: "Influenza, seasonal"}, OccurredOn: "2026-10-15", Lot: "A1", Given: "completed"}),
		entry(ehr.Active, false, &ehr.Immunization{Vaccine: ehr.Coding{System: fhir.SystemCVX, Code: "208", Display: "COVID-19"}, OccurredOn: "2026-10-15", Given: "not-done"}),
		entry(ehr.Active, true, &ehr.Document{FileID: id(900), Title: "ECG tracing", Type: "Cardiology report"}),
		entry(ehr.EnteredInError, false, &ehr.Problem{Coding: ehr.Coding{Display: "Wrong patient's asthma"}, ClinicalStatus: "active"}),
		entry(ehr.EnteredInError, true, &ehr.Vital{Code: "29463-7", Value: 70, Unit: "kg", EffectiveAt: at}),
		entry(ehr.EnteredInError, false, &ehr.Allergy{Substance: ehr.Coding{Display: "Peanut"}, Type: "allergy", Category: "food"}),
		entry(ehr.EnteredInError, false, &ehr.Medication{Medication: ehr.Coding{Display: "Metformin"}, ReportedBy: "practitioner", Taking: "stopped"}),
		entry(ehr.EnteredInError, false, &ehr.Immunization{Vaccine: ehr.Coding{Display: "Tdap"}, OccurredOn: "2026-01-01", Given: "completed"}),
		entry(ehr.EnteredInError, false, &ehr.Document{FileID: id(901), Title: "Wrong scan"}),
		entry(ehr.Draft, false, &ehr.Encounter{Class: "virtual", Start: at.Add(48 * time.Hour)}),
	}
	addendumTo := rec.Entries[1].ID
	rec.Entries = append(rec.Entries, entry(ehr.Signed, true, &ehr.Note{Title: "Addendum", Plan: "Add stress test", AddendumTo: &addendumTo}))
	rec.Entries[2].Version = 3 // a problem written three times
	restricted := entry(ehr.Active, false, &ehr.Problem{Coding: ehr.Coding{Display: "HIV"}, ClinicalStatus: "active"})
	restricted.Restricted = true
	rec.Entries = ehr.Visible(append(rec.Entries, restricted), false)
	return fixture{rec: rec, restricted: restricted, opts: fhir.Options{
		FileURL: func(f uuid.UUID) string {
			return "https://clinic.example/api/v1/practices/" + practice.ID.String() + "/files/" + f.String()
		},
		Files: map[uuid.UUID]fhir.FileInfo{id(900): {ContentType: "application/pdf", Size: 2048}},
	}}
}

func mustExport(t *testing.T, f fixture) []fhir.Resource {
	t.Helper()
	out, err := fhir.Export(f.rec, f.opts)
	require.NoError(t, err)
	return out
}

// TestSchema validates every exported resource, the Bundle and each
// NDJSON line against the official R4 JSON schema: 0 errors.
func TestSchema(t *testing.T) {
	f := newFixture()
	out := mustExport(t, f)
	types := map[string]int{}
	for _, r := range out {
		types[r.Type()]++
		if err := Validate(t, r); err != nil {
			t.Errorf("%s/%s does not validate: %v", r.Type(), r.ID(), err)
		}
	}
	for _, want := range []string{"Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "Appointment", "Encounter",
		"Condition", "AllergyIntolerance", "MedicationRequest", "Observation", "Immunization", "DocumentReference", "Provenance"} {
		require.NotZero(t, types[want], "no %s exported", want)
	}
	b := fhir.Searchset(out, fhir.Page{Base: "https://clinic.example/fhir", Self: "https://clinic.example/fhir/Patient/x/$everything",
		Next: "https://clinic.example/fhir/Patient/x/$everything?page=2", Total: len(out) + 5, Match: "Patient"})
	require.NoError(t, Validate(t, b))
	var buf bytes.Buffer
	require.NoError(t, fhir.WriteNDJSON(&buf, out))
	lines := 0
	for sc := bufio.NewScanner(&buf); sc.Scan(); lines++ {
		var v map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v))
		require.NoError(t, Validate(t, v))
	}
	require.Equal(t, len(out), lines)
}

// TestSchemaCatchesErrors shows the validation can fail: broken
// resources are refused.
func TestSchemaCatchesErrors(t *testing.T) {
	for name, r := range map[string]fhir.Resource{
		"unknown type":   {"resourceType": "Nope", "id": "x"},
		"bad status":     {"resourceType": "Appointment", "id": "x", "status": "done", "participant": []any{map[string]any{"status": "accepted"}}},
		"bad gender":     {"resourceType": "Patient", "id": "x", "gender": "m"},
		"bad instant":    {"resourceType": "Observation", "id": "x", "status": "final", "code": map[string]any{"text": "x"}, "issued": "yesterday"},
		"unknown member": {"resourceType": "Condition", "id": "x", "subject": map[string]any{"reference": "Patient/1"}, "severity2": 1},
	} {
		t.Run(name, func(t *testing.T) { require.Error(t, Validate(t, r)) })
	}
}

// get walks a path of object members and array indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				if r, ok := v.(fhir.Resource); ok {
					m = r
				} else {
					return nil
				}
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// TestMustSupport checks US Core's must-support elements, by resource
// type, on every resource of that type.
func TestMustSupport(t *testing.T) {
	must := map[string][][]any{
		"Patient":            {{"identifier", 0, "system"}, {"identifier", 0, "value"}, {"name", 0, "family"}, {"name", 0, "given", 0}, {"gender"}, {"birthDate"}, {"telecom", 0, "value"}, {"communication", 0, "language"}},
		"Practitioner":       {{"identifier", 0, "value"}, {"name", 0, "family"}},
		"PractitionerRole":   {{"practitioner", "reference"}, {"organization", "reference"}, {"code"}, {"specialty"}, {"location"}},
		"Organization":       {{"active"}, {"name"}, {"identifier"}},
		"Location":           {{"status"}, {"name"}, {"address", "city"}, {"managingOrganization"}},
		"Appointment":        {{"status"}, {"participant", 0, "actor", "reference"}, {"participant", 0, "status"}},
		"Encounter":          {{"status"}, {"class", "code"}, {"type"}, {"subject", "reference"}, {"period", "start"}},
		"Condition":          {{"verificationStatus"}, {"category", 0, "coding", 0, "code"}, {"code", "text"}, {"subject", "reference"}},
		"AllergyIntolerance": {{"verificationStatus"}, {"code", "text"}, {"patient", "reference"}},
		"MedicationRequest":  {{"status"}, {"intent"}, {"medicationCodeableConcept", "text"}, {"subject", "reference"}, {"authoredOn"}},
		"Observation":        {{"status"}, {"category", 0, "coding", 0, "code"}, {"code", "coding", 0, "code"}, {"subject", "reference"}, {"effectiveDateTime"}, {"valueQuantity", "value"}, {"valueQuantity", "code"}},
		"Immunization":       {{"status"}, {"vaccineCode", "text"}, {"patient", "reference"}, {"occurrenceDateTime"}, {"primarySource"}},
		"DocumentReference":  {{"status"}, {"type"}, {"category", 0, "coding", 0, "code"}, {"subject", "reference"}, {"date"}, {"content", 0, "attachment", "contentType"}},
		"Provenance":         {{"target", 0, "reference"}, {"recorded"}, {"agent", 0, "type"}, {"agent", 0, "who"}, {"agent", 0, "onBehalfOf"}},
	}
	for _, r := range mustExport(t, newFixture()) {
		for _, p := range must[r.Type()] {
			require.NotNil(t, get(r, p...), "%s/%s lacks %v", r.Type(), r.ID(), p)
		}
		switch r.Type() {
		case "Observation":
			require.Equal(t, "vital-signs", get(r, "category", 0, "coding", 0, "code"))
			require.Equal(t, fhir.SystemLOINC, get(r, "code", "coding", 0, "system"))
			require.Equal(t, fhir.SystemUCUM, get(r, "valueQuantity", "system"))
		case "Practitioner":
			require.Equal(t, fhir.SystemNPI, get(r, "identifier", 0, "system"))
		case "DocumentReference":
			if get(r, "type", "coding", 0, "code") == "11506-3" {
				require.Equal(t, "text/plain; charset=utf-8", get(r, "content", 0, "attachment", "contentType"))
				require.NotEmpty(t, get(r, "content", 0, "attachment", "data"))
			} else {
				require.Contains(t, get(r, "content", 0, "attachment", "url"), "/files/")
			}
		case "MedicationRequest":
			require.True(t, get(r, "reportedBoolean") != nil || get(r, "reportedReference") != nil, "%s reports no source", r.ID())
		}
		if r.Type() != "Patient" && r.Type() != "Practitioner" && r.Type() != "PractitionerRole" && r.Type() != "Organization" &&
			r.Type() != "Location" && r.Type() != "Appointment" && r.Type() != "Provenance" {
			require.NotEmpty(t, get(r, "meta", "versionId"), "%s/%s", r.Type(), r.ID())
			require.NotEmpty(t, get(r, "meta", "lastUpdated"), "%s/%s", r.Type(), r.ID())
		}
	}
}

// references collects every "reference" string in v.
func references(v any, out *[]string) {
	switch x := v.(type) {
	case fhir.Resource:
		references(map[string]any(x), out)
	case map[string]any:
		for k, w := range x {
			if s, ok := w.(string); ok && k == "reference" {
				*out = append(*out, s)
			}
			references(w, out)
		}
	case []any:
		for _, w := range x {
			references(w, out)
		}
	}
}

// TestInvariants checks what the schema cannot: Appointment's start and
// end both or neither; references resolve within the export; ids unique;
// statuses mapped; restricted entries out; FHIR's own rules con-4/con-5
// and ait-2 on entered-in-error records; entry versions in meta.
func TestInvariants(t *testing.T) {
	f := newFixture()
	out := mustExport(t, f)
	have := map[string]fhir.Resource{}
	for _, r := range out {
		key := r.Type() + "/" + r.ID()
		require.NotContains(t, have, key, "duplicate")
		have[key] = r
	}
	for _, r := range out {
		var refs []string
		references(r, &refs)
		for _, s := range refs {
			s, _, _ = strings.Cut(s, "/_history/")
			require.Contains(t, have, s, "%s/%s refers to %s, not in the export", r.Type(), r.ID(), s)
		}
		switch r.Type() {
		case "Appointment":
			require.Equal(t, r["start"] == nil, r["end"] == nil, "start and end both or neither")
		case "Condition":
			if get(r, "verificationStatus", "coding", 0, "code") == "entered-in-error" {
				require.Nil(t, r["clinicalStatus"], "con-5")
			}
			if r["abatementDateTime"] != nil {
				require.Contains(t, []any{"inactive", "resolved", "remission"}, get(r, "clinicalStatus", "coding", 0, "code"), "con-4")
			}
		case "AllergyIntolerance":
			if get(r, "verificationStatus", "coding", 0, "code") == "entered-in-error" {
				require.Nil(t, r["clinicalStatus"], "ait-2")
			}
		}
	}
	require.NotContains(t, have, "Condition/"+f.restricted.ID.String(), "a restricted entry was exported")
	statuses := map[string]bool{}
	for _, a := range f.rec.Appointments {
		statuses[have["Appointment/"+a.ID.String()]["status"].(string)] = true
	}
	require.Equal(t, map[string]bool{"proposed": true, "booked": true, "arrived": true, "fulfilled": true, "cancelled": true, "noshow": true}, statuses)
	require.Equal(t, "3", get(have["Condition/"+f.rec.Entries[2].ID.String()], "meta", "versionId"))
	errored := 0
	for _, e := range f.rec.Entries {
		r := have[fhir.ResourceType(e.Kind)+"/"+e.ID.String()]
		require.NotNil(t, r, "entry %s not exported", e.ID)
		if e.Status == ehr.EnteredInError {
			errored++
			status := r["status"]
			if status == nil {
				status = get(r, "verificationStatus", "coding", 0, "code")
			}
			require.Equal(t, "entered-in-error", status, "%s/%s", r.Type(), r.ID())
		}
	}
	require.Equal(t, 6, errored)
}

// TestRestrictedWhenVisible shows a restricted entry, exported for one who
// may see it, carries the confidentiality label R.
func TestRestrictedWhenVisible(t *testing.T) {
	f := newFixture()
	r, err := fhir.EntryResource(f.restricted, f.opts)
	require.NoError(t, err)
	require.Equal(t, "R", get(r, "meta", "security", 0, "code"))
	require.NoError(t, Validate(t, r))
}

func TestExportRefuses(t *testing.T) {
	f := newFixture()
	for name, rec := range map[string]fhir.Record{
		"no patient":       {Practice: f.rec.Practice},
		"body of its kind": {Practice: f.rec.Practice, Patient: f.rec.Patient, Entries: []*ehr.Entry{{ID: id(7), Kind: ehr.KindVital, Body: &ehr.Note{Title: "x"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := fhir.Export(rec, f.opts)
			require.Error(t, err)
		})
	}
	require.Error(t, fhir.WriteNDJSON(&bytes.Buffer{}, []fhir.Resource{{"id": "x"}}))
}

// TestExportPage checks that every page of ExportPage, at every offset and
// size (past the end included), is that part of Export, with its total.
func TestExportPage(t *testing.T) {
	f := newFixture()
	all := mustExport(t, f)
	for offset := 0; offset <= len(all)+1; offset++ {
		for _, limit := range []int{-1, 0, 1, 2, 3, 7, len(all), len(all) + 5} {
			got, total, err := fhir.ExportPage(f.rec, f.opts, offset, limit)
			require.NoError(t, err)
			require.Equal(t, len(all), total)
			lo, hi := min(offset, len(all)), len(all)
			if limit >= 0 {
				hi = min(lo+limit, len(all))
			}
			require.Equal(t, len(all[lo:hi]), len(got), "offset %d limit %d", offset, limit)
			for i := range got {
				require.Equal(t, all[lo+i], got[i], "offset %d limit %d item %d", offset, limit, i)
			}
		}
	}
	_, _, err := fhir.ExportPage(f.rec, f.opts, -1, 5)
	require.Error(t, err)
}
