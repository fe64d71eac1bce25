package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/ehr/fhir"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The patient's own record in the portal: "My health record" (the
// entries the practice released: carebook.Released), its copies (a page
// made for printing, and the FHIR R4 Bundle as a download), the requests
// to correct it (amendments, with the patient's statement of disagreement
// when one is denied) and the requests for a copy of it. Every read and
// request goes through the Engine's guarded operations (Chart, OpenFile,
// ExportPatient, RequestAmendment, Amendments, DisagreeAmendment,
// RequestRecordCopy, RecordRequests), which authorize the patient by their
// self grant and write the activity-log entry; the Engine gives a patient
// their released entries only. Staff accounts get 403 here (they hold no
// self grant); their pages are the chart and the rights pages (rights.go).

// portalRoutes are the pages of the patient's own record.
func (s *pages) portalRoutes() []refserver.Route {
	const p = "/p/{practice}/record"
	m := refserver.Member()
	return []refserver.Route{
		route("GET", p, s.showRecord, "The patient's own health record: the entries the practice released", m),
		route("GET", p+"/print", s.printRecord, "A human-readable copy of the patient's record, made for printing", m),
		route("GET", p+"/fhir", s.downloadRecord, "The patient's record as a FHIR R4 Bundle (a JSON download)", m),
		route("GET", p+"/files/{file}", s.downloadOwnFile, "Download a document of the patient's record", m),
		route("GET", p+"/corrections", s.showCorrections, "The patient's requests to correct their record, and the form of one", m),
		route("POST", p+"/corrections", s.requestCorrection, "Ask the practice to correct entries of one's record, with a reason", m),
		route("POST", p+"/corrections/{amendment}/disagree", s.disagree, "Send a statement of disagreement with a denied correction", m),
		route("GET", p+"/copies", s.showCopies, "The patient's requests for a copy of their record, and the form of one", m),
		route("POST", p+"/copies", s.requestCopy, "Ask the practice for a copy of one's record", m),
	}
}

// practiceZone is the time zone a practice's times are shown in: its
// first location's, else UTC.
func (s *pages) practiceZone(ctx context.Context, pid tenant.PracticeID) *time.Location {
	if locs, err := s.engine.Tenants.Locations(ctx, pid); err == nil && len(locs) > 0 {
		if z, err := time.LoadLocation(locs[0].TimeZone); err == nil {
			return z
		}
	}
	return time.UTC
}

// portalReq is a request of the patient's own record pages.
type portalReq struct {
	*patientCtx
	cr *chartReq
}

// portal is the view titled title of the caller's own record in r's
// {practice} (403 for staff).
func (s *pages) portal(r *http.Request, title string) (*portalReq, error) {
	pc, err := s.patientView(r, title)
	if err != nil {
		return nil, err
	}
	cr := &chartReq{pid: pc.practice.ID, patient: pc.patient, base: pc.base + "/record", zone: s.practiceZone(r.Context(), pc.practice.ID)}
	return &portalReq{patientCtx: pc, cr: cr}, nil
}

// recordPage is a patient's record as the patient (or the copy) shows it:
// the chart's sections of the released entries, and the signed notes in
// full.
type recordPage struct {
	*chartPage
	Base         string
	PracticeName string
	Printed      string
	Notes        []chartRow
	// Staff: the copy is staff's, made for the patient (no patient links).
	Staff bool
	// Back is where the copy's page links back to.
	Back string
}

// record reads the chart of cr through the Engine (a patient gets their
// released entries; released limits staff's to those) and sorts it into a
// recordPage.
func (s *pages) record(r *http.Request, v *view, cr *chartReq, released bool) (*recordPage, error) {
	ctx := r.Context()
	entries, err := s.engine.Chart(ctx, cr.pid, cr.patient, ehr.ChartFilter{})
	if err != nil {
		return nil, err
	}
	if released {
		entries = slices.DeleteFunc(entries, func(e *ehr.Entry) bool { return !carebook.Released(e) })
	}
	pt, err := s.engine.Patient(ctx, cr.pid, cr.patient)
	if err != nil {
		return nil, err
	}
	cv := &chartView{view: v, Base: practicePath(cr.pid), ChartHref: cr.base, Patient: patientName(pt.GivenName, pt.FamilyName),
		Born: pt.BirthDate, Zone: cr.zone.String()}
	p := &recordPage{chartPage: s.chartPage(ctx, cv, cr, entries), Base: practicePath(cr.pid),
		Printed: v.date(s.engine.Clock.Now().In(cr.zone))}
	if v.Practice != nil {
		p.PracticeName = v.Practice.Name
	}
	names := s.chartNamer(ctx)
	for _, e := range entries {
		if e.Kind == ehr.KindNote {
			p.Notes = append(p.Notes, cv.row(e, cr.zone, names))
		}
	}
	return p, nil
}

func (s *pages) showRecord(w http.ResponseWriter, r *http.Request) error {
	pr, err := s.portal(r, "portal.record.title")
	if err != nil {
		return err
	}
	p, err := s.record(r, pr.v, pr.cr, false)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "portal_record.html", p)
}

// printRecord is the human-readable copy of the patient's record: the
// practice, the patient, the date and every section, made for printing.
func (s *pages) printRecord(w http.ResponseWriter, r *http.Request) error {
	pr, err := s.portal(r, "portal.print.title")
	if err != nil {
		return err
	}
	p, err := s.record(r, pr.v, pr.cr, false)
	if err != nil {
		return err
	}
	p.Back = pr.cr.base
	return s.render(w, http.StatusOK, "portal_print.html", p)
}

// downloadRecord answers the patient's record as one FHIR R4 Bundle, an
// attachment.
func (s *pages) downloadRecord(w http.ResponseWriter, r *http.Request) error {
	pr, err := s.portal(r, "portal.record.title")
	if err != nil {
		return err
	}
	return s.sendBundle(w, r, pr.cr, false)
}

// sendBundle exports cr's patient through the Engine, page after page
// (each logged), into one Bundle answered as a download: released limits
// a staff export to the patient's copy.
func (s *pages) sendBundle(w http.ResponseWriter, r *http.Request, cr *chartReq, released bool) error {
	api := publicBase(r, s.opts) + "/api/v1/practices/" + cr.pid.String()
	q := carebook.EverythingQuery{Base: api + "/fhir", Self: api + "/patients/" + cr.patient.String() + "/$everything",
		FileURL: func(f uuid.UUID) string { return api + "/files/" + f.String() }, Limit: carebook.MaxEverythingPage, Released: released}
	var bundle fhir.Resource
	var all []any
	for {
		b, next, err := s.engine.ExportPatient(r.Context(), cr.pid, cr.patient, q)
		if err != nil {
			return err
		}
		if bundle == nil {
			bundle = b
		}
		if es, ok := b["entry"].([]any); ok {
			all = append(all, es...)
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	bundle["link"] = []any{map[string]any{"relation": "self", "url": q.Self}}
	if len(all) > 0 {
		bundle["entry"] = all
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(bundle); err != nil {
		return err
	}
	day := s.engine.Clock.Now().In(cr.zone).Format("2006-01-02")
	w.Header().Set("Content-Type", "application/fhir+json")
	w.Header().Set("Content-Disposition", `attachment; filename="health-record-`+day+`.json"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err := w.Write(buf.Bytes())
	return err
}

// downloadOwnFile streams a document of the patient's record: a file that
// is no released document of the caller's own chart is not found.
func (s *pages) downloadOwnFile(w http.ResponseWriter, r *http.Request) error {
	pr, err := s.portal(r, "portal.record.title")
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("file", r.PathValue("file"))
	if err != nil {
		return err
	}
	docs, err := s.engine.Chart(r.Context(), pr.cr.pid, pr.cr.patient, ehr.ChartFilter{Kinds: []ehr.Kind{ehr.KindDocument}})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(docs, func(e *ehr.Entry) bool { d, ok := e.Body.(*ehr.Document); return ok && d.FileID == id }) {
		return errs.NotFound("web.downloadOwnFile", "document")
	}
	f, rc, err := s.engine.OpenFile(r.Context(), pr.cr.pid, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+asciiName(f.Name)+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = io.Copy(w, rc)
	return err
}

// Corrections (amendment requests).

// rightsRow is an amendment or record request as the pages list it.
type rightsRow struct {
	ID, Status, StatusLabel string
	Requested, Due          string
	// Overdue: undecided past its time limit; Left words the time left
	// (or how long it is overdue) while it is open.
	Overdue  bool
	Left     string
	Extended string // the extension's reason, if extended
	Decided  string // who decided, and when
	// An amendment's entries (their titles), reason, texts and statements.
	Entries                []string
	Reason                 string
	Amendment, DenialBasis string
	DenialReason           string
	Disagreement, Rebuttal string
	// A record request's form, and the form it was fulfilled in.
	Form, Fulfilled string
	// CanDisagree: denied, and the patient has not disagreed yet;
	// CanRebut: disagreed, and the practice has not rebutted yet.
	CanDisagree, CanRebut, Open bool
	// Patient, Href: whose request, and their rights page (overdue lists).
	Patient, Href string
}

// amendmentRow is a as the pages show it, with the titles of its entries
// among rows (by entry ID).
func amendmentRow(v *view, a *ehr.Amendment, titles map[string]string, zone *time.Location, now time.Time, names *chartNames) rightsRow {
	row := rightsRow{ID: a.ID.String(), Status: string(a.Status), StatusLabel: v.tf("rights.status.", string(a.Status)),
		Requested: v.whenLabel(a.RequestedAt.In(zone)), Due: v.date(a.Due.In(zone)), Reason: a.Reason, Amendment: a.Amendment,
		DenialReason: a.DenialReason, Open: a.Status == ehr.Requested}
	row.Overdue, row.Left = rightsClock(v, row.Open, a.Due, now)
	if a.DenialBasis != "" {
		row.DenialBasis = v.tf("rights.basis.", string(a.DenialBasis))
	}
	if a.Extension != nil {
		row.Extended = a.Extension.Reason
	}
	if a.Decision != nil {
		row.Decided = v.T("rights.decided_by", names.of(actorID(a.Decision.By)), v.whenLabel(a.Decision.At.In(zone)))
	}
	if a.Disagreement != nil {
		row.Disagreement = a.Disagreement.Text
	}
	if a.Rebuttal != nil {
		row.Rebuttal = a.Rebuttal.Text
	}
	row.CanDisagree = a.Status == ehr.Denied && a.Disagreement == nil
	row.CanRebut = a.Disagreement != nil && a.Rebuttal == nil
	for _, id := range a.EntryIDs {
		t, ok := titles[id.String()]
		if !ok {
			t = v.T("rights.entry_unseen")
		}
		row.Entries = append(row.Entries, t)
	}
	return row
}

// copyRow is rq as the pages show it.
func copyRow(v *view, rq *ehr.RecordRequest, zone *time.Location, now time.Time, names *chartNames) rightsRow {
	row := rightsRow{ID: rq.ID.String(), Status: string(rq.Status), StatusLabel: v.tf("rights.status.", string(rq.Status)),
		Requested: v.whenLabel(rq.RequestedAt.In(zone)), Due: v.date(rq.Due.In(zone)), Form: v.tf("rights.form.", string(rq.Form)),
		DenialReason: rq.DenialReason, Open: rq.Status == ehr.Requested}
	row.Overdue, row.Left = rightsClock(v, row.Open, rq.Due, now)
	if rq.FulfilledForm != "" {
		row.Fulfilled = v.tf("rights.form.", string(rq.FulfilledForm))
	}
	if rq.Extension != nil {
		row.Extended = rq.Extension.Reason
	}
	if rq.Decision != nil {
		row.Decided = v.T("rights.decided_by", names.of(actorID(rq.Decision.By)), v.whenLabel(rq.Decision.At.In(zone)))
	}
	return row
}

// rightsClock is whether an open request due at due is overdue at now, and
// the words of its clock: the days left, or the days overdue.
func rightsClock(v *view, open bool, due, now time.Time) (bool, string) {
	if !open {
		return false, ""
	}
	const day = 24 * time.Hour
	if now.After(due) {
		return true, v.T("rights.overdue_by", int((now.Sub(due)+day-1)/day))
	}
	return false, v.T("rights.left", int((due.Sub(now)+day-1)/day))
}

// actorID is the account ID of an actor's text ("staff:<id>"), else the
// text itself.
func actorID(s string) string {
	if _, id, ok := strings.Cut(s, ":"); ok {
		return id
	}
	return s
}

// entryChoice is one entry the patient may ask to correct.
type entryChoice struct {
	ID, Label string
	Checked   bool
}

// correctionsPage is the patient's amendment requests and the form of a
// new one.
type correctionsPage struct {
	*view
	Base     string
	Choices  []entryChoice
	Requests []rightsRow
	// Posted is the request whose disagreement form was sent, when it is
	// shown again with an error.
	Posted string
}

func (s *pages) showCorrections(w http.ResponseWriter, r *http.Request) error {
	pr, err := s.portal(r, "portal.corrections.title")
	if err != nil {
		return err
	}
	p, err := s.correctionsPage(r, pr)
	if err != nil {
		return err
	}
	if d := r.URL.Query().Get("done"); d == "requested" || d == "disagreed" {
		p.Notice = p.tf("portal.done.", d)
	}
	return s.render(w, http.StatusOK, "portal_corrections.html", p)
}

// correctionsPage reads the patient's released entries (the choices) and
// their amendment requests.
func (s *pages) correctionsPage(r *http.Request, pr *portalReq) (*correctionsPage, error) {
	ctx := r.Context()
	entries, err := s.engine.Chart(ctx, pr.cr.pid, pr.cr.patient, ehr.ChartFilter{})
	if err != nil {
		return nil, err
	}
	as, err := s.engine.Amendments(ctx, pr.cr.pid, pr.cr.patient)
	if err != nil {
		return nil, err
	}
	v := pr.v
	cv := &chartView{view: v, ChartHref: pr.cr.base}
	names := s.chartNamer(ctx)
	p := &correctionsPage{view: v, Base: pr.base}
	titles := map[string]string{}
	chosen := map[string]bool{}
	if v.Form != nil {
		for _, id := range v.Form["entry_ids"] {
			chosen[id] = true
		}
	}
	for _, e := range entries {
		row := cv.row(e, pr.cr.zone, names)
		label := row.KindLabel + ": " + row.Title
		if row.When != "" {
			label += " (" + row.When + ")"
		}
		titles[row.ID] = label
		p.Choices = append(p.Choices, entryChoice{ID: row.ID, Label: label, Checked: chosen[row.ID]})
	}
	now := s.engine.Clock.Now()
	for i := len(as) - 1; i >= 0; i-- {
		p.Requests = append(p.Requests, amendmentRow(v, as[i], titles, pr.cr.zone, now, names))
	}
	return p, nil
}

// requestCorrection sends an amendment request on the chosen entries
// (entry_ids, one or more) for reason.
func (s *pages) requestCorrection(w http.ResponseWriter, r *http.Request) error {
	pr, err := s.portal(r, "portal.corrections.title")
	if err != nil {
		return err
	}
	ctx := r.Context()
	var ids []ehr.EntryID
	var perr error
	for _, raw := range r.PostForm["entry_ids"] {
		id, err := uuid.Parse(raw)
		if err != nil {
			perr = errs.Invalid("web.requestCorrection", "entry_ids", pr.v.T("portal.bad_entry"))
			break
		}
		ids = append(ids, id)
	}
	if perr != nil {
		err = s.engine.RefuseRights(ctx, pr.cr.pid, &pr.cr.patient, "amendment.request", perr)
	} else {
		_, err = s.engine.RequestAmendment(ctx, pr.cr.pid, pr.cr.patient, ids, strings.TrimSpace(r.PostFormValue("reason")))
	}
	if err == nil {
		return see(w, r, pr.cr.base+"/corrections?done=requested")
	}
	if !refused(err) && errs.FieldOf(err) != "entry_ids" {
		return err
	}
	pr.v.Form = r.PostForm
	p, perr := s.correctionsPage(r, pr)
	if perr != nil {
		return perr
	}
	return s.invalid(w, r, pr.v, "portal_corrections.html", p, asInvalid(err))
}

// renameField names the form's field of err, when it names the Engine's
// field from.
func renameField(err error, from, to string) error {
	if err != nil && errs.FieldOf(err) == from && errs.KindOf(err) == errs.KindInvalid {
		return errs.Invalid("web.form", to, message(err))
	}
	return err
}

// asInvalid makes a refusal naming a field (an entry not found among
// one's own) a form's error, so that the page shows it at the field.
func asInvalid(err error) error {
	if f := errs.FieldOf(err); f != "" && errs.KindOf(err) == errs.KindNotFound {
		return errs.Invalid("web.form", f, message(err))
	}
	return err
}

// disagree sends the patient's statement of disagreement with the denial
// of {amendment}.
func (s *pages) disagree(w http.ResponseWriter, r *http.Request) error {
	pr, err := s.portal(r, "portal.corrections.title")
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("amendment", r.PathValue("amendment"))
	if err != nil {
		return err
	}
	_, err = s.engine.DisagreeAmendment(r.Context(), pr.cr.pid, pr.cr.patient, id, strings.TrimSpace(r.PostFormValue("statement")))
	err = renameField(err, "text", "statement")
	if err == nil {
		return see(w, r, pr.cr.base+"/corrections?done=disagreed")
	}
	if !refused(err) {
		return err
	}
	p, perr := s.correctionsPage(r, pr)
	if perr != nil {
		return perr
	}
	p.Posted = id.String()
	if errs.KindOf(err) == errs.KindInvalid {
		return s.invalid(w, r, pr.v, "portal_corrections.html", p, err)
	}
	return s.refuse(w, pr.v, "portal_corrections.html", p, err, message(err))
}

// Copies (record requests).

// copiesPage is the patient's record requests and the form of a new one.
type copiesPage struct {
	*view
	Base     string
	Forms    []option
	Requests []rightsRow
}

// recordForms are the choices of a copy's form.
func recordForms(v *view) []option {
	return []option{{Value: string(ehr.HumanReadable), Label: v.tf("rights.form.", string(ehr.HumanReadable))},
		{Value: string(ehr.FHIR), Label: v.tf("rights.form.", string(ehr.FHIR))}}
}

func (s *pages) showCopies(w http.ResponseWriter, r *http.Request) error {
	pr, err := s.portal(r, "portal.copies.title")
	if err != nil {
		return err
	}
	p, err := s.copiesPage(r, pr)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("done") == "requested" {
		p.Notice = p.T("portal.done.copy")
	}
	return s.render(w, http.StatusOK, "portal_copies.html", p)
}

func (s *pages) copiesPage(r *http.Request, pr *portalReq) (*copiesPage, error) {
	rs, err := s.engine.RecordRequests(r.Context(), pr.cr.pid, pr.cr.patient)
	if err != nil {
		return nil, err
	}
	p := &copiesPage{view: pr.v, Base: pr.base, Forms: recordForms(pr.v)}
	names, now := s.chartNamer(r.Context()), s.engine.Clock.Now()
	for i := len(rs) - 1; i >= 0; i-- {
		p.Requests = append(p.Requests, copyRow(pr.v, rs[i], pr.cr.zone, now, names))
	}
	return p, nil
}

// requestCopy sends a record request in the chosen form.
func (s *pages) requestCopy(w http.ResponseWriter, r *http.Request) error {
	pr, err := s.portal(r, "portal.copies.title")
	if err != nil {
		return err
	}
	_, err = s.engine.RequestRecordCopy(r.Context(), pr.cr.pid, pr.cr.patient, ehr.RecordForm(r.PostFormValue("form")))
	if err == nil {
		return see(w, r, pr.cr.base+"/copies?done=requested")
	}
	if !refused(err) {
		return err
	}
	p, perr := s.copiesPage(r, pr)
	if perr != nil {
		return perr
	}
	return s.invalid(w, r, pr.v, "portal_copies.html", p, err)
}
