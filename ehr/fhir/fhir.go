package fhir

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Resource is one FHIR resource as its JSON object: "resourceType" and
// "id" are always set.
type Resource map[string]any

// Type is the resource's resourceType.
func (r Resource) Type() string { s, _ := r["resourceType"].(string); return s }

// ID is the resource's id.
func (r Resource) ID() string { s, _ := r["id"].(string); return s }

// Code systems and identifier systems the resources use.
const (
	SystemNPI         = "http://hl7.org/fhir/sid/us-npi"
	SystemLOINC       = "http://loinc.org"
	SystemUCUM        = "http://unitsofmeasure.org"
	SystemCVX         = "http://hl7.org/fhir/sid/cvx"
	SystemURI         = "urn:ietf:rfc:3986"
	SystemAccount     = "urn:carebook:account" // who wrote an entry: an account's ID
	systemObsCategory = "http://terminology.hl7.org/CodeSystem/observation-category"
)

// Options are what a Record's export needs beyond the record.
type Options struct {
	// FileURL is the URL of a patient's file (the API's download route),
	// put in a DocumentReference's attachment.
	FileURL func(file uuid.UUID) string
	// Files are the patients' files by ID, for their media type and size;
	// a file not found is exported as application/octet-stream.
	Files map[uuid.UUID]FileInfo
}

// FileInfo is what a DocumentReference says of a file.
type FileInfo struct {
	ContentType string
	Size        int64
}

// Record is what Export maps: one patient's record in one practice.
// Entries are the current versions of the chart's entries, already
// filtered by who may see them (ehr.Visible); Providers and Locations are
// those the appointments and entries refer to (more do no harm).
type Record struct {
	Practice     *tenant.Practice
	Patient      *scheduling.Patient
	Providers    []*scheduling.Provider
	Locations    []*tenant.Location
	Appointments []*scheduling.Appointment
	Entries      []*ehr.Entry
}

// Export maps r to its resources, in a stable order: the Patient, the
// Organization, the Locations, each Practitioner and its
// PractitionerRole, the Appointments, then each chart entry followed by
// its Provenance. An entry whose body does not match its kind is
// KindInvalid naming "entries".
func Export(r Record, o Options) ([]Resource, error) {
	out, _, err := ExportPage(r, o, 0, -1)
	return out, err
}

// ExportPage is the part of Export(r, o) from offset, at most limit
// resources (all the rest when limit is negative), and the length of the
// whole export: only the resources of the part are mapped, so that a
// page of a long chart costs a page. An offset past the end gives none.
func ExportPage(r Record, o Options, offset, limit int) ([]Resource, int, error) {
	const op = "fhir.Export"
	if r.Practice == nil || r.Patient == nil {
		return nil, 0, errs.Invalid(op, "patient", "is required, with its practice")
	}
	if offset < 0 {
		return nil, 0, errs.Invalid(op, "offset", "is negative")
	}
	head := []Resource{Patient(r.Patient), Organization(r.Practice)}
	for _, l := range r.Locations {
		head = append(head, Location(l))
	}
	for _, p := range r.Providers {
		head = append(head, Practitioner(p), PractitionerRole(p))
	}
	for _, a := range r.Appointments {
		head = append(head, Appointment(a))
	}
	total := len(head) + 2*len(r.Entries)
	end := total
	if limit >= 0 && limit < total-offset {
		end = offset + limit
	}
	var out []Resource
	if offset < len(head) {
		out = append(out, head[offset:min(end, len(head))]...)
	}
	// Each entry is two resources: itself, then its Provenance.
	for i := max(offset, len(head)); i < end; {
		k := (i - len(head)) / 2
		e := r.Entries[k]
		res, err := EntryResource(e, o)
		if err != nil {
			return nil, 0, err
		}
		if (i-len(head))%2 == 0 {
			out = append(out, res)
			i++
		}
		if i < end {
			out = append(out, Provenance(e, res))
			i++
		}
	}
	return out, total, nil
}

// ref is a reference to a resource of type typ.
func ref(typ string, id uuid.UUID) map[string]any {
	return map[string]any{"reference": typ + "/" + id.String()}
}

// instant writes t as a FHIR instant (UTC).
func instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// coding is a CodeableConcept of c: its coding when it has a code, its
// display as text either way.
func concept(c ehr.Coding) map[string]any {
	out := map[string]any{"text": c.Display}
	if c.Code != "" {
		out["coding"] = []any{map[string]any{"system": c.System, "code": c.Code, "display": c.Display}}
	}
	return out
}

// coded is a CodeableConcept of one code of system.
func coded(system, code, display string) map[string]any {
	c := map[string]any{"system": system, "code": code}
	if display != "" {
		c["display"] = display
	}
	return map[string]any{"coding": []any{c}}
}

// Patient maps a patient: an identifier (its ID as a URI), the name,
// gender (carebook keeps none: "unknown", which US Core allows), birth
// date, phone and email, and language.
func Patient(p *scheduling.Patient) Resource {
	r := Resource{"resourceType": "Patient", "id": p.ID.String(),
		"meta":       map[string]any{"lastUpdated": instant(p.UpdatedAt)},
		"identifier": []any{map[string]any{"system": SystemURI, "value": "urn:uuid:" + p.ID.String()}},
		"active":     true,
		"name":       []any{map[string]any{"use": "official", "family": p.FamilyName, "given": []any{p.GivenName}}},
		"gender":     "unknown",
	}
	if p.BirthDate != "" {
		r["birthDate"] = p.BirthDate
	}
	var telecom []any
	if p.Phone != "" {
		telecom = append(telecom, map[string]any{"system": "phone", "value": p.Phone, "use": "mobile"})
	}
	if p.Email != "" {
		telecom = append(telecom, map[string]any{"system": "email", "value": p.Email})
	}
	if telecom != nil {
		r["telecom"] = telecom
	}
	if p.Language != "" {
		r["communication"] = []any{map[string]any{"language": coded("urn:ietf:bcp:47", p.Language, "")}}
	}
	return r
}

// Practitioner maps a provider: the NPI as its identifier, and the name.
func Practitioner(p *scheduling.Provider) Resource {
	return Resource{"resourceType": "Practitioner", "id": p.ID.String(),
		"identifier": []any{map[string]any{"system": SystemNPI, "value": p.NPI}},
		"active":     true,
		"name":       []any{map[string]any{"family": p.FamilyName, "given": []any{p.GivenName}}},
	}
}

// PractitionerRole maps a provider's role in its practice: the
// practitioner, the organization, the specialties (as text: carebook's
// codes are its own) and the locations. Its id is the provider's.
func PractitionerRole(p *scheduling.Provider) Resource {
	r := Resource{"resourceType": "PractitionerRole", "id": p.ID.String(), "active": true,
		"practitioner": ref("Practitioner", p.ID), "organization": ref("Organization", p.PracticeID),
		"code": []any{coded("http://terminology.hl7.org/CodeSystem/practitioner-role", "doctor", "Doctor")},
	}
	var specs, locs []any
	for _, s := range p.Specialties {
		specs = append(specs, map[string]any{"text": s})
	}
	for _, l := range p.LocationIDs {
		locs = append(locs, ref("Location", l))
	}
	if specs != nil {
		r["specialty"] = specs
	}
	if locs != nil {
		r["location"] = locs
	}
	return r
}

// Organization maps a practice.
func Organization(p *tenant.Practice) Resource {
	return Resource{"resourceType": "Organization", "id": p.ID.String(), "active": true, "name": p.Name,
		"identifier": []any{map[string]any{"system": SystemURI, "value": "urn:uuid:" + p.ID.String()}}}
}

// address maps a postal address.
func address(a tenant.Address) map[string]any {
	out := map[string]any{"use": "work"}
	var lines []any
	for _, l := range []string{a.Line1, a.Line2} {
		if l != "" {
			lines = append(lines, l)
		}
	}
	if lines != nil {
		out["line"] = lines
	}
	for k, v := range map[string]string{"city": a.City, "state": a.Region, "postalCode": a.PostalCode, "country": a.Country} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// Location maps a location of a practice, with its address and position.
func Location(l *tenant.Location) Resource {
	return Resource{"resourceType": "Location", "id": l.ID.String(), "status": "active", "name": l.Name,
		"mode": "instance", "address": address(l.Address), "managingOrganization": ref("Organization", l.PracticeID),
		"position": map[string]any{"latitude": l.Geo.Lat, "longitude": l.Geo.Lng}}
}

// AppointmentStatus is the FHIR status of a carebook appointment status:
// new→proposed, confirmed→booked, arrived→arrived, out→fulfilled,
// canceled→cancelled, no-visit→noshow; an unknown one is "".
func AppointmentStatus(s scheduling.Status) string {
	return map[scheduling.Status]string{scheduling.StatusNew: "proposed", scheduling.StatusConfirmed: "booked",
		scheduling.StatusArrived: "arrived", scheduling.StatusOut: "fulfilled", scheduling.StatusCanceled: "cancelled",
		scheduling.StatusNoVisit: "noshow"}[s]
}

// Appointment maps an appointment: its status, start and end (both or
// neither), and its participants: the patient, the practitioner and the
// location.
func Appointment(a *scheduling.Appointment) Resource {
	partStatus := "accepted"
	if a.Status == scheduling.StatusNew {
		partStatus = "needs-action"
	}
	if a.Status == scheduling.StatusCanceled {
		partStatus = "declined"
	}
	r := Resource{"resourceType": "Appointment", "id": a.ID.String(),
		"meta":    map[string]any{"lastUpdated": instant(a.UpdatedAt)},
		"status":  AppointmentStatus(a.Status),
		"created": a.CreatedAt.UTC().Format(time.DateOnly),
		"participant": []any{
			map[string]any{"actor": ref("Patient", a.PatientID), "required": "required", "status": "accepted"},
			map[string]any{"actor": ref("Practitioner", a.ProviderID), "required": "required", "status": partStatus},
			map[string]any{"actor": ref("Location", a.LocationID), "required": "required", "status": partStatus},
		},
	}
	if !a.Start.IsZero() && !a.End.IsZero() {
		r["start"], r["end"] = instant(a.Start), instant(a.End)
		r["minutesDuration"] = int(a.End.Sub(a.Start) / time.Minute)
	}
	return r
}

// resourceType is the FHIR resource an entry of kind k is exported as.
var resourceType = map[ehr.Kind]string{
	ehr.KindEncounter: "Encounter", ehr.KindNote: "DocumentReference", ehr.KindProblem: "Condition",
	ehr.KindAllergy: "AllergyIntolerance", ehr.KindMedication: "MedicationRequest", ehr.KindVital: "Observation",
	ehr.KindImmunization: "Immunization", ehr.KindDocument: "DocumentReference",
}

// ResourceType is the FHIR resource type an entry of kind k is exported
// as ("" for an unknown kind).
func ResourceType(k ehr.Kind) string { return resourceType[k] }

// EntryResource maps the current version of a chart entry: meta.versionId
// is its version and meta.lastUpdated when it was recorded; a restricted
// entry carries the confidentiality label R. An entry entered in error
// maps to each resource's entered-in-error status.
func EntryResource(e *ehr.Entry, o Options) (Resource, error) {
	const op = "fhir.EntryResource"
	meta := map[string]any{"versionId": strconv.Itoa(e.Version), "lastUpdated": instant(e.RecordedAt)}
	if e.Restricted {
		meta["security"] = []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R", "display": "restricted"}}
	}
	r := Resource{"id": e.ID.String(), "meta": meta}
	bad := e.Status == ehr.EnteredInError
	subject := ref("Patient", e.PatientID)
	var ok bool
	switch b := e.Body.(type) {
	case *ehr.Encounter:
		ok = true
		encounter(r, e, b)
	case *ehr.Note:
		ok = true
		note(r, e, b)
	case *ehr.Problem:
		ok = true
		r["resourceType"] = "Condition"
		r["subject"] = subject
		r["code"] = concept(b.Coding)
		r["category"] = []any{coded("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item")}
		r["recordedDate"] = instant(e.RecordedAt)
		if bad {
			r["verificationStatus"] = coded("http://terminology.hl7.org/CodeSystem/condition-ver-status", "entered-in-error", "Entered in Error")
		} else {
			r["verificationStatus"] = coded("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed")
			r["clinicalStatus"] = coded("http://terminology.hl7.org/CodeSystem/condition-clinical", b.ClinicalStatus, "")
		}
		if b.Onset != "" {
			r["onsetDateTime"] = b.Onset
		}
		// con-4: an abatement only with a clinical status that is not active.
		if b.Abatement != "" && (bad || b.ClinicalStatus == "inactive" || b.ClinicalStatus == "resolved" || b.ClinicalStatus == "remission") {
			r["abatementDateTime"] = b.Abatement
		}
	case *ehr.Allergy:
		ok = true
		r["resourceType"] = "AllergyIntolerance"
		r["patient"] = subject
		r["code"] = concept(b.Substance)
		r["type"] = b.Type
		r["category"] = []any{b.Category}
		r["recordedDate"] = instant(e.RecordedAt)
		if b.Criticality != "" {
			r["criticality"] = b.Criticality
		}
		if b.Reaction != "" {
			r["reaction"] = []any{map[string]any{"manifestation": []any{map[string]any{"text": b.Reaction}}}}
		}
		if bad {
			r["verificationStatus"] = coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "entered-in-error", "Entered in Error")
		} else {
			clinical := "active"
			if e.Status == ehr.Inactive {
				clinical = "inactive"
			}
			r["clinicalStatus"] = coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", clinical, "")
			r["verificationStatus"] = coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed")
		}
	case *ehr.Medication:
		ok = true
		medication(r, e, b)
	case *ehr.Vital:
		ok = true
		sign := ehr.VitalSigns[b.Code]
		status := "final"
		if e.Version > 1 {
			status = "amended"
		}
		if bad {
			status = "entered-in-error"
		}
		r["resourceType"] = "Observation"
		r["status"] = status
		r["category"] = []any{map[string]any{"coding": []any{map[string]any{"system": systemObsCategory, "code": "vital-signs", "display": "Vital Signs"}}, "text": "Vital Signs"}}
		r["code"] = map[string]any{"coding": []any{map[string]any{"system": SystemLOINC, "code": b.Code, "display": sign.Name}}, "text": sign.Name}
		r["subject"] = subject
		r["effectiveDateTime"] = instant(b.EffectiveAt)
		r["issued"] = instant(e.RecordedAt)
		r["valueQuantity"] = map[string]any{"value": b.Value, "unit": b.Unit, "system": SystemUCUM, "code": b.Unit}
	case *ehr.Immunization:
		ok = true
		status := b.Given
		if bad {
			status = "entered-in-error"
		}
		r["resourceType"] = "Immunization"
		r["status"] = status
		r["vaccineCode"] = concept(b.Vaccine)
		r["patient"] = subject
		r["occurrenceDateTime"] = b.OccurredOn
		r["recorded"] = instant(e.RecordedAt)
		r["primarySource"] = true
		if b.Lot != "" {
			r["lotNumber"] = b.Lot
		}
		if b.Given == "not-done" {
			r["statusReason"] = map[string]any{"text": "not given"}
		}
	case *ehr.Document:
		ok = true
		document(r, e, b, o)
	}
	if !ok || r.Type() != resourceType[e.Kind] {
		return nil, errs.Invalid(op, "entries", "entry "+e.ID.String()+" has no body of its kind")
	}
	if e.EncounterID != nil {
		switch r.Type() {
		case "Condition", "Observation", "Immunization", "MedicationRequest":
			r["encounter"] = ref("Encounter", *e.EncounterID)
		case "DocumentReference":
			r["context"].(map[string]any)["encounter"] = []any{ref("Encounter", *e.EncounterID)}
		}
	}
	return r, nil
}

// encounter maps an encounter: open (draft) is in-progress, signed or
// locked finished, entered in error entered-in-error.
func encounter(r Resource, e *ehr.Entry, b *ehr.Encounter) {
	status := "finished"
	switch e.Status {
	case ehr.Draft:
		status = "in-progress"
	case ehr.EnteredInError:
		status = "entered-in-error"
	}
	class := map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"}
	if b.Class == "virtual" {
		class["code"], class["display"] = "VR", "virtual"
	}
	period := map[string]any{"start": instant(b.Start)}
	if b.End != nil {
		period["end"] = instant(*b.End)
	}
	r["resourceType"] = "Encounter"
	r["status"] = status
	r["class"] = class
	r["type"] = []any{coded("http://snomed.info/sct", "185349003", "Encounter for check up")}
	r["subject"] = ref("Patient", e.PatientID)
	r["period"] = period
	if b.ProviderID != nil {
		r["participant"] = []any{map[string]any{"individual": ref("Practitioner", *b.ProviderID)}}
	}
	if b.AppointmentID != nil {
		r["appointment"] = []any{ref("Appointment", *b.AppointmentID)}
	}
	if b.Reason != "" {
		r["reasonCode"] = []any{map[string]any{"text": b.Reason}}
	}
}

// docStatus is a DocumentReference's status and docStatus for an entry.
func docStatus(e *ehr.Entry) (status, doc string) {
	switch e.Status {
	case ehr.EnteredInError:
		return "entered-in-error", ""
	case ehr.Draft:
		return "current", "preliminary"
	case ehr.Inactive:
		return "superseded", "final"
	}
	return "current", "final"
}

// clinicalNote is US Core's DocumentReference category of clinical notes.
var clinicalNote = []any{coded("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category", "clinical-note", "Clinical Note")}

// note maps a clinical note as US Core does: a DocumentReference of type
// progress note (LOINC 11506-3) whose attachment is the note's text,
// text/plain, base64; an addendum "appends" to the note it corrects.
func note(r Resource, e *ehr.Entry, b *ehr.Note) {
	var text strings.Builder
	text.WriteString(b.Title + "\n")
	for _, s := range []struct{ name, v string }{{"Subjective", b.Subjective}, {"Objective", b.Objective},
		{"Assessment", b.Assessment}, {"Plan", b.Plan}} {
		if s.v != "" {
			text.WriteString("\n" + s.name + ":\n" + s.v + "\n")
		}
	}
	status, doc := docStatus(e)
	r["resourceType"] = "DocumentReference"
	r["status"] = status
	if doc != "" {
		r["docStatus"] = doc
	}
	r["type"] = coded(SystemLOINC, "11506-3", "Progress note")
	r["category"] = clinicalNote
	r["subject"] = ref("Patient", e.PatientID)
	r["date"] = instant(e.RecordedAt)
	r["description"] = b.Title
	if b.AddendumTo != nil {
		r["relatesTo"] = []any{map[string]any{"code": "appends", "target": ref("DocumentReference", *b.AddendumTo)}}
	}
	r["content"] = []any{map[string]any{"attachment": map[string]any{"contentType": "text/plain; charset=utf-8",
		"data": base64.StdEncoding.EncodeToString([]byte(text.String())), "title": b.Title, "creation": instant(e.RecordedAt)}}}
	r["context"] = map[string]any{}
}

// document maps a file of the chart: a DocumentReference whose
// attachment is the file's URL, with its media type, size and title.
func document(r Resource, e *ehr.Entry, b *ehr.Document, o Options) {
	status, doc := docStatus(e)
	typ := b.Type
	if typ == "" {
		typ = b.Title
	}
	info, found := o.Files[b.FileID]
	if !found || info.ContentType == "" {
		info.ContentType = "application/octet-stream"
	}
	att := map[string]any{"contentType": info.ContentType, "title": b.Title}
	if o.FileURL != nil {
		att["url"] = o.FileURL(b.FileID)
	}
	if info.Size > 0 && info.Size <= 1<<31-1 {
		att["size"] = info.Size
	}
	r["resourceType"] = "DocumentReference"
	r["status"] = status
	if doc != "" {
		r["docStatus"] = doc
	}
	r["identifier"] = []any{map[string]any{"system": SystemURI, "value": "urn:uuid:" + b.FileID.String()}}
	r["type"] = map[string]any{"text": typ}
	r["category"] = clinicalNote
	r["subject"] = ref("Patient", e.PatientID)
	r["date"] = instant(e.RecordedAt)
	r["description"] = b.Title
	r["content"] = []any{map[string]any{"attachment": att}}
	r["context"] = map[string]any{}
}

// medicationStatus maps what the patient takes to a MedicationRequest's
// status.
var medicationStatus = map[string]string{"active": "active", "completed": "completed", "stopped": "stopped",
	"on-hold": "on-hold", "intended": "draft", "not-taken": "cancelled"}

// medication maps a medication the patient takes as US Core does for a
// reported one: a MedicationRequest of intent "plan", reported by the
// patient (reportedReference) or by someone else than the prescriber
// (reportedBoolean).
func medication(r Resource, e *ehr.Entry, b *ehr.Medication) {
	status := medicationStatus[b.Taking]
	if e.Status == ehr.Inactive && status == "active" {
		status = "stopped"
	}
	if e.Status == ehr.EnteredInError {
		status = "entered-in-error"
	}
	if status == "" {
		status = "unknown"
	}
	r["resourceType"] = "MedicationRequest"
	r["status"] = status
	r["intent"] = "plan"
	r["medicationCodeableConcept"] = concept(b.Medication)
	r["subject"] = ref("Patient", e.PatientID)
	r["authoredOn"] = instant(e.RecordedAt)
	switch b.ReportedBy {
	case "patient":
		r["reportedReference"] = ref("Patient", e.PatientID)
		r["requester"] = ref("Patient", e.PatientID)
	default:
		r["reportedBoolean"] = b.ReportedBy == "relative"
	}
	if b.Dosage != "" {
		r["dosageInstruction"] = []any{map[string]any{"text": b.Dosage}}
	}
}

// Provenance maps who wrote (author) and signed (attester) the version of
// e that res is, on behalf of the practice (carebook's accounts are
// named by identifier). Its id is a name-based UUID of the entry and
// version, stable across exports.
func Provenance(e *ehr.Entry, res Resource) Resource {
	who := func(account string) map[string]any {
		return map[string]any{"identifier": map[string]any{"system": SystemAccount, "value": account}}
	}
	agents := []any{map[string]any{"type": coded("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "author", "Author"),
		"who": who(e.AuthorID), "onBehalfOf": ref("Organization", e.PracticeID)}}
	if e.SignedBy != "" {
		agents = append(agents, map[string]any{"type": coded("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "attester", "Attester"),
			"who": who(e.SignedBy), "onBehalfOf": ref("Organization", e.PracticeID)})
	}
	activity := "CREATE"
	if e.Version > 1 {
		activity = "UPDATE"
	}
	return Resource{"resourceType": "Provenance", "id": provenanceID(e).String(),
		"target":   []any{map[string]any{"reference": res.Type() + "/" + e.ID.String() + "/_history/" + strconv.Itoa(e.Version)}},
		"recorded": instant(e.RecordedAt),
		"activity": coded("http://terminology.hl7.org/CodeSystem/v3-DataOperation", activity, ""),
		"agent":    agents,
	}
}

// provenanceID is a stable id of the Provenance of entry e's version: a
// name-based UUID of the entry and version.
func provenanceID(e *ehr.Entry) uuid.UUID {
	return uuid.NewSHA1(e.ID, []byte("provenance/"+strconv.Itoa(e.Version)))
}
