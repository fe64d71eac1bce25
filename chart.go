package carebook

import (
	"context"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The chart (package ehr) through the guard: every read and write of a
// patient's chart is authorized here, below HTTP, and writes exactly one
// activity-log entry naming the patient and the data category ("chart"
// and the entry's kind), in the operation's transaction.

// ChartWrite is one write of a chart entry: a new entry (ID nil) or the
// next version of one, from the version the writer saw (Version).
type ChartWrite struct {
	// ID is the entry to change; nil writes a new one.
	ID *ehr.EntryID
	// Version is the current version the change was made from (0 for a
	// new entry): a change made from an older one is KindConflict.
	Version     int
	PatientID   scheduling.PatientID
	EncounterID *ehr.EntryID
	// Status is the entry's new status: for a note, Signed or Locked signs
	// it by the caller.
	Status     ehr.Status
	Restricted bool
	Body       ehr.Body
}

// WriteChart writes w for the caller in ctx, who needs
// patient.clinical.write over the patient: the new version is checked
// (ehr.CheckWrite), linked into the patient's chain and stored with its
// "chart.write" entry in one transaction. A signed or locked note is
// signed by the caller. Bad input names its field; a locked entry or
// encounter, or a change from a stale version, is KindConflict.
func (e *Engine) WriteChart(ctx context.Context, practice tenant.PracticeID, w ChartWrite) (*ehr.Entry, error) {
	const op = "carebook.WriteChart"
	if w.Body == nil {
		return nil, errs.Invalid(op, "body", "is required")
	}
	id := uuid.Nil
	if w.ID != nil {
		id = *w.ID
	}
	var out *ehr.Entry
	err := e.Guard(ctx, Access{Permission: rbac.PatientClinicalWrite, PracticeID: practice, PatientID: &w.PatientID,
		Action: "chart.write", ResourceType: "chart." + string(w.Body.Kind()), ResourceID: idText(w.ID)},
		func(ctx context.Context) (string, error) {
			c, _ := CallerFrom(ctx)
			now := e.Clock.Now().UTC().Truncate(time.Microsecond)
			next := &ehr.Entry{ID: id, PracticeID: practice, PatientID: w.PatientID, EncounterID: w.EncounterID,
				Kind: w.Body.Kind(), Version: w.Version + 1, Status: w.Status, Restricted: w.Restricted, Body: w.Body,
				AuthorID: c.Actor.ID, RecordedAt: now}
			if next.ID == uuid.Nil {
				next.ID = e.IDs.New()
			}
			if ehr.Signs(next.Kind, next.Status) {
				next.SignedBy, next.SignedAt = c.Actor.ID, &now
			}
			if err := e.store.EHR.Append(ctx, next, now); err != nil {
				return "", err
			}
			out = next
			return next.ID.String(), nil
		})
	return out, err
}

// idText is id's text, or "" for nil.
func idText(id *ehr.EntryID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

// What a reader sees of a chart.
//
// Staff who read a chart see every entry in it, drafts too, and the
// restricted ones if they hold patient.restricted.read (ehr.Visible). A
// patient reading their own chart (whose patient.clinical.read comes only
// from their self grant) sees what the practice has released: Released
// entries, never restricted ones. readerOf decides which reader a caller
// is, and chartReader.sees is the one place that decides what each sees:
// Chart, ChartHistory, ExportPatient and the patient's rights
// (RequestAmendment, EntryAmendments) all filter through it.

// Released reports whether e is part of the record a patient reads of
// themselves: a note signed or locked, an encounter locked, an entry of
// another kind active or inactive (not a draft, not entered in error),
// and not restricted.
func Released(e *ehr.Entry) bool {
	if e.Restricted {
		return false
	}
	switch e.Kind {
	case ehr.KindNote, ehr.KindEncounter:
		return e.Status == ehr.Signed || e.Status == ehr.Locked
	}
	return e.Status == ehr.Active || e.Status == ehr.Inactive
}

// chartReader is what a caller may see of a chart.
type chartReader struct {
	// patient: the caller reads their own chart as its patient (only
	// Released entries); restricted: the caller may see restricted
	// entries (staff with patient.restricted.read).
	patient, restricted bool
}

// readerOf is the reader of the chart pm was allowed over.
func readerOf(pm *Permit) chartReader {
	return chartReader{patient: pm.asPatient(rbac.PatientClinicalRead), restricted: pm.holds(rbac.PatientRestrictedRead)}
}

// asPatient reports whether the caller holds perm over the access's
// patient only as that patient: from a self grant, and from no grant that
// reaches the practice (or its group) as a whole.
func (pm *Permit) asPatient(perm rbac.Permission) bool {
	if pm.target.PatientID == nil || !pm.principal.Can(perm, pm.target) {
		return false
	}
	whole := rbac.Target{GroupID: pm.target.GroupID, PracticeID: pm.target.PracticeID}
	return !pm.principal.Can(perm, whole)
}

// sees reports whether the reader sees version e of an entry.
func (r chartReader) sees(e *ehr.Entry) bool {
	if r.patient {
		return Released(e)
	}
	return r.restricted || !e.Restricted
}

// filter returns the entries r sees, in their order.
func (r chartReader) filter(entries []*ehr.Entry) []*ehr.Entry {
	if !r.patient {
		return ehr.Visible(entries, r.restricted)
	}
	out := make([]*ehr.Entry, 0, len(entries))
	for _, e := range entries {
		if r.sees(e) {
			out = append(out, e)
		}
	}
	return out
}

// Chart returns the current entries of a patient's chart that pass f,
// newest first, for the caller in ctx, who needs patient.clinical.read
// over the patient ("chart.read"). Restricted entries are left out unless
// the caller holds patient.restricted.read (ehr.Visible); a patient
// reading their own chart gets its Released entries only.
func (e *Engine) Chart(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, f ehr.ChartFilter) ([]*ehr.Entry, error) {
	pm, err := e.Authorize(ctx, Access{Permission: rbac.PatientClinicalRead, PracticeID: practice, PatientID: &patient,
		Action: "chart.read", ResourceType: "chart", ResourceID: patient.String()})
	if err != nil {
		return nil, err
	}
	var out []*ehr.Entry
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		entries, err := e.store.EHR.Chart(ctx, practice, patient, f)
		out = readerOf(pm).filter(entries)
		return patient.String(), err
	})
	return out, err
}

// ChartHistory returns every version of a chart entry, oldest first, for
// the caller in ctx, who needs patient.clinical.read over its patient (and
// patient.restricted.read if it is restricted: else KindNotFound, as if it
// were not there) ("chart.history"). A patient reading their own chart
// gets the Released versions of an entry whose current version is
// Released: else KindNotFound.
func (e *Engine) ChartHistory(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, id ehr.EntryID) ([]*ehr.Entry, error) {
	pm, err := e.Authorize(ctx, Access{Permission: rbac.PatientClinicalRead, PracticeID: practice, PatientID: &patient,
		Action: "chart.history", ResourceType: "chart", ResourceID: id.String()})
	if err != nil {
		return nil, err
	}
	var out []*ehr.Entry
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		versions, err := e.store.EHR.History(ctx, practice, id)
		if err != nil {
			return "", err
		}
		rd := readerOf(pm)
		out = rd.filter(versions)
		hidden := !rd.sees(versions[len(versions)-1]) || (!rd.patient && len(out) < len(versions))
		if versions[0].PatientID != patient || hidden {
			return "", errs.NotFound("carebook.ChartHistory", "chart entry")
		}
		return id.String(), nil
	})
	return out, err
}

// verifyPage is how many versions VerifyChart reads at a time.
const verifyPage = 500

// VerifyChart checks the hash chain of a patient's chart (ehr.VerifyChain)
// for the caller in ctx, who needs patient.clinical.read over the patient
// ("chart.verify"): nil when every version is as written, else
// KindConflict naming the first version edited, inserted or removed.
func (e *Engine) VerifyChart(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) error {
	var fault error
	err := e.Guard(ctx, Access{Permission: rbac.PatientClinicalRead, PracticeID: practice, PatientID: &patient,
		Action: "chart.verify", ResourceType: "chart", ResourceID: patient.String()},
		func(ctx context.Context) (string, error) {
			var all []*ehr.Entry
			for after := int64(0); ; {
				page, err := e.store.EHR.Versions(ctx, practice, patient, after, verifyPage)
				if err != nil {
					return "", err
				}
				all = append(all, page...)
				if len(page) < verifyPage {
					break
				}
				after = page[len(page)-1].Seq
			}
			fault = ehr.VerifyChain(all)
			return patient.String(), nil
		})
	if err != nil {
		return err
	}
	return fault
}
