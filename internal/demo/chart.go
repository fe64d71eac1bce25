package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The demo charts: written by Dr. Maya Chen's account (ClinicianEmail)
// through the Engine, as a clinician would, so that every entry is
// versioned, chained and sealed as any other. Marcus Johnson's visit of two
// weeks ago is charted and locked, with his lists and vital signs; Grace
// O'Neil's carries a restricted problem, which only administrators (and a
// clinician by break-glass) see; Olivia Bennett, the demo patient, has a
// signed note and a draft one, which her portal does not show.

// Codings of the demo charts.
var (
	hypertension = ehr.Coding{System: "http://snomed.info/sct", Code: "38341003", Display: "Essential hypertension"}
	diabetes     = ehr.Coding{System: "http://snomed.info/sct", Code: "44054006", Display: "Type 2 diabetes mellitus"}
	asthma       = ehr.Coding{System: "http://snomed.info/sct", Code: "195967001", Display: "Asthma"}
	osteoarth    = ehr.Coding{System: "http://snomed.info/sct", Code: "239873007", Display: "Osteoarthritis of knee"}
	depression   = ehr.Coding{System: "http://snomed.info/sct", Code: "35489007", Display: "Depressive disorder"}
	penicillin   = ehr.Coding{System: "http://snomed.info/sct", Code: "764146007", Display: "Penicillin"}
	metformin    = ehr.Coding{System: "http://www.nlm.nih.gov/research/umls/rxnorm", Code: "860975", Display: "Metformin 500 mg oral tablet"}
	lisinopril   = ehr.Coding{System: "http://www.nlm.nih.gov/research/umls/rxnorm", Code: "314076", Display: "Lisinopril 10 mg oral tablet"}
	albuterol    = ehr.Coding{System: "http://www.nlm.nih.gov/research/umls/rxnorm", Code: "745679", Display: "Albuterol 90 mcg/actuation inhaler"}
	fluVaccine   = ehr.Coding{System: "http://hl7.org/fhir/sid/cvx", Code: "197", Display: "Influenza, high-dose, quadrivalent"}
)

// charter writes the demo charts as one account.
type charter struct {
	e        *carebook.Engine
	ctx      context.Context // carries the clinician as the caller
	practice tenant.PracticeID
	now      time.Time
	err      error
}

// write writes w for patient and returns the entry's ID; after a failure
// it does nothing (the first error is kept).
func (c *charter) write(patient scheduling.PatientID, w carebook.ChartWrite) ehr.EntryID {
	if c.err != nil {
		return uuid.Nil
	}
	w.PatientID = patient
	e, err := c.e.WriteChart(c.ctx, c.practice, w)
	if err != nil {
		c.err = fmt.Errorf("demo chart (%s): %w", w.Body.Kind(), err)
		return uuid.Nil
	}
	return e.ID
}

// sign writes the next version of the note id (version 1, in encounter
// enc) as status: signed or locked.
func (c *charter) sign(patient scheduling.PatientID, id, enc ehr.EntryID, body ehr.Body, status ehr.Status) {
	c.write(patient, carebook.ChartWrite{ID: &id, Version: 1, EncounterID: &enc, Status: status, Body: body})
}

// charts writes the demo charts of practice as account, the clinician, in
// ctx's transaction.
func charts(ctx context.Context, e *carebook.Engine, practice tenant.PracticeID, account identity.AccountID) error {
	pr, err := e.RBAC.Principal(ctx, account)
	if err != nil {
		return err
	}
	c := &charter{e: e, practice: practice, now: e.Clock.Now().UTC(),
		ctx: carebook.WithCaller(ctx, carebook.Caller{Actor: actor.Actor{Kind: actor.Staff, ID: account.String()}, Principal: pr})}
	find := func(email string) (*scheduling.Patient, error) {
		pts, err := e.Scheduling.Patients(ctx, practice, scheduling.PatientFilter{Email: email, Limit: 1})
		if err != nil || len(pts) != 1 {
			return nil, fmt.Errorf("demo chart: no seeded patient %s: %v", email, err)
		}
		return pts[0], nil
	}
	marcus, err := find("marcus.johnson@example.com")
	if err != nil {
		return err
	}
	grace, err := find("grace.oneil@example.net")
	if err != nil {
		return err
	}
	olivia, err := find(PatientEmail)
	if err != nil {
		return err
	}
	if err := c.marcus(ctx, marcus); err != nil {
		return err
	}
	c.grace(grace)
	c.olivia(olivia)
	return c.err
}

// marcus charts Marcus Johnson's finished visit of two weeks ago: the
// encounter of that appointment with his blood pressure, heart rate and
// weight, a locked note, and his lists.
func (c *charter) marcus(ctx context.Context, p *scheduling.Patient) error {
	visits, err := c.e.Store().Scheduling.ListAppointments(ctx, c.practice, scheduling.AppointmentFilter{
		PatientID: &p.ID, Status: []scheduling.Status{scheduling.StatusOut}})
	if err != nil {
		return err
	}
	start, end := c.now.Add(pastOffset), c.now.Add(pastOffset+40*time.Minute)
	var appt, prov *uuid.UUID
	if len(visits) > 0 {
		v := visits[0]
		start, end, appt, prov = v.Start.UTC(), v.End.UTC(), &v.ID, &v.ProviderID
	}
	body := &ehr.Encounter{AppointmentID: appt, ProviderID: prov, Class: "ambulatory", Reason: "New patient visit: blood pressure and sugar", Start: start}
	enc := c.write(p.ID, carebook.ChartWrite{Status: ehr.Draft, Body: body})
	at := start.Add(10 * time.Minute)
	for _, v := range []ehr.Vital{
		{Code: "8480-6", Value: 148, Unit: "mm[Hg]"}, {Code: "8462-4", Value: 92, Unit: "mm[Hg]"},
		{Code: "8867-4", Value: 78, Unit: "/min"}, {Code: "29463-7", Value: 96.2, Unit: "kg"},
	} {
		v.EffectiveAt = at
		c.write(p.ID, carebook.ChartWrite{EncounterID: &enc, Status: ehr.Active, Body: &v})
	}
	note := &ehr.Note{Title: "New patient visit",
		Subjective: "Referred for raised blood pressure at a pharmacy check. Thirsty of late; no chest pain.",
		Objective:  "BP 148/92, HR 78, weight 96.2 kg. Heart and lungs normal.",
		Assessment: "Stage 2 hypertension. Type 2 diabetes, HbA1c 7.4% on the outside labs.",
		Plan:       "Start lisinopril 10 mg daily and metformin 500 mg twice daily. Follow-up in 4 weeks with home BP readings."}
	id := c.write(p.ID, carebook.ChartWrite{EncounterID: &enc, Status: ehr.Draft, Body: note})
	c.sign(p.ID, id, enc, note, ehr.Locked)
	done := *body
	done.End = &end
	c.write(p.ID, carebook.ChartWrite{ID: &enc, Version: 1, Status: ehr.Locked, Body: &done})

	onset := start.Format(time.DateOnly)
	c.write(p.ID, carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Problem{Coding: hypertension, ClinicalStatus: "active", Onset: onset}})
	c.write(p.ID, carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Problem{Coding: diabetes, ClinicalStatus: "active", Onset: onset}})
	c.write(p.ID, carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Allergy{Substance: penicillin, Type: "allergy",
		Category: "medication", Criticality: "high", Reaction: "Hives"}})
	for _, m := range []struct {
		drug   ehr.Coding
		dosage string
	}{{lisinopril, "10 mg once daily"}, {metformin, "500 mg twice daily with meals"}} {
		c.write(p.ID, carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Medication{Medication: m.drug, Dosage: m.dosage,
			ReportedBy: "practitioner", Taking: "active"}})
	}
	c.write(p.ID, carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Immunization{Vaccine: fluVaccine,
		OccurredOn: start.AddDate(0, -2, 0).Format(time.DateOnly), Lot: "FL2026-118", Given: "completed"}})
	return nil
}

// grace charts Grace O'Neil's lists, one problem marked restricted.
func (c *charter) grace(p *scheduling.Patient) {
	c.write(p.ID, carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Problem{Coding: osteoarth, ClinicalStatus: "active", Onset: "2019-05-01"}})
	c.write(p.ID, carebook.ChartWrite{Status: ehr.Active, Restricted: true,
		Body: &ehr.Problem{Coding: depression, ClinicalStatus: "active", Onset: "2024-10-01"}})
	c.write(p.ID, carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Medication{Medication: ehr.Coding{Display: "Acetaminophen 500 mg"},
		Dosage: "As needed for knee pain", ReportedBy: "patient", Taking: "active"}})
}

// olivia charts Olivia Bennett's asthma: a signed note of last month's
// telehealth check, and a draft of this week's (not hers to see yet).
func (c *charter) olivia(p *scheduling.Patient) {
	c.write(p.ID, carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Problem{Coding: asthma, ClinicalStatus: "active", Onset: "1998-04-01"}})
	c.write(p.ID, carebook.ChartWrite{Status: ehr.Active, Body: &ehr.Medication{Medication: albuterol, Dosage: "2 puffs as needed",
		ReportedBy: "patient", Taking: "active"}})
	start := c.now.AddDate(0, -1, 0)
	enc := c.write(p.ID, carebook.ChartWrite{Status: ehr.Draft, Body: &ehr.Encounter{Class: "virtual", Reason: "Asthma check", Start: start}})
	signed := &ehr.Note{Title: "Asthma check (telehealth)", Subjective: "Uses the inhaler about once a week, more in pollen season.",
		Assessment: "Mild intermittent asthma, well controlled.", Plan: "Keep albuterol as needed. Review in six months."}
	id := c.write(p.ID, carebook.ChartWrite{EncounterID: &enc, Status: ehr.Draft, Body: signed})
	c.sign(p.ID, id, enc, signed, ehr.Signed)
	c.write(p.ID, carebook.ChartWrite{EncounterID: &enc, Status: ehr.Active,
		Body: &ehr.Vital{Code: "59408-5", Value: 98, Unit: "%", EffectiveAt: start.Add(5 * time.Minute)}})
	c.write(p.ID, carebook.ChartWrite{EncounterID: &enc, Status: ehr.Draft,
		Body: &ehr.Note{Title: "Follow-up call (draft)", Subjective: "Called back about the pollen season; notes not finished."}})
}
