package carebook

import (
	"context"
	"net/url"
	"strconv"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/ehr/fhir"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The FHIR R4 export of a patient's record (Patient/$everything) through
// the guard.

// EverythingQuery is one page of a patient's $everything.
type EverythingQuery struct {
	// Base is the FHIR base URL of the practice (the fullUrls' base);
	// Self is the URL of the operation, without its paging parameters,
	// which the Bundle's self and next links extend.
	Base, Self string
	// FileURL is the URL a DocumentReference gives for a patient's file;
	// nil leaves the attachment without one.
	FileURL func(file uuid.UUID) string
	// Cursor is the "next" cursor of the previous page ("" for the first).
	Cursor string
	// Limit is the page's size: 1 to MaxEverythingPage, 0 for
	// DefaultEverythingPage.
	Limit int
	// Released limits the export to the entries the patient reads of
	// themselves (Released), whoever the caller: the copy of the record
	// staff produce for a patient's request. A patient's own export is
	// always so limited.
	Released bool
}

// The page sizes of ExportPatient.
const (
	DefaultEverythingPage = 100
	MaxEverythingPage     = 1000
)

// ExportPatient returns one page of a patient's record as a FHIR R4
// searchset Bundle (fhir.Export: the patient, the practice, the
// locations and practitioners referred to, the appointments, every chart
// entry in use or entered in error with its Provenance), and the cursor of
// the next page ("" on the last), for the caller in ctx, who needs
// patient.clinical.read over the patient ("chart.export", one entry per
// page, in the read's transaction). Restricted entries are left out
// unless the caller holds patient.restricted.read; a patient exporting
// their own record gets its Released entries only (as Chart). There is no
// cap: every page is a slice of the same ordered export.
func (e *Engine) ExportPatient(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, q EverythingQuery) (fhir.Resource, string, error) {
	const op = "carebook.ExportPatient"
	offset := 0
	if q.Cursor != "" {
		n, err := strconv.Atoi(q.Cursor)
		if err != nil || n < 0 {
			return nil, "", errs.Invalid(op, "cursor", "is not a cursor of this export")
		}
		offset = n
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultEverythingPage
	case q.Limit < 0 || q.Limit > MaxEverythingPage:
		return nil, "", errs.Invalid(op, "limit", "must be 1 to "+strconv.Itoa(MaxEverythingPage))
	}
	pm, err := e.Authorize(ctx, Access{Permission: rbac.PatientClinicalRead, PracticeID: practice, PatientID: &patient,
		Action: "chart.export", ResourceType: "chart", ResourceID: patient.String()})
	if err != nil {
		return nil, "", err
	}
	var out []fhir.Resource
	total := 0
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		rd := readerOf(pm)
		rd.patient = rd.patient || q.Released
		rec, opts, err := e.patientRecord(ctx, practice, patient, rd)
		if err != nil {
			return "", err
		}
		opts.FileURL = q.FileURL
		out, total, err = fhir.ExportPage(*rec, opts, offset, q.Limit)
		return patient.String(), err
	})
	if err != nil {
		return nil, "", err
	}
	if offset > total {
		return nil, "", errs.Invalid(op, "cursor", "is past the end of the export")
	}
	end := offset + len(out)
	next := ""
	page := fhir.Page{Base: q.Base, Self: pageURL(q.Self, offset, q.Limit), Total: total, Match: "Patient"}
	if end < total {
		next = strconv.Itoa(end)
		page.Next = pageURL(q.Self, end, q.Limit)
	}
	return fhir.Searchset(out, page), next, nil
}

// pageURL is self with the page's cursor and count.
func pageURL(self string, offset, limit int) string {
	v := url.Values{"_count": {strconv.Itoa(limit)}}
	if offset > 0 {
		v.Set("cursor", strconv.Itoa(offset))
	}
	return self + "?" + v.Encode()
}

// patientRecord reads what fhir.Export maps of a patient, in ctx's
// transaction: the chart entries reader sees (chartReader.filter).
func (e *Engine) patientRecord(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, reader chartReader) (*fhir.Record, fhir.Options, error) {
	opts := fhir.Options{Files: map[uuid.UUID]fhir.FileInfo{}}
	p, err := e.store.Scheduling.GetPatient(ctx, practice, patient)
	if err != nil {
		return nil, opts, err
	}
	org, err := e.store.Tenants.GetPractice(ctx, practice)
	if err != nil {
		return nil, opts, err
	}
	appts, err := e.store.Scheduling.ListAppointments(ctx, practice, scheduling.AppointmentFilter{PatientID: &patient, ByCreated: true})
	if err != nil {
		return nil, opts, err
	}
	entries, err := e.store.EHR.Chart(ctx, practice, patient, ehr.ChartFilter{WithErrors: true})
	if err != nil {
		return nil, opts, err
	}
	entries = unlinked(reader.filter(entries))
	// Oldest first, so that pages already read stay as they were when
	// entries are added.
	for i, j := 0, len(entries)-1; i < j; i, j = i+1, j-1 {
		entries[i], entries[j] = entries[j], entries[i]
	}
	rec := &fhir.Record{Practice: org, Patient: p, Appointments: appts, Entries: entries}
	providers, locations := map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
	var provIDs, locIDs []uuid.UUID
	addProv := func(id uuid.UUID) {
		if !providers[id] {
			providers[id] = true
			provIDs = append(provIDs, id)
		}
	}
	addLoc := func(id uuid.UUID) {
		if !locations[id] {
			locations[id] = true
			locIDs = append(locIDs, id)
		}
	}
	for _, a := range appts {
		addProv(a.ProviderID)
		addLoc(a.LocationID)
	}
	for _, en := range entries {
		switch b := en.Body.(type) {
		case *ehr.Encounter:
			if b.ProviderID != nil {
				addProv(*b.ProviderID)
			}
		case *ehr.Document:
			if f, err := e.store.Files.GetFile(ctx, practice, b.FileID); err == nil {
				opts.Files[f.ID] = fhir.FileInfo{ContentType: f.ContentType, Size: f.Size}
			} else if errs.KindOf(err) != errs.KindNotFound {
				return nil, opts, err
			}
		}
	}
	for _, id := range provIDs {
		pr, err := e.store.Scheduling.GetProvider(ctx, practice, id)
		if err != nil {
			return nil, opts, err
		}
		rec.Providers = append(rec.Providers, pr)
		for _, l := range pr.LocationIDs {
			addLoc(l)
		}
	}
	for _, id := range locIDs {
		l, err := e.store.Tenants.GetLocation(ctx, practice, id)
		if err != nil {
			return nil, opts, err
		}
		rec.Locations = append(rec.Locations, l)
	}
	return rec, opts, nil
}

// unlinked returns entries with the encounter of each entry whose
// encounter is not among them (hidden from the reader: an open visit of a
// patient's released record, a restricted one) taken off a copy of it,
// so that the export refers to nothing it leaves out.
func unlinked(entries []*ehr.Entry) []*ehr.Entry {
	shown := map[ehr.EntryID]bool{}
	for _, e := range entries {
		if e.Kind == ehr.KindEncounter {
			shown[e.ID] = true
		}
	}
	for i, e := range entries {
		if e.EncounterID != nil && !shown[*e.EncounterID] {
			cp := *e
			cp.EncounterID = nil
			entries[i] = &cp
		}
	}
	return entries
}
