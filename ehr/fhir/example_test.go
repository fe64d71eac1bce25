package fhir_test

import (
	"fmt"
	"os"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/ehr/fhir"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Export maps one patient's record; WriteNDJSON writes it one resource a
// line (Searchset would page it as a Bundle).
func ExampleExport() {
	practice := &tenant.Practice{ID: uuid.MustParse("01900000-0000-7000-8000-000000000001"), Name: "Maple Clinic"}
	patient := &scheduling.Patient{ID: uuid.MustParse("01900000-0000-7000-8000-000000000002"), PracticeID: practice.ID,
		GivenName: "Grace", FamilyName: "Hopper", BirthDate: "1980-12-09", UpdatedAt: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}
	vital := &ehr.Entry{ID: uuid.MustParse("01900000-0000-7000-8000-000000000003"), PracticeID: practice.ID, PatientID: patient.ID,
		Kind: ehr.KindVital, Version: 1, Status: ehr.Active, AuthorID: "acct-1", RecordedAt: time.Date(2026, 11, 3, 9, 5, 0, 0, time.UTC),
		Body: &ehr.Vital{Code: "8867-4", Value: 72, Unit: "/min", EffectiveAt: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}}
	out, err := fhir.Export(fhir.Record{Practice: practice, Patient: patient, Entries: []*ehr.Entry{vital}}, fhir.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range out {
		fmt.Println(r.Type(), r.ID())
	}
	if err := fhir.WriteNDJSON(os.Stdout, out[2:3]); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Patient 01900000-0000-7000-8000-000000000002
	// Organization 01900000-0000-7000-8000-000000000001
	// Observation 01900000-0000-7000-8000-000000000003
	// Provenance eeebb8d3-9c67-5620-ad30-8ad9090ae912
	// {"category":[{"coding":[{"code":"vital-signs","display":"Vital Signs","system":"http://terminology.hl7.org/CodeSystem/observation-category"}],"text":"Vital Signs"}],"code":{"coding":[{"code":"8867-4","display":"heart rate","system":"http://loinc.org"}],"text":"heart rate"},"effectiveDateTime":"2026-11-03T09:00:00.000Z","id":"01900000-0000-7000-8000-000000000003","issued":"2026-11-03T09:05:00.000Z","meta":{"lastUpdated":"2026-11-03T09:05:00.000Z","versionId":"1"},"resourceType":"Observation","status":"final","subject":{"reference":"Patient/01900000-0000-7000-8000-000000000002"},"valueQuantity":{"code":"/min","system":"http://unitsofmeasure.org","unit":"/min","value":72}}
}
