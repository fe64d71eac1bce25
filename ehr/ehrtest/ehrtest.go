// Package ehrtest is the conformance suite of ehr.Store: every
// implementation runs Run against a fresh database.
package ehrtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/internal/patienttest"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Stores are what the suite works on: the store under test, and the stores
// it makes practices and patients with (charts belong to both).
type Stores struct {
	EHR      ehr.Store
	Tenants  tenant.Store
	Patients interface {
		CreatePatient(ctx context.Context, p *scheduling.Patient) error
	}
}

// Fixture is a practice with a patient, made in Stores.
type Fixture struct{ patienttest.Fixture }

// Epoch is when the suite's entries are recorded, and Now the clock of its
// writes.
var (
	Epoch = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	Now   = Epoch.Add(24 * time.Hour)
)

// Clinician and Colleague are the accounts that write the suite's entries.
const (
	Clinician = "01900000-0000-7000-8000-0000000000c1"
	Colleague = "01900000-0000-7000-8000-0000000000c2"
)

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// NewFixture makes a group, a practice and a patient of it.
func NewFixture(t testing.TB, s Stores) Fixture {
	t.Helper()
	return Fixture{patienttest.NewFixture(t, patienttest.Makers{Tenants: s.Tenants, Patients: s.Patients}, Epoch)}
}

// NewPatient makes another patient of practice.
func NewPatient(t testing.TB, s Stores, practice tenant.PracticeID) Fixture {
	t.Helper()
	return Fixture{patienttest.NewPatient(t, patienttest.Makers{Tenants: s.Tenants, Patients: s.Patients}, practice, Epoch)}
}

// Entry returns version 1 of a new entry of fx's patient: body's kind,
// recorded at at in encounter enc (nil for none), active (a draft for a
// note or an encounter).
func (fx Fixture) Entry(body ehr.Body, enc *ehr.Entry, at time.Time) *ehr.Entry {
	e := &ehr.Entry{ID: newID(), PracticeID: fx.Practice, PatientID: fx.Patient, Kind: body.Kind(), Version: 1,
		Status: ehr.Active, Body: body, AuthorID: Clinician, RecordedAt: at}
	if e.Kind == ehr.KindNote || e.Kind == ehr.KindEncounter {
		e.Status = ehr.Draft
	}
	if enc != nil {
		e.EncounterID = &enc.ID
	}
	return e
}

// Next returns the version after e, recorded at at, edited by edit; it has
// no signature unless edit gives one.
func Next(e *ehr.Entry, at time.Time, edit func(*ehr.Entry)) *ehr.Entry {
	n := *e
	n.Version++
	n.RecordedAt = at
	n.SignedBy, n.SignedAt = "", nil
	n.Seq, n.PrevHash, n.Hash = 0, "", ""
	if edit != nil {
		edit(&n)
	}
	return &n
}

// SignedBy returns an edit that signs (or, with lock, signs and locks) a
// version as by, at Epoch.
func SignedBy(by string, lock bool) func(*ehr.Entry) {
	return func(e *ehr.Entry) {
		at := Epoch
		e.Status, e.SignedBy, e.SignedAt = ehr.Signed, by, &at
		if lock {
			e.Status = ehr.Locked
		}
	}
}

// Bodies returns a body of every kind, each text field holding marker.
func Bodies(marker string) []ehr.Body {
	end := Epoch.Add(30 * time.Minute)
	appt, file := newID(), newID()
	return []ehr.Body{
		&ehr.Encounter{AppointmentID: &appt, Class: "ambulatory", Reason: "Reason " + marker, Start: Epoch, End: &end},
		&ehr.Note{Title: "Title " + marker, Subjective: "S " + marker, Objective: "O " + marker, Assessment: "A " + marker,
			Plan: "P " + marker + "\nline two"},
		&ehr.Problem{Coding: ehr.Coding{System: "http://snomed.info/sct", Code: "38341003", Display: "Hypertension " + marker},
			ClinicalStatus: "active", Onset: "2020-01-31"},
		&ehr.Allergy{Substance: ehr.Coding{Display: "Peanut " + marker}, Type: "allergy", Category: "food",
			Criticality: "high", Reaction: "Hives " + marker},
		&ehr.Medication{Medication: ehr.Coding{System: "http://www.nlm.nih.gov/research/umls/rxnorm", Code: "197361",
			Display: "Amlodipine " + marker}, Dosage: "5 mg " + marker, ReportedBy: "patient", Taking: "active"},
		&ehr.Vital{Code: "8480-6", Value: 128.5, Unit: "mm[Hg]", EffectiveAt: Epoch.Add(123456789 * time.Nanosecond)},
		&ehr.Immunization{Vaccine: ehr.Coding{System: "http://hl7.org/fhir/sid/cvx", Code: "140", Display: "Influenza " + marker},
			OccurredOn: "2026-10-01", Lot: "LOT-" + marker, Given: "completed"},
		&ehr.Document{FileID: file, Title: "Referral " + marker, Type: "Referral note"},
	}
}

// AppendAll appends an encounter of fx's patient, then an entry of every
// other body (notes and vitals in the encounter), at Epoch plus a minute
// each, and returns them in order.
func AppendAll(t testing.TB, s ehr.Store, fx Fixture, bodies []ehr.Body) []*ehr.Entry {
	t.Helper()
	var enc *ehr.Entry
	var out []*ehr.Entry
	for i, b := range bodies {
		var in *ehr.Entry
		if b.Kind() != ehr.KindEncounter {
			in = enc
		}
		e := fx.Entry(b, in, Epoch.Add(time.Duration(i)*time.Minute))
		if b.Kind() != ehr.KindNote && b.Kind() != ehr.KindVital && b.Kind() != ehr.KindEncounter && i%2 == 0 {
			e.EncounterID = nil // some entries are charted outside an encounter
		}
		mustAppend(t, s, e)
		if b.Kind() == ehr.KindEncounter {
			enc = e
		}
		out = append(out, e)
	}
	return out
}

func mustAppend(t testing.TB, s ehr.Store, e *ehr.Entry) {
	t.Helper()
	if err := s.Append(context.Background(), e, Now); err != nil {
		t.Fatalf("Append(%s v%d, %s): %v", e.Kind, e.Version, e.Status, err)
	}
}

// same reports whether a and b are the same version, comparing their JSON
// (which covers every field and the body).
func same(a, b *ehr.Entry) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func ids(es []*ehr.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = fmt.Sprintf("%s/v%d", e.Kind, e.Version)
	}
	return out
}

// Run runs the conformance suite; open returns fresh stores for each test.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	ctx := context.Background()

	t.Run("append and read back every kind", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		all := AppendAll(t, s.EHR, fx, Bodies("marker"))
		for i, e := range all {
			if e.Seq != int64(i+1) || e.Hash == "" || (i == 0 && e.PrevHash != ehr.ZeroHash) || (i > 0 && e.PrevHash != all[i-1].Hash) {
				t.Errorf("%s: Seq %d, PrevHash %.8s, Hash %.8s: not linked after the one before", e.Kind, e.Seq, e.PrevHash, e.Hash)
			}
			got, err := s.EHR.Current(ctx, fx.Practice, e.ID)
			if err != nil {
				t.Fatalf("Current(%s): %v", e.Kind, err)
			}
			if !same(got, e) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(e)
				t.Errorf("Current(%s) =\n%s\nwant\n%s", e.Kind, g, w)
			}
			if _, ok := got.Body.(interface{ Kind() ehr.Kind }); !ok || got.Body.Kind() != e.Kind {
				t.Errorf("Current(%s).Body is %T", e.Kind, got.Body)
			}
		}
		if _, err := s.EHR.Current(ctx, fx.Practice, newID()); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("Current(unknown): %v, want KindNotFound", err)
		}
		if _, err := s.EHR.History(ctx, fx.Practice, newID()); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("History(unknown): %v, want KindNotFound", err)
		}
	})

	t.Run("versions and history", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		enc := fx.Entry(&ehr.Encounter{Class: "virtual", Start: Epoch}, nil, Epoch)
		mustAppend(t, s.EHR, enc)
		v1 := fx.Entry(&ehr.Note{Title: "Visit", Subjective: "Cough."}, enc, Epoch.Add(time.Minute))
		mustAppend(t, s.EHR, v1)
		v2 := Next(v1, Epoch.Add(2*time.Minute), func(e *ehr.Entry) { e.Body = &ehr.Note{Title: "Visit", Subjective: "Cough.", Plan: "Rest."} })
		mustAppend(t, s.EHR, v2)
		v3 := Next(v2, Epoch.Add(3*time.Minute), SignedBy(Clinician, false))
		mustAppend(t, s.EHR, v3)
		v4 := Next(v3, Epoch.Add(4*time.Minute), func(e *ehr.Entry) { e.Status = ehr.Draft }) // the signer corrects it
		mustAppend(t, s.EHR, v4)
		v5 := Next(v4, Epoch.Add(5*time.Minute), SignedBy(Clinician, true))
		mustAppend(t, s.EHR, v5)

		hist, err := s.EHR.History(ctx, fx.Practice, v1.ID)
		if err != nil {
			t.Fatalf("History: %v", err)
		}
		want := []*ehr.Entry{v1, v2, v3, v4, v5}
		if len(hist) != len(want) {
			t.Fatalf("History = %v, want 5 versions", ids(hist))
		}
		for i := range want {
			if !same(hist[i], want[i]) {
				t.Errorf("History[%d] = %+v, want %+v", i, hist[i], want[i])
			}
		}
		cur, err := s.EHR.Current(ctx, fx.Practice, v1.ID)
		if err != nil || !same(cur, v5) {
			t.Errorf("Current = %+v, %v; want version 5", cur, err)
		}
		vs, err := s.EHR.Versions(ctx, fx.Practice, fx.Patient, 0, 100)
		if err != nil {
			t.Fatalf("Versions: %v", err)
		}
		if len(vs) != 6 {
			t.Fatalf("Versions = %v, want 6", ids(vs))
		}
		if err := ehr.VerifyChain(vs); err != nil {
			t.Errorf("VerifyChain: %v", err)
		}
		chart, err := s.EHR.Chart(ctx, fx.Practice, fx.Patient, ehr.ChartFilter{})
		if err != nil || len(chart) != 2 || chart[0].ID != v1.ID || chart[0].Version != 5 || chart[1].ID != enc.ID {
			t.Errorf("Chart = %v, %v; want the note's version 5, then the encounter", ids(chart), err)
		}
	})

	t.Run("what CheckWrite refuses is refused, and nothing is written", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		enc := fx.Entry(&ehr.Encounter{Class: "ambulatory", Start: Epoch}, nil, Epoch)
		mustAppend(t, s.EHR, enc)
		note := fx.Entry(&ehr.Note{Title: "Visit", Plan: "Rest."}, enc, Epoch)
		mustAppend(t, s.EHR, note)
		lockedNote := Next(note, Epoch.Add(time.Minute), SignedBy(Clinician, true))
		mustAppend(t, s.EHR, lockedNote)
		signedNote := fx.Entry(&ehr.Note{Title: "Other", Plan: "Rest."}, enc, Epoch)
		SignedBy(Clinician, false)(signedNote)
		mustAppend(t, s.EHR, signedNote)
		problem := fx.Entry(&ehr.Problem{Coding: ehr.Coding{Display: "Asthma"}, ClinicalStatus: "active"}, nil, Epoch)
		mustAppend(t, s.EHR, problem)

		enc2 := fx.Entry(&ehr.Encounter{Class: "ambulatory", Start: Epoch}, nil, Epoch)
		mustAppend(t, s.EHR, enc2)
		lockedEnc := Next(enc2, Epoch.Add(time.Minute), SignedBy(Clinician, true))
		mustAppend(t, s.EHR, lockedEnc)
		other := NewPatient(t, s, fx.Practice)

		vital := func(enc *ehr.Entry) *ehr.Entry {
			return fx.Entry(&ehr.Vital{Code: "8867-4", Value: 72, Unit: "/min", EffectiveAt: Epoch}, enc, Epoch)
		}
		stale := Next(problem, Epoch.Add(time.Minute), func(e *ehr.Entry) { e.Version = 1 })
		skip := Next(problem, Epoch.Add(time.Minute), func(e *ehr.Entry) { e.Version = 3 })
		again := *problem
		again.Seq, again.Hash, again.PrevHash = 0, "", ""
		othersEnc := vital(enc)
		othersEnc.PatientID = other.Patient
		// An addendum corrects the locked note from an open encounter.
		enc3 := fx.Entry(&ehr.Encounter{Class: "ambulatory", Start: Epoch}, nil, Epoch)
		mustAppend(t, s.EHR, enc3)
		addendum := fx.Entry(&ehr.Note{Title: "Addendum", Plan: "Rest two more days.", AddendumTo: &note.ID}, enc3, Epoch)
		mustAppend(t, s.EHR, addendum)
		addendumTo := func(target ehr.EntryID) *ehr.Entry {
			return fx.Entry(&ehr.Note{Title: "Addendum", Plan: "x", AddendumTo: &target}, enc3, Epoch)
		}
		othersNote := other.Entry(&ehr.Encounter{Class: "ambulatory", Start: Epoch}, nil, Epoch)
		mustAppend(t, s.EHR, othersNote)
		for _, c := range []struct {
			name string
			e    *ehr.Entry
			kind errs.Kind
		}{
			{"a change to a locked note", Next(lockedNote, Epoch.Add(2*time.Minute), func(e *ehr.Entry) { e.Status = ehr.Draft }), errs.KindConflict},
			{"a vital in a locked encounter", vital(lockedEnc), errs.KindConflict},
			{"a note in a locked encounter", fx.Entry(&ehr.Note{Title: "Late", Plan: "x"}, lockedEnc, Epoch), errs.KindConflict},
			{"a stale version", stale, errs.KindConflict},
			{"a version skipped", skip, errs.KindConflict},
			{"a new entry's ID taken", &again, errs.KindConflict},
			{"a correction by another than the signer", Next(signedNote, Epoch, func(e *ehr.Entry) { e.Status, e.AuthorID = ehr.Draft, Colleague }), errs.KindForbidden},
			{"an invalid body", fx.Entry(&ehr.Vital{Code: "8867-4", Value: 2000, Unit: "/min", EffectiveAt: Epoch}, enc, Epoch), errs.KindInvalid},
			{"a vital outside an encounter", vital(nil), errs.KindInvalid},
			{"an unknown encounter", vital(&ehr.Entry{ID: newID()}), errs.KindNotFound},
			{"another patient's encounter", othersEnc, errs.KindInvalid},
			{"an unknown patient", func() *ehr.Entry { e := vital(enc); e.PatientID = newID(); return e }(), errs.KindInvalid},
			{"an addendum to an unknown note", addendumTo(newID()), errs.KindNotFound},
			{"an addendum to what is no note", addendumTo(problem.ID), errs.KindNotFound},
			{"an addendum to another patient's entry", addendumTo(othersNote.ID), errs.KindNotFound},
			{"an addendum to an addendum", addendumTo(addendum.ID), errs.KindInvalid},
			{"an unknown patient, no encounter", func() *ehr.Entry {
				e := fx.Entry(&ehr.Problem{Coding: ehr.Coding{Display: "Asthma"}, ClinicalStatus: "active"}, nil, Epoch)
				e.PatientID = newID()
				return e
			}(), errs.KindNotFound},
		} {
			before, err := s.EHR.Versions(ctx, fx.Practice, c.e.PatientID, 0, 1000)
			if err != nil {
				t.Fatalf("Versions: %v", err)
			}
			if err := s.EHR.Append(ctx, c.e, Now); !errs.Is(err, c.kind) {
				t.Errorf("%s: Append: %v, want %v", c.name, err, c.kind)
			}
			after, err := s.EHR.Versions(ctx, fx.Practice, c.e.PatientID, 0, 1000)
			if err != nil {
				t.Fatalf("Versions: %v", err)
			}
			if len(after) != len(before) {
				t.Errorf("%s: the chart went from %d to %d versions", c.name, len(before), len(after))
			}
		}
		if cur, err := s.EHR.Current(ctx, fx.Practice, note.ID); err != nil || cur.Status != ehr.Locked || cur.Version != 2 {
			t.Errorf("the locked note is now %+v, %v", cur, err)
		}
	})

	t.Run("scoped to the practice", func(t *testing.T) {
		s := open(t)
		a, b := NewFixture(t, s), NewFixture(t, s)
		all := AppendAll(t, s.EHR, a, Bodies("x"))
		e := all[1]
		if _, err := s.EHR.Current(ctx, b.Practice, e.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("Current from another practice: %v, want KindNotFound", err)
		}
		if _, err := s.EHR.History(ctx, b.Practice, e.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("History from another practice: %v, want KindNotFound", err)
		}
		if got, err := s.EHR.Chart(ctx, b.Practice, a.Patient, ehr.ChartFilter{}); err != nil || len(got) != 0 {
			t.Errorf("Chart from another practice = %v, %v; want none", ids(got), err)
		}
		if got, err := s.EHR.Versions(ctx, b.Practice, a.Patient, 0, 100); err != nil || len(got) != 0 {
			t.Errorf("Versions from another practice = %v, %v; want none", ids(got), err)
		}
		// Writing to a's patient, or in a's encounter, as practice b.
		p := b.Entry(&ehr.Problem{Coding: ehr.Coding{Display: "Asthma"}, ClinicalStatus: "active"}, nil, Epoch)
		p.PatientID = a.Patient
		if err := s.EHR.Append(ctx, p, Now); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("Append for another practice's patient: %v, want KindNotFound", err)
		}
		v := b.Entry(&ehr.Vital{Code: "8867-4", Value: 72, Unit: "/min", EffectiveAt: Epoch}, all[0], Epoch)
		if err := s.EHR.Append(ctx, v, Now); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("Append in another practice's encounter: %v, want KindNotFound", err)
		}
		// A new version of a's entry written as b's is not a's entry.
		n := Next(e, Epoch, nil)
		n.PracticeID = b.Practice
		if err := s.EHR.Append(ctx, n, Now); err == nil {
			t.Errorf("Append of a's entry's version 2 as practice b succeeded")
		}
		if cur, err := s.EHR.Current(ctx, a.Practice, e.ID); err != nil || cur.Version != 1 {
			t.Errorf("a's entry after b's write: %+v, %v", cur, err)
		}
	})

	t.Run("chart: order, filters and paging", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		other := NewPatient(t, s, fx.Practice)
		enc := fx.Entry(&ehr.Encounter{Class: "ambulatory", Start: Epoch}, nil, Epoch)
		mustAppend(t, s.EHR, enc)
		mustAppend(t, s.EHR, other.Entry(&ehr.Encounter{Class: "ambulatory", Start: Epoch}, nil, Epoch))
		at := func(m int) time.Time { return Epoch.Add(time.Duration(m) * time.Minute) }
		problem := fx.Entry(&ehr.Problem{Coding: ehr.Coding{Display: "Asthma"}, ClinicalStatus: "active"}, nil, at(1))
		restricted := fx.Entry(&ehr.Problem{Coding: ehr.Coding{Display: "HIV"}, ClinicalStatus: "active"}, nil, at(2))
		restricted.Restricted = true
		// Two recorded at the same instant: ID breaks the tie.
		allergy := fx.Entry(&ehr.Allergy{Substance: ehr.Coding{Display: "Peanut"}, Type: "allergy", Category: "food"}, nil, at(3))
		med := fx.Entry(&ehr.Medication{Medication: ehr.Coding{Display: "Aspirin"}, ReportedBy: "patient", Taking: "active"}, enc, at(3))
		tieA, tieB := allergy, med
		if tieA.ID.String() < tieB.ID.String() {
			tieA, tieB = tieB, tieA // tieA has the greater ID, so comes first
		}
		note := fx.Entry(&ehr.Note{Title: "Visit", Plan: "Rest."}, enc, at(4))
		vital := fx.Entry(&ehr.Vital{Code: "8867-4", Value: 72, Unit: "/min", EffectiveAt: Epoch}, enc, at(5))
		wrong := fx.Entry(&ehr.Vital{Code: "8867-4", Value: 27, Unit: "/min", EffectiveAt: Epoch}, enc, at(6))
		for _, e := range []*ehr.Entry{problem, restricted, tieA, tieB, note, vital, wrong} {
			mustAppend(t, s.EHR, e)
		}
		// A later version keeps the entry where its first one put it.
		problem2 := Next(problem, at(10), func(e *ehr.Entry) { e.Status = ehr.Inactive })
		mustAppend(t, s.EHR, problem2)
		wrong2 := Next(wrong, at(11), func(e *ehr.Entry) { e.Status = ehr.EnteredInError })
		mustAppend(t, s.EHR, wrong2)

		chart := func(f ehr.ChartFilter) []*ehr.Entry {
			t.Helper()
			got, err := s.EHR.Chart(ctx, fx.Practice, fx.Patient, f)
			if err != nil {
				t.Fatalf("Chart(%+v): %v", f, err)
			}
			return got
		}
		want := func(name string, got []*ehr.Entry, want ...*ehr.Entry) {
			t.Helper()
			ok := len(got) == len(want)
			for i := 0; ok && i < len(want); i++ {
				ok = same(got[i], want[i])
			}
			if !ok {
				t.Errorf("%s: Chart = %v, want %v", name, ids(got), ids(want))
			}
		}
		newest := []*ehr.Entry{vital, note, tieA, tieB, restricted, problem2, enc}
		want("all", chart(ehr.ChartFilter{}), newest...)
		want("with errors", chart(ehr.ChartFilter{WithErrors: true}), append([]*ehr.Entry{wrong2}, newest...)...)
		want("problems", chart(ehr.ChartFilter{Kinds: []ehr.Kind{ehr.KindProblem}}), restricted, problem2)
		want("notes and vitals", chart(ehr.ChartFilter{Kinds: []ehr.Kind{ehr.KindNote, ehr.KindVital}}), vital, note)
		want("in the encounter", chart(ehr.ChartFilter{EncounterID: &enc.ID}), vital, note, med)
		want("in the encounter with errors", chart(ehr.ChartFilter{EncounterID: &enc.ID, WithErrors: true}), wrong2, vital, note, med)
		want("limit", chart(ehr.ChartFilter{Limit: 2}), vital, note)

		// Paging by 2, through the tie.
		var paged []*ehr.Entry
		f := ehr.ChartFilter{Limit: 2}
		for range 10 {
			page := chart(f)
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			last := page[len(page)-1]
			hist, err := s.EHR.History(ctx, fx.Practice, last.ID)
			if err != nil {
				t.Fatalf("History: %v", err)
			}
			first := hist[0].RecordedAt
			f.Before, f.BeforeID = &first, &last.ID
		}
		want("paged by 2", paged, newest...)
		before := at(3)
		want("before, no ID", chart(ehr.ChartFilter{Before: &before}), restricted, problem2, enc)

		if _, err := s.EHR.Chart(ctx, fx.Practice, fx.Patient, ehr.ChartFilter{Limit: -1}); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("Chart(Limit -1): %v, want KindInvalid", err)
		}
		if got := chart(ehr.ChartFilter{Kinds: []ehr.Kind{ehr.KindImmunization}}); len(got) != 0 {
			t.Errorf("Chart(immunizations) = %v, want none", ids(got))
		}
		if got, err := s.EHR.Chart(ctx, fx.Practice, newID(), ehr.ChartFilter{}); err != nil || len(got) != 0 {
			t.Errorf("Chart(unknown patient) = %v, %v; want none", ids(got), err)
		}
	})

	t.Run("versions: paging and the chain", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		other := NewPatient(t, s, fx.Practice)
		all := AppendAll(t, s.EHR, fx, Bodies("x"))
		AppendAll(t, s.EHR, other, Bodies("y")) // another chain, its own Seq from 1
		p := all[2]
		for i := range 3 {
			p = Next(p, Epoch.Add(time.Duration(20+i)*time.Minute), nil)
			mustAppend(t, s.EHR, p)
		}
		var got []*ehr.Entry
		after := int64(0)
		for {
			page, err := s.EHR.Versions(ctx, fx.Practice, fx.Patient, after, 3)
			if err != nil {
				t.Fatalf("Versions(after %d): %v", after, err)
			}
			if len(page) > 3 {
				t.Fatalf("Versions(limit 3) returned %d", len(page))
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].Seq
		}
		if len(got) != len(all)+3 {
			t.Fatalf("Versions = %d versions, want %d", len(got), len(all)+3)
		}
		for i, v := range got {
			if v.Seq != int64(i+1) || v.PatientID != fx.Patient {
				t.Errorf("Versions[%d]: Seq %d of patient %s", i, v.Seq, v.PatientID)
			}
		}
		if !same(got[len(got)-1], p) {
			t.Errorf("the last version = %+v, want %+v", got[len(got)-1], p)
		}
		if err := ehr.VerifyChain(got); err != nil {
			t.Errorf("VerifyChain: %v", err)
		}
		if tail, err := s.EHR.Versions(ctx, fx.Practice, fx.Patient, int64(len(got)-2), 100); err != nil || len(tail) != 2 || tail[0].Seq != int64(len(got)-1) {
			t.Errorf("Versions(after %d) = %v, %v; want the last 2", len(got)-2, ids(tail), err)
		}
		if _, err := s.EHR.Versions(ctx, fx.Practice, fx.Patient, 0, 0); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("Versions(limit 0): %v, want KindInvalid", err)
		}
	})

	t.Run("concurrent writers", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		const n = 24
		var wg sync.WaitGroup
		errc := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e := fx.Entry(&ehr.Problem{Coding: ehr.Coding{Display: fmt.Sprintf("Problem %d", i)}, ClinicalStatus: "active"}, nil, Epoch)
				errc <- s.EHR.Append(ctx, e, Now)
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Errorf("Append: %v", err)
			}
		}
		vs, err := s.EHR.Versions(ctx, fx.Practice, fx.Patient, 0, 1000)
		if err != nil {
			t.Fatalf("Versions: %v", err)
		}
		if len(vs) != n {
			t.Errorf("the chart has %d versions, want %d", len(vs), n)
		}
		if err := ehr.VerifyChain(vs); err != nil {
			t.Errorf("VerifyChain after %d concurrent writers: %v", n, err)
		}

		// Racing on one entry's version 2: exactly one wins.
		base := fx.Entry(&ehr.Problem{Coding: ehr.Coding{Display: "Asthma"}, ClinicalStatus: "active"}, nil, Epoch)
		mustAppend(t, s.EHR, base)
		const racers = 8
		results := make(chan error, racers)
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v2 := Next(base, Epoch.Add(time.Minute), func(e *ehr.Entry) {
					e.Body = &ehr.Problem{Coding: ehr.Coding{Display: fmt.Sprintf("Asthma %d", i)}, ClinicalStatus: "active"}
				})
				results <- s.EHR.Append(ctx, v2, Now)
			}()
		}
		wg.Wait()
		close(results)
		if won := wins(t, results, "racer"); won != 1 {
			t.Errorf("%d racers wrote version 2, want exactly 1", won)
		}
		hist, err := s.EHR.History(ctx, fx.Practice, base.ID)
		if err != nil || len(hist) != 2 {
			t.Errorf("History = %v, %v; want 2 versions", ids(hist), err)
		}
		vs, err = s.EHR.Versions(ctx, fx.Practice, fx.Patient, 0, 1000)
		if err != nil || len(vs) != n+2 {
			t.Fatalf("Versions = %d, %v; want %d", len(vs), err, n+2)
		}
		if err := ehr.VerifyChain(vs); err != nil {
			t.Errorf("VerifyChain: %v", err)
		}
	})

	t.Run("InTx: an append rolled back is not kept", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		e := fx.Entry(&ehr.Problem{Coding: ehr.Coding{Display: "Asthma"}, ClinicalStatus: "active"}, nil, Epoch)
		stop := errs.Invalid("test", "x", "roll back")
		err := s.EHR.InTx(ctx, func(ctx context.Context) error {
			if err := s.EHR.Append(ctx, e, Now); err != nil {
				return err
			}
			if _, err := s.EHR.Current(ctx, fx.Practice, e.ID); err != nil {
				t.Errorf("Current inside the transaction: %v", err)
			}
			return stop
		})
		if !errors.Is(err, stop) {
			t.Fatalf("InTx: %v", err)
		}
		if _, err := s.EHR.Current(ctx, fx.Practice, e.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("Current after the rollback: %v, want KindNotFound", err)
		}
		mustAppend(t, s.EHR, Next(e, Epoch, func(e *ehr.Entry) { e.Version = 1 })) // Seq 1 again
		if vs, err := s.EHR.Versions(ctx, fx.Practice, fx.Patient, 0, 10); err != nil || len(vs) != 1 || vs[0].Seq != 1 {
			t.Errorf("Versions after the rollback = %v, %v", ids(vs), err)
		}
	})

	runRights(t, open)     // the patient's rights (rights.go)
	runBreakGlass(t, open) // break-glass accesses (breakglass.go)
}

// wins counts the nil errors of the closed results of concurrent writers
// (who names them), reporting any loser whose error is not KindConflict.
func wins(t *testing.T, results <-chan error, who string) int {
	t.Helper()
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errs.Is(err, errs.KindConflict):
			t.Errorf("a %s lost with %v, want KindConflict", who, err)
		}
	}
	return won
}
