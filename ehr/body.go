package ehr

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

// Body is an entry's content. Validate checks it, naming the field at
// fault (KindInvalid); now is the clock's, for dates that cannot be in the
// future.
//
// A body's JSON is part of its version's hash (Entry.ComputeHash), and
// old versions are read back into today's types: a field added to a body
// type must be omitempty, or every version written before it would no
// longer verify.
type Body interface {
	Kind() Kind
	Validate(op string, now time.Time) error
}

// Encounter is a visit of the patient: opened when the patient arrives
// (from the appointment) or by a clinician.
type Encounter struct {
	AppointmentID *uuid.UUID `json:"appointment_id,omitempty"`
	ProviderID    *uuid.UUID `json:"provider_id,omitempty"`
	// Class is "ambulatory" (in the office) or "virtual".
	Class  string     `json:"class"`
	Reason string     `json:"reason,omitempty"`
	Start  time.Time  `json:"start"`
	End    *time.Time `json:"end,omitempty"`
}

// Note is a clinical note in SOAP sections; an addendum names the note it
// corrects.
type Note struct {
	Title      string   `json:"title"`
	Subjective string   `json:"subjective,omitempty"`
	Objective  string   `json:"objective,omitempty"`
	Assessment string   `json:"assessment,omitempty"`
	Plan       string   `json:"plan,omitempty"`
	AddendumTo *EntryID `json:"addendum_to,omitempty"`
}

// Coding is a code of a code system (SNOMED CT, ICD-10-CM, RxNorm, CVX…)
// with its display text. Code and System are optional together: what a
// clinician types in free text has only Display.
type Coding struct {
	System  string `json:"system,omitempty"` // a URI, such as http://snomed.info/sct
	Code    string `json:"code,omitempty"`
	Display string `json:"display"`
}

// Problem is an entry of the problem list (a condition).
type Problem struct {
	Coding
	// ClinicalStatus is FHIR's: active, recurrence, relapse, inactive,
	// remission or resolved.
	ClinicalStatus string `json:"clinical_status"`
	Onset          string `json:"onset,omitempty"`     // YYYY-MM-DD
	Abatement      string `json:"abatement,omitempty"` // YYYY-MM-DD
}

// Allergy is an allergy or an intolerance to a substance.
type Allergy struct {
	Substance Coding `json:"substance"`
	// Type is "allergy" or "intolerance".
	Type string `json:"type"`
	// Category is food, medication, environment or biologic.
	Category string `json:"category"`
	// Criticality is low, high or unable-to-assess.
	Criticality string `json:"criticality,omitempty"`
	Reaction    string `json:"reaction,omitempty"`
}

// Medication is what the patient takes, and who reported it.
type Medication struct {
	Medication Coding `json:"medication"`
	Dosage     string `json:"dosage,omitempty"`
	// ReportedBy is "patient", "practitioner" or "relative".
	ReportedBy string `json:"reported_by"`
	// Taking is FHIR's MedicationStatement status: active, completed,
	// stopped, on-hold, intended or not-taken.
	Taking string `json:"taking"`
}

// Vital is one vital sign measured, by LOINC code, in UCUM units.
type Vital struct {
	Code        string    `json:"code"` // LOINC, one of VitalSigns
	Value       float64   `json:"value"`
	Unit        string    `json:"unit"` // UCUM, one the sign allows
	EffectiveAt time.Time `json:"effective_at"`
}

// Immunization is a vaccine given, or not given.
type Immunization struct {
	Vaccine    Coding `json:"vaccine"` // CVX, http://hl7.org/fhir/sid/cvx
	OccurredOn string `json:"occurred_on"`
	Lot        string `json:"lot,omitempty"`
	// Given is "completed" or "not-done".
	Given string `json:"given"`
}

// Document is a file of the patient's (package files) in the chart.
type Document struct {
	FileID uuid.UUID `json:"file_id"`
	Title  string    `json:"title"`
	// Type is a LOINC document type's display, such as "Referral note".
	Type string `json:"type,omitempty"`
}

// Kind implements Body.
func (*Encounter) Kind() Kind { return KindEncounter }

// Kind implements Body.
func (*Note) Kind() Kind { return KindNote }

// Kind implements Body.
func (*Problem) Kind() Kind { return KindProblem }

// Kind implements Body.
func (*Allergy) Kind() Kind { return KindAllergy }

// Kind implements Body.
func (*Medication) Kind() Kind { return KindMedication }

// Kind implements Body.
func (*Vital) Kind() Kind { return KindVital }

// Kind implements Body.
func (*Immunization) Kind() Kind { return KindImmunization }

// Kind implements Body.
func (*Document) Kind() Kind { return KindDocument }

// DecodeBody reads the JSON of a body of kind k; an unknown kind is
// KindInvalid naming "kind".
func DecodeBody(k Kind, b []byte) (Body, error) {
	var body Body
	switch k {
	case KindEncounter:
		body = &Encounter{}
	case KindNote:
		body = &Note{}
	case KindProblem:
		body = &Problem{}
	case KindAllergy:
		body = &Allergy{}
	case KindMedication:
		body = &Medication{}
	case KindVital:
		body = &Vital{}
	case KindImmunization:
		body = &Immunization{}
	case KindDocument:
		body = &Document{}
	default:
		return nil, errs.Invalid("ehr.DecodeBody", "kind", "is not a kind of chart entry")
	}
	if len(b) > 0 && string(b) != "null" {
		if err := json.Unmarshal(b, body); err != nil {
			return nil, errs.Invalid("ehr.DecodeBody", "body", "is not the JSON of a "+string(k))
		}
	}
	return body, nil
}

// The lengths text fields may have, in bytes.
const (
	maxLine = 200    // a title, a display, a reason
	maxText = 20_000 // a SOAP section, a reaction
)

// text checks a text field: valid UTF-8, no control characters but line
// breaks and tabs in long text, at most max bytes, present if required.
func text(op, field, s string, required bool, max int) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return errs.Invalid(op, field, "is required")
	case len(s) > max:
		return errs.Invalid(op, field, "is too long")
	case !utf8.ValidString(s):
		return errs.Invalid(op, field, "is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 && (max == maxLine || (r != '\n' && r != '\r' && r != '\t')) || r == 0x7f {
			return errs.Invalid(op, field, "holds a control character")
		}
	}
	return nil
}

// oneOf checks that s is one of allowed (or empty, when optional).
func oneOf(op, field, s string, required bool, allowed ...string) error {
	if (s == "" && !required) || slices.Contains(allowed, s) {
		return nil
	}
	return errs.Invalid(op, field, "must be one of "+strings.Join(allowed, ", "))
}

// date checks a YYYY-MM-DD date, not after now (optional when empty).
func date(op, field, s string, now time.Time) error {
	if s == "" {
		return nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return errs.Invalid(op, field, "must be a date, YYYY-MM-DD")
	}
	if d.After(now.Add(24 * time.Hour)) {
		return errs.Invalid(op, field, "is in the future")
	}
	return nil
}

// validate checks the coding's fields, named under prefix.
func (c *Coding) validate(op, prefix string) error {
	if err := text(op, prefix+"display", c.Display, true, maxLine); err != nil {
		return err
	}
	if (c.System == "") != (c.Code == "") {
		return errs.Invalid(op, prefix+"code", "a code needs its system, and a system its code")
	}
	if err := text(op, prefix+"code", c.Code, false, 64); err != nil {
		return err
	}
	if c.System != "" && !strings.HasPrefix(c.System, "http://") && !strings.HasPrefix(c.System, "https://") && !strings.HasPrefix(c.System, "urn:") {
		return errs.Invalid(op, prefix+"system", "must be the code system's URI")
	}
	return text(op, prefix+"system", c.System, false, maxLine)
}

// Validate implements Body.
func (b *Encounter) Validate(op string, now time.Time) error {
	if err := oneOf(op, "class", b.Class, true, "ambulatory", "virtual"); err != nil {
		return err
	}
	if err := text(op, "reason", b.Reason, false, maxLine); err != nil {
		return err
	}
	if b.Start.IsZero() {
		return errs.Invalid(op, "start", "is required")
	}
	if b.End != nil && b.End.Before(b.Start) {
		return errs.Invalid(op, "end", "is before the start")
	}
	return nil
}

// Validate implements Body: a title, and at least one section.
func (b *Note) Validate(op string, _ time.Time) error {
	if err := text(op, "title", b.Title, true, maxLine); err != nil {
		return err
	}
	empty := true
	for _, s := range []struct{ field, v string }{{"subjective", b.Subjective}, {"objective", b.Objective},
		{"assessment", b.Assessment}, {"plan", b.Plan}} {
		if err := text(op, s.field, s.v, false, maxText); err != nil {
			return err
		}
		empty = empty && strings.TrimSpace(s.v) == ""
	}
	if empty {
		return errs.Invalid(op, "subjective", "a note needs at least one of its sections")
	}
	return nil
}

// Validate implements Body.
func (b *Problem) Validate(op string, now time.Time) error {
	if err := b.Coding.validate(op, ""); err != nil {
		return err
	}
	if err := oneOf(op, "clinical_status", b.ClinicalStatus, true, "active", "recurrence", "relapse", "inactive", "remission", "resolved"); err != nil {
		return err
	}
	if err := date(op, "onset", b.Onset, now); err != nil {
		return err
	}
	if err := date(op, "abatement", b.Abatement, now); err != nil {
		return err
	}
	if b.Onset != "" && b.Abatement != "" && b.Abatement < b.Onset {
		return errs.Invalid(op, "abatement", "is before the onset")
	}
	return nil
}

// Validate implements Body.
func (b *Allergy) Validate(op string, _ time.Time) error {
	if err := b.Substance.validate(op, "substance."); err != nil {
		return err
	}
	if err := oneOf(op, "type", b.Type, true, "allergy", "intolerance"); err != nil {
		return err
	}
	if err := oneOf(op, "category", b.Category, true, "food", "medication", "environment", "biologic"); err != nil {
		return err
	}
	if err := oneOf(op, "criticality", b.Criticality, false, "low", "high", "unable-to-assess"); err != nil {
		return err
	}
	return text(op, "reaction", b.Reaction, false, maxText)
}

// Validate implements Body.
func (b *Medication) Validate(op string, _ time.Time) error {
	if err := b.Medication.validate(op, "medication."); err != nil {
		return err
	}
	if err := text(op, "dosage", b.Dosage, false, maxLine); err != nil {
		return err
	}
	if err := oneOf(op, "reported_by", b.ReportedBy, true, "patient", "practitioner", "relative"); err != nil {
		return err
	}
	return oneOf(op, "taking", b.Taking, true, "active", "completed", "stopped", "on-hold", "intended", "not-taken")
}

// Validate implements Body: a known sign, in a unit it is measured in,
// within what a human body can show, measured by now.
func (b *Vital) Validate(op string, now time.Time) error {
	sign, ok := VitalSigns[b.Code]
	if !ok {
		return errs.Invalid(op, "code", "is not a vital sign's LOINC code")
	}
	r, ok := sign.Units[b.Unit]
	if !ok {
		return errs.Invalid(op, "unit", "is not a UCUM unit of "+sign.Name+" (use "+sign.unitList()+")")
	}
	if math.IsNaN(b.Value) || b.Value < r.Min || b.Value > r.Max {
		return errs.Invalid(op, "value", "is outside what "+sign.Name+" can be in "+b.Unit)
	}
	if b.EffectiveAt.IsZero() {
		return errs.Invalid(op, "effective_at", "is required")
	}
	if b.EffectiveAt.After(now.Add(5 * time.Minute)) {
		return errs.Invalid(op, "effective_at", "is in the future")
	}
	return nil
}

// Validate implements Body.
func (b *Immunization) Validate(op string, now time.Time) error {
	if err := b.Vaccine.validate(op, "vaccine."); err != nil {
		return err
	}
	if b.OccurredOn == "" {
		return errs.Invalid(op, "occurred_on", "is required")
	}
	if err := date(op, "occurred_on", b.OccurredOn, now); err != nil {
		return err
	}
	if err := text(op, "lot", b.Lot, false, 64); err != nil {
		return err
	}
	return oneOf(op, "given", b.Given, true, "completed", "not-done")
}

// Validate implements Body.
func (b *Document) Validate(op string, _ time.Time) error {
	if b.FileID == uuid.Nil {
		return errs.Invalid(op, "file_id", "is required")
	}
	if err := text(op, "title", b.Title, true, maxLine); err != nil {
		return err
	}
	return text(op, "type", b.Type, false, maxLine)
}
