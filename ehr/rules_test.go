package ehr_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

var (
	now       = time.Date(2030, 3, 5, 15, 0, 0, 0, time.UTC)
	practice  = uuid.MustParse("01900000-0000-7000-8000-000000000001")
	patient   = uuid.MustParse("01900000-0000-7000-8000-000000000002")
	clinician = "01900000-0000-7000-8000-0000000000c1"
	colleague = "01900000-0000-7000-8000-0000000000c2"
)

// encounter returns an open encounter of the patient.
func encounter() *ehr.Entry {
	return &ehr.Entry{ID: uuid.New(), PracticeID: practice, PatientID: patient, Kind: ehr.KindEncounter, Version: 1,
		Status: ehr.Draft, Body: &ehr.Encounter{Class: "ambulatory", Start: now.Add(-time.Hour)}, AuthorID: clinician, RecordedAt: now}
}

// note returns a draft note of the patient in enc.
func note(enc *ehr.Entry) *ehr.Entry {
	return &ehr.Entry{ID: uuid.New(), PracticeID: practice, PatientID: patient, EncounterID: &enc.ID, Kind: ehr.KindNote, Version: 1,
		Status: ehr.Draft, Body: &ehr.Note{Title: "Visit", Subjective: "Cough for three days.", Plan: "Fluids, rest."},
		AuthorID: clinician, RecordedAt: now}
}

// next returns the version after e, edited by edit.
func next(e *ehr.Entry, edit func(*ehr.Entry)) *ehr.Entry {
	n := *e
	n.Version++
	n.SignedBy, n.SignedAt = "", nil
	edit(&n)
	return &n
}

func signed(by string) func(*ehr.Entry) {
	return func(e *ehr.Entry) { at := now; e.Status, e.SignedBy, e.SignedAt = ehr.Signed, by, &at }
}

func lockedBy(by string) func(*ehr.Entry) {
	return func(e *ehr.Entry) { at := now; e.Status, e.SignedBy, e.SignedAt = ehr.Locked, by, &at }
}

// TestCheckWrite walks the rules of a write: the flows of notes,
// encounters and list entries, the lock, the signature, the encounter.
func TestCheckWrite(t *testing.T) {
	enc := encounter()
	lockedEnc := next(enc, lockedBy(clinician))
	draft := note(enc)
	signedNote := next(draft, signed(clinician))
	lockedNote := next(signedNote, lockedBy(clinician))
	vital := &ehr.Entry{ID: uuid.New(), PracticeID: practice, PatientID: patient, EncounterID: &enc.ID, Kind: ehr.KindVital, Version: 1,
		Status: ehr.Active, Body: &ehr.Vital{Code: "8867-4", Value: 72, Unit: "/min", EffectiveAt: now}, AuthorID: clinician, RecordedAt: now}
	problem := &ehr.Entry{ID: uuid.New(), PracticeID: practice, PatientID: patient, Kind: ehr.KindProblem, Version: 1, Status: ehr.Active,
		Body:     &ehr.Problem{Coding: ehr.Coding{System: "http://snomed.info/sct", Code: "38341003", Display: "Hypertension"}, ClinicalStatus: "active"},
		AuthorID: clinician, RecordedAt: now}
	errored := next(problem, func(e *ehr.Entry) { e.Status = ehr.EnteredInError })
	other := encounter()
	other.PatientID = uuid.New()

	for _, c := range []struct {
		name            string
		prev, next, enc *ehr.Entry
		kind            errs.Kind // 0: allowed
		field           string
	}{
		{"a new encounter", nil, enc, nil, 0, ""},
		{"a new draft note", nil, draft, enc, 0, ""},
		{"a new vital", nil, vital, enc, 0, ""},
		{"a new problem outside an encounter", nil, problem, nil, 0, ""},
		{"edit a draft", draft, next(draft, func(e *ehr.Entry) { e.Body = &ehr.Note{Title: "Visit", Plan: "More fluids."} }), enc, 0, ""},
		{"sign a draft", draft, signedNote, enc, 0, ""},
		{"sign and lock a draft", draft, next(draft, lockedBy(clinician)), enc, 0, ""},
		{"lock a signed note", signedNote, lockedNote, enc, 0, ""},
		{"the signer corrects a signed note", signedNote, next(signedNote, func(e *ehr.Entry) { e.Status = ehr.Draft }), enc, 0, ""},
		{"lock the encounter", enc, lockedEnc, nil, 0, ""},
		{"resolve a problem", problem, next(problem, func(e *ehr.Entry) { e.Status = ehr.Inactive }), nil, 0, ""},
		{"mark a problem entered in error", problem, errored, nil, 0, ""},

		{"a locked note takes no change", lockedNote, next(lockedNote, func(e *ehr.Entry) { e.Status = ehr.Draft }), enc, errs.KindConflict, ""},
		{"a locked note is not locked again", lockedNote, next(lockedNote, lockedBy(clinician)), enc, errs.KindConflict, ""},
		{"an entry in error takes no change", errored, next(errored, func(e *ehr.Entry) { e.Status = ehr.Active }), nil, errs.KindConflict, ""},
		{"a locked encounter takes no vital", nil, vital, lockedEnc, errs.KindConflict, ""},
		{"a locked encounter's note takes no change", draft, next(draft, signed(clinician)), lockedEnc, errs.KindConflict, ""},
		{"a locked encounter takes no change", lockedEnc, next(lockedEnc, func(e *ehr.Entry) { e.Status = ehr.Draft }), nil, errs.KindConflict, ""},
		{"another signs, then another corrects", signedNote, next(signedNote, func(e *ehr.Entry) { e.Status, e.AuthorID = ehr.Draft, colleague }), enc, errs.KindForbidden, ""},
		{"a stale version", draft, next(next(draft, func(*ehr.Entry) {}), func(*ehr.Entry) {}), enc, errs.KindConflict, ""},
		{"a first version numbered 2", nil, next(draft, func(*ehr.Entry) {}), enc, errs.KindInvalid, "version"},
		{"another patient's version", draft, next(draft, func(e *ehr.Entry) { e.PatientID = uuid.New() }), enc, errs.KindInvalid, "id"},
		{"moved to another encounter", draft, next(draft, func(e *ehr.Entry) { id := uuid.New(); e.EncounterID = &id }), enc, errs.KindInvalid, "encounter_id"},
		{"signed without a signer", draft, next(draft, func(e *ehr.Entry) { e.Status = ehr.Signed }), enc, errs.KindInvalid, "signed_by"},
		{"a draft with a signature", nil, func() *ehr.Entry { d := note(enc); at := now; d.SignedBy, d.SignedAt = clinician, &at; return d }(), enc, errs.KindInvalid, "signed_by"},
		{"no author", nil, func() *ehr.Entry { d := note(enc); d.AuthorID = ""; return d }(), enc, errs.KindInvalid, "author_id"},
		{"a note cannot start active", nil, func() *ehr.Entry { d := note(enc); d.Status = ehr.Active; return d }(), enc, errs.KindInvalid, "status"},
		{"a problem cannot be signed", problem, next(problem, signed(clinician)), nil, errs.KindInvalid, "status"},
		{"an encounter is never signed open", enc, next(enc, signed(clinician)), nil, errs.KindInvalid, "status"},
		{"a body of another kind", nil, func() *ehr.Entry { d := note(enc); d.Kind = ehr.KindProblem; return d }(), enc, errs.KindInvalid, "kind"},
		{"a note with no encounter id that exists", nil, draft, nil, errs.KindNotFound, ""},
		{"another patient's encounter", nil, func() *ehr.Entry { d := note(other); return d }(), other, errs.KindInvalid, "encounter_id"},
		{"a note outside an encounter", nil, func() *ehr.Entry { d := note(enc); d.EncounterID = nil; return d }(), nil, errs.KindInvalid, "encounter_id"},
		{"an encounter inside an encounter", nil, func() *ehr.Entry { e := encounter(); e.EncounterID = &enc.ID; return e }(), enc, errs.KindInvalid, "encounter_id"},
		{"an addendum to itself", nil, func() *ehr.Entry {
			d := note(enc)
			d.Body = &ehr.Note{Title: "Addendum", Plan: "x", AddendumTo: &d.ID}
			return d
		}(), enc, errs.KindInvalid, "addendum_to"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := ehr.CheckWrite(c.prev, c.next, c.enc, now)
			if c.kind == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if errs.KindOf(err) != c.kind || (c.field != "" && errs.FieldOf(err) != c.field) {
				t.Fatalf("err = %v (field %q), want %v naming %q", err, errs.FieldOf(err), c.kind, c.field)
			}
		})
	}
}

// TestBodies: each kind's bad input is refused naming its field.
func TestBodies(t *testing.T) {
	ok := map[ehr.Kind]ehr.Body{
		ehr.KindEncounter:  &ehr.Encounter{Class: "virtual", Start: now},
		ehr.KindNote:       &ehr.Note{Title: "Follow-up", Assessment: "Improving.\nNo fever."},
		ehr.KindProblem:    &ehr.Problem{Coding: ehr.Coding{Display: "Back pain"}, ClinicalStatus: "active", Onset: "2029-11-02"},
		ehr.KindAllergy:    &ehr.Allergy{Substance: ehr.Coding{System: "http://www.nlm.nih.gov/research/umls/rxnorm", Code: "7980", Display: "Penicillin G"}, Type: "allergy", Category: "medication", Criticality: "high", Reaction: "Hives"},
		ehr.KindMedication: &ehr.Medication{Medication: ehr.Coding{Display: "Lisinopril 10 mg tablet"}, Dosage: "1 a day", ReportedBy: "patient", Taking: "active"},
		ehr.KindVital:      &ehr.Vital{Code: "8310-5", Value: 98.6, Unit: "[degF]", EffectiveAt: now},
		ehr.KindImmunization: &ehr.Immunization{Vaccine: ehr.Coding{System: "http://hl7.org/fhir/sid/cvx", Code: "140", Display: "Influenza, seasonal"},
			OccurredOn: "2029-10-01", Given: "completed"},
		ehr.KindDocument: &ehr.Document{FileID: uuid.New(), Title: "Referral letter", Type: "Referral note"},
	}
	for k, b := range ok {
		if b.Kind() != k {
			t.Errorf("%T.Kind() = %s, want %s", b, b.Kind(), k)
		}
		if err := b.Validate("test", now); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	long := strings.Repeat("x", 201)
	for _, c := range []struct {
		name  string
		body  ehr.Body
		field string
	}{
		{"encounter class", &ehr.Encounter{Class: "home", Start: now}, "class"},
		{"encounter start", &ehr.Encounter{Class: "ambulatory"}, "start"},
		{"encounter ends first", &ehr.Encounter{Class: "ambulatory", Start: now, End: ptr(now.Add(-time.Minute))}, "end"},
		{"note title", &ehr.Note{Plan: "x"}, "title"},
		{"note title too long", &ehr.Note{Title: long, Plan: "x"}, "title"},
		{"note title on two lines", &ehr.Note{Title: "a\nb", Plan: "x"}, "title"},
		{"note without a section", &ehr.Note{Title: "Empty", Plan: "  "}, "subjective"},
		{"note with a NUL", &ehr.Note{Title: "t", Plan: "a\x00b"}, "plan"},
		{"problem display", &ehr.Problem{ClinicalStatus: "active"}, "display"},
		{"problem code without system", &ehr.Problem{Coding: ehr.Coding{Code: "38341003", Display: "x"}, ClinicalStatus: "active"}, "code"},
		{"problem system not a URI", &ehr.Problem{Coding: ehr.Coding{System: "SNOMED", Code: "1", Display: "x"}, ClinicalStatus: "active"}, "system"},
		{"problem status", &ehr.Problem{Coding: ehr.Coding{Display: "x"}, ClinicalStatus: "cured"}, "clinical_status"},
		{"problem onset in the future", &ehr.Problem{Coding: ehr.Coding{Display: "x"}, ClinicalStatus: "active", Onset: "2031-01-01"}, "onset"},
		{"problem abatement before onset", &ehr.Problem{Coding: ehr.Coding{Display: "x"}, ClinicalStatus: "resolved", Onset: "2029-01-02", Abatement: "2029-01-01"}, "abatement"},
		{"problem onset not a date", &ehr.Problem{Coding: ehr.Coding{Display: "x"}, ClinicalStatus: "active", Onset: "01/02/2029"}, "onset"},
		{"allergy substance", &ehr.Allergy{Type: "allergy", Category: "food"}, "substance.display"},
		{"allergy type", &ehr.Allergy{Substance: ehr.Coding{Display: "Peanut"}, Type: "dislike", Category: "food"}, "type"},
		{"allergy category", &ehr.Allergy{Substance: ehr.Coding{Display: "Peanut"}, Type: "allergy", Category: "drink"}, "category"},
		{"allergy criticality", &ehr.Allergy{Substance: ehr.Coding{Display: "Peanut"}, Type: "allergy", Category: "food", Criticality: "medium"}, "criticality"},
		{"medication reported by", &ehr.Medication{Medication: ehr.Coding{Display: "x"}, ReportedBy: "neighbour", Taking: "active"}, "reported_by"},
		{"medication taking", &ehr.Medication{Medication: ehr.Coding{Display: "x"}, ReportedBy: "patient", Taking: "yes"}, "taking"},
		{"vital code", &ehr.Vital{Code: "1234-5", Value: 1, Unit: "/min", EffectiveAt: now}, "code"},
		{"vital unit", &ehr.Vital{Code: "29463-7", Value: 70, Unit: "stone", EffectiveAt: now}, "unit"},
		{"vital weight in g typed as kg", &ehr.Vital{Code: "29463-7", Value: 70000, Unit: "kg", EffectiveAt: now}, "value"},
		{"vital heart rate 0", &ehr.Vital{Code: "8867-4", Value: 0, Unit: "/min", EffectiveAt: now}, "value"},
		{"vital in the future", &ehr.Vital{Code: "8867-4", Value: 70, Unit: "/min", EffectiveAt: now.Add(time.Hour)}, "effective_at"},
		{"vital without a time", &ehr.Vital{Code: "8867-4", Value: 70, Unit: "/min"}, "effective_at"},
		{"immunization date", &ehr.Immunization{Vaccine: ehr.Coding{Display: "x"}, Given: "completed"}, "occurred_on"},
		{"immunization given", &ehr.Immunization{Vaccine: ehr.Coding{Display: "x"}, OccurredOn: "2029-01-01", Given: "maybe"}, "given"},
		{"document file", &ehr.Document{Title: "x"}, "file_id"},
		{"document title", &ehr.Document{FileID: uuid.New()}, "title"},
	} {
		err := c.body.Validate("test", now)
		if errs.KindOf(err) != errs.KindInvalid || errs.FieldOf(err) != c.field {
			t.Errorf("%s: err = %v (field %q), want KindInvalid naming %s", c.name, err, errs.FieldOf(err), c.field)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestChain: linked versions verify; an edited, removed, inserted or
// reordered version is found, naming where.
func TestChain(t *testing.T) {
	enc := encounter()
	n1 := note(enc)
	n2 := next(n1, signed(clinician))
	v := &ehr.Entry{ID: uuid.New(), PracticeID: practice, PatientID: patient, EncounterID: &enc.ID, Kind: ehr.KindVital, Version: 1,
		Status: ehr.Active, Body: &ehr.Vital{Code: "8480-6", Value: 128, Unit: "mm[Hg]", EffectiveAt: now}, AuthorID: clinician, RecordedAt: now}
	chain := []*ehr.Entry{enc, n1, n2, v}
	var prev *ehr.Entry
	for _, e := range chain {
		if err := ehr.Link(e, prev); err != nil {
			t.Fatal(err)
		}
		prev = e
	}
	if err := ehr.VerifyChain(chain); err != nil {
		t.Fatalf("a linked chain: %v", err)
	}
	clone := func() []*ehr.Entry {
		out := make([]*ehr.Entry, len(chain))
		for i, e := range chain {
			c := *e
			out[i] = &c
		}
		return out
	}
	for _, c := range []struct {
		name string
		edit func([]*ehr.Entry) []*ehr.Entry
		says string
	}{
		{"a body edited", func(c []*ehr.Entry) []*ehr.Entry {
			c[3].Body = &ehr.Vital{Code: "8480-6", Value: 118, Unit: "mm[Hg]", EffectiveAt: now}
			return c
		}, "version 4 was changed"},
		{"unrestricted", func(c []*ehr.Entry) []*ehr.Entry { c[1].Restricted = true; return c }, "version 2 was changed"},
		{"a signature forged", func(c []*ehr.Entry) []*ehr.Entry { c[2].SignedBy = colleague; return c }, "version 3 was changed"},
		{"a version removed", func(c []*ehr.Entry) []*ehr.Entry { return append(c[:1], c[2:]...) }, "version 2 of the chart is missing"},
		{"versions swapped", func(c []*ehr.Entry) []*ehr.Entry { c[1], c[2] = c[2], c[1]; return c }, "version 2 of the chart is missing"},
		{"a version inserted", func(c []*ehr.Entry) []*ehr.Entry {
			x := *c[1]
			x.Seq = 3
			return append(c[:3], append([]*ehr.Entry{&x}, c[3:]...)...)
		}, "version 4 of the chart is missing (found 3 in its place)"},
	} {
		err := ehr.VerifyChain(c.edit(clone()))
		if errs.KindOf(err) != errs.KindConflict || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want a conflict saying %q", c.name, err, c.says)
		}
	}
}

// TestVisible: restricted entries are left out for who may not see them.
func TestVisible(t *testing.T) {
	a, b := encounter(), encounter()
	b.Restricted = true
	if got := ehr.Visible([]*ehr.Entry{a, b}, false); len(got) != 1 || got[0] != a {
		t.Errorf("without the grant: %v", got)
	}
	if got := ehr.Visible([]*ehr.Entry{a, b}, true); len(got) != 2 {
		t.Errorf("with the grant: %v", got)
	}
}

// TestEntryJSON: an entry's JSON reads back with its body as its kind's
// type, and hashes the same.
func TestEntryJSON(t *testing.T) {
	e := note(encounter())
	if err := ehr.Link(e, nil); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back ehr.Entry
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	n, ok := back.Body.(*ehr.Note)
	if !ok || n.Plan != "Fluids, rest." {
		t.Fatalf("body = %#v", back.Body)
	}
	if h, _ := back.ComputeHash(); h != e.Hash {
		t.Errorf("the hash after a round trip differs")
	}
	if err := json.Unmarshal([]byte(`{"kind":"diagnosis","body":{}}`), &back); errs.FieldOf(err) != "kind" {
		t.Errorf("an unknown kind: %v", err)
	}
}

// TestCheckAddendum: an addendum names a note of its patient, in use, that
// is no addendum itself.
func TestCheckAddendum(t *testing.T) {
	enc := encounter()
	target := note(enc)
	add := func(to ehr.EntryID) *ehr.Entry {
		a := note(enc)
		a.Body = &ehr.Note{Title: "Addendum", Plan: "x", AddendumTo: &to}
		return a
	}
	othersNote := note(enc)
	othersNote.PatientID = uuid.New()
	errored := next(target, func(e *ehr.Entry) { e.Status = ehr.EnteredInError })
	addendum := add(target.ID)
	for _, c := range []struct {
		name         string
		next, target *ehr.Entry
		kind         errs.Kind
	}{
		{"a note, not an addendum", note(enc), nil, 0},
		{"an addendum to its patient's note", add(target.ID), target, 0},
		{"to nothing", add(uuid.New()), nil, errs.KindNotFound},
		{"to an encounter", add(enc.ID), enc, errs.KindNotFound},
		{"to another patient's note", add(othersNote.ID), othersNote, errs.KindNotFound},
		{"to a note entered in error", add(target.ID), errored, errs.KindInvalid},
		{"to an addendum", add(addendum.ID), addendum, errs.KindInvalid},
	} {
		err := ehr.CheckAddendum(c.next, c.target)
		if (c.kind == 0 && err != nil) || (c.kind != 0 && errs.KindOf(err) != c.kind) {
			t.Errorf("%s: %v, want %v", c.name, err, c.kind)
		}
	}
}
