package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/google/uuid"
)

// The practice's pages of the patient's rights: per patient, the
// amendment requests (accept, deny with a basis and a reason, extend,
// rebut the patient's disagreement), the requests for a copy of the
// record (produce the copy, printable or FHIR; record it fulfilled; deny;
// extend), each with its time limit and what is left of it, and the
// disclosures (record one; the 6-year accounting); and the practice's
// overdue requests. The routes are refserver.Guarded: the Engine's rights
// operations decide the access (reading them needs
// patient.clinical.read, deciding patient.rights.manage) and write the
// activity-log entry. A patient's session is refused, as on the chart:
// a patient's own requests are the portal's (portal.go).

// rightsRoutes are the rights pages.
func (s *pages) rightsRoutes() []refserver.Route {
	const p = "/p/{practice}/patients/{patient}/rights"
	g := refserver.Guarded()
	return []refserver.Route{
		route("GET", p, s.showRights, "A patient's rights: amendment and copy requests with their time limits, disclosures and their 6-year accounting", g),
		route("GET", p+"/print", s.printCopy, "A human-readable copy of the patient's record (the entries released to them), made for printing", g),
		route("GET", p+"/fhir", s.downloadCopy, "The patient's copy of their record as a FHIR R4 Bundle (a JSON download)", g),
		route("POST", p+"/amendments/{amendment}/decide", s.decideAmendment, "Accept an amendment request with its text, or deny it on a basis with a reason", g),
		route("POST", p+"/amendments/{amendment}/extend", s.extendAmendment, "Extend an amendment request's time limit once, by 30 days, with a reason", g),
		route("POST", p+"/amendments/{amendment}/rebut", s.rebutAmendment, "Record the practice's rebuttal of the patient's disagreement", g),
		route("POST", p+"/copies/{copy}/fulfil", s.fulfilCopy, "Record that the copy asked for was provided, in a form", g),
		route("POST", p+"/copies/{copy}/deny", s.denyCopy, "Deny a request for a copy of the record, with a reason", g),
		route("POST", p+"/copies/{copy}/extend", s.extendCopy, "Extend a copy request's time limit once, by 30 days, with a reason", g),
		route("POST", p+"/disclosures", s.recordDisclosure, "Record a disclosure of the patient's information", g),
		route("GET", "/p/{practice}/rights/overdue", s.showOverdue, "The practice's amendment and copy requests overdue", g),
	}
}

// RightsHref is the patient's rights page.
func (cv *chartView) RightsHref() string {
	return strings.TrimSuffix(cv.ChartHref, "/chart") + "/rights"
}

// disclosureRow is a disclosure as the page lists it.
type disclosureRow struct {
	When, Recipient, Address, Description, Purpose, Recorded string
}

// rightsPage is a patient's rights page.
type rightsPage struct {
	*chartView
	Href                 string
	Amendments, Copies   []rightsRow
	Disclosures          []disclosureRow
	Bases, Forms         []option
	ReportFrom, ReportTo string
	// Posted is the form shown again with an error: "<id>/<action>", or
	// "disclosure".
	Posted string
}

// Shows reports whether the form of request id and action is the one
// shown again, whose fields carry the errors.
func (p *rightsPage) Shows(id, action string) bool { return p.Posted == id+"/"+action }

// FieldErr is the error of field on the form of id and action, if it is
// the one shown again.
func (p *rightsPage) FieldErr(id, action, field string) string {
	if !p.Shows(id, action) {
		return ""
	}
	return p.Err(field)
}

func (s *pages) showRights(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chartRequest(r)
	if err != nil {
		return err
	}
	p, err := s.rightsPage(r, cr)
	if err != nil {
		return err
	}
	if d := r.URL.Query().Get("done"); d != "" {
		if msg, ok := p.cat["rights.done."+d]; ok {
			p.Notice = msg
		}
	}
	return s.render(w, http.StatusOK, "rights.html", p)
}

// rightsPage reads the patient's requests and disclosures through the
// Engine (the first read decides the access).
func (s *pages) rightsPage(r *http.Request, cr *chartReq) (*rightsPage, error) {
	ctx := r.Context()
	as, err := s.engine.Amendments(ctx, cr.pid, cr.patient)
	if err != nil {
		return nil, err
	}
	rs, err := s.engine.RecordRequests(ctx, cr.pid, cr.patient)
	if err != nil {
		return nil, err
	}
	ds, err := s.engine.DisclosureReport(ctx, cr.pid, cr.patient)
	if err != nil {
		return nil, err
	}
	entries, err := s.engine.Chart(ctx, cr.pid, cr.patient, ehr.ChartFilter{WithErrors: true})
	if err != nil {
		return nil, err
	}
	cv, err := s.chartView(r, cr, "rights.title")
	if err != nil {
		return nil, err
	}
	v := cv.view
	now := s.engine.Clock.Now()
	p := &rightsPage{chartView: cv, Href: cv.RightsHref(), Forms: recordForms(v),
		ReportFrom: v.date(ehr.ReportFrom(now).In(cr.zone)), ReportTo: v.date(now.In(cr.zone))}
	for _, b := range []ehr.DenialBasis{"", ehr.Accurate, ehr.NotCreatedHere, ehr.NotInRecord, ehr.NotAccessible} {
		p.Bases = append(p.Bases, option{Value: string(b), Label: v.tf("rights.basis.", string(b))})
	}
	names := s.chartNamer(ctx)
	titles := map[string]string{}
	for _, e := range entries {
		row := cv.row(e, cr.zone, names)
		titles[row.ID] = row.KindLabel + ": " + row.Title
	}
	for i := len(as) - 1; i >= 0; i-- {
		p.Amendments = append(p.Amendments, amendmentRow(v, as[i], titles, cr.zone, now, names))
	}
	for i := len(rs) - 1; i >= 0; i-- {
		p.Copies = append(p.Copies, copyRow(v, rs[i], cr.zone, now, names))
	}
	for i := len(ds) - 1; i >= 0; i-- {
		d := ds[i]
		p.Disclosures = append(p.Disclosures, disclosureRow{When: v.date(d.DisclosedAt.In(cr.zone)), Recipient: d.Recipient,
			Address: d.RecipientAddress, Description: d.Description, Purpose: d.Purpose,
			Recorded: v.T("rights.recorded_by", names.of(actorID(d.RecordedBy)), v.whenLabel(d.RecordedAt.In(cr.zone)))})
	}
	return p, nil
}

// rightsDone answers a rights form: its success goes back to the rights
// page (done names what happened); a refusal shows the page again with
// the form of posted (its error at its field, or a conflict on top).
func (s *pages) rightsDone(w http.ResponseWriter, r *http.Request, cr *chartReq, posted, done string, err error) error {
	href := strings.TrimSuffix(cr.base, "/chart") + "/rights"
	if err == nil {
		return see(w, r, href+"?done="+done)
	}
	if !refused(err) {
		return err
	}
	p, perr := s.rightsPage(r, cr)
	if perr != nil {
		return perr
	}
	p.Posted = posted
	if errs.KindOf(err) == errs.KindInvalid && errs.FieldOf(err) != "" {
		return s.invalid(w, r, p.view, "rights.html", p, err)
	}
	p.Form = r.PostForm
	return s.refuse(w, p.view, "rights.html", p, err, message(err))
}

// rightsForm reads the chart request of r and its request ID wildcard
// name.
func (s *pages) rightsForm(r *http.Request, name string) (*chartReq, uuid.UUID, error) {
	cr, err := s.chartRequest(r)
	if err != nil {
		return nil, uuid.Nil, err
	}
	id, err := refserver.ParseID(name, r.PathValue(name))
	return cr, id, err
}

// decideAmendment accepts ("decision" accept, with "amendment") or denies
// (with "denial_basis" and "reason") {amendment}.
func (s *pages) decideAmendment(w http.ResponseWriter, r *http.Request) error {
	cr, id, err := s.rightsForm(r, "amendment")
	if err != nil {
		return err
	}
	d := carebook.AmendmentDecision{Accept: r.PostFormValue("decision") == "accept", Amendment: strings.TrimSpace(r.PostFormValue("amendment")),
		Basis: ehr.DenialBasis(r.PostFormValue("denial_basis")), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	_, err = s.engine.DecideAmendment(r.Context(), cr.pid, cr.patient, id, d)
	done := "denied"
	if d.Accept {
		done = "accepted"
	}
	return s.rightsDone(w, r, cr, id.String()+"/decide", done, err)
}

func (s *pages) extendAmendment(w http.ResponseWriter, r *http.Request) error {
	cr, id, err := s.rightsForm(r, "amendment")
	if err != nil {
		return err
	}
	_, err = s.engine.ExtendAmendment(r.Context(), cr.pid, cr.patient, id, strings.TrimSpace(r.PostFormValue("reason")))
	return s.rightsDone(w, r, cr, id.String()+"/extend", "extended", err)
}

func (s *pages) rebutAmendment(w http.ResponseWriter, r *http.Request) error {
	cr, id, err := s.rightsForm(r, "amendment")
	if err != nil {
		return err
	}
	_, err = s.engine.RebutAmendment(r.Context(), cr.pid, cr.patient, id, strings.TrimSpace(r.PostFormValue("rebuttal")))
	err = renameField(err, "text", "rebuttal")
	return s.rightsDone(w, r, cr, id.String()+"/rebut", "rebutted", err)
}

func (s *pages) fulfilCopy(w http.ResponseWriter, r *http.Request) error {
	cr, id, err := s.rightsForm(r, "copy")
	if err != nil {
		return err
	}
	_, err = s.engine.FulfilRecordRequest(r.Context(), cr.pid, cr.patient, id, ehr.RecordForm(r.PostFormValue("form")))
	return s.rightsDone(w, r, cr, id.String()+"/fulfil", "fulfilled", err)
}

func (s *pages) denyCopy(w http.ResponseWriter, r *http.Request) error {
	cr, id, err := s.rightsForm(r, "copy")
	if err != nil {
		return err
	}
	_, err = s.engine.DenyRecordRequest(r.Context(), cr.pid, cr.patient, id, strings.TrimSpace(r.PostFormValue("reason")))
	return s.rightsDone(w, r, cr, id.String()+"/deny", "copy_denied", err)
}

func (s *pages) extendCopy(w http.ResponseWriter, r *http.Request) error {
	cr, id, err := s.rightsForm(r, "copy")
	if err != nil {
		return err
	}
	_, err = s.engine.ExtendRecordRequest(r.Context(), cr.pid, cr.patient, id, strings.TrimSpace(r.PostFormValue("reason")))
	return s.rightsDone(w, r, cr, id.String()+"/extend", "extended", err)
}

// recordDisclosure records a disclosure: disclosed_at (a date, in the
// practice's time zone), recipient, recipient_address, description and
// purpose.
func (s *pages) recordDisclosure(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chartRequest(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	in := carebook.DisclosureInput{Recipient: strings.TrimSpace(r.PostFormValue("recipient")),
		RecipientAddress: strings.TrimSpace(r.PostFormValue("recipient_address")),
		Description:      strings.TrimSpace(r.PostFormValue("description")), Purpose: strings.TrimSpace(r.PostFormValue("purpose"))}
	if raw := strings.TrimSpace(r.PostFormValue("disclosed_at")); raw != "" {
		day, perr := time.ParseInLocation("2006-01-02", raw, cr.zone)
		if perr != nil {
			err = s.engine.RefuseRights(ctx, cr.pid, &cr.patient, "disclosure.record",
				errs.Invalid("web.recordDisclosure", "disclosed_at", "is not a date (YYYY-MM-DD)"))
			return s.rightsDone(w, r, cr, "record/disclosure", "", err)
		}
		in.DisclosedAt = day.Add(12 * time.Hour)
		if now := s.engine.Clock.Now(); in.DisclosedAt.After(now) {
			in.DisclosedAt = now
		}
	}
	_, err = s.engine.RecordDisclosure(ctx, cr.pid, cr.patient, in)
	return s.rightsDone(w, r, cr, "record/disclosure", "disclosed", err)
}

// printCopy is the human-readable copy of the patient's record that staff
// give them: the entries released to the patient.
func (s *pages) printCopy(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chartRequest(r)
	if err != nil {
		return err
	}
	v := s.newView(r, "portal.print.title")
	p, err := s.record(r, v, cr, true)
	if err != nil {
		return err
	}
	p.Staff, p.Back = true, strings.TrimSuffix(cr.base, "/chart")+"/rights"
	return s.render(w, http.StatusOK, "portal_print.html", p)
}

// downloadCopy is the patient's copy as a FHIR R4 Bundle, staff's.
func (s *pages) downloadCopy(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chartRequest(r)
	if err != nil {
		return err
	}
	return s.sendBundle(w, r, cr, true)
}

// overduePage is the practice's overdue requests.
type overduePage struct {
	*view
	Amendments, Copies []rightsRow
}

func (s *pages) showOverdue(w http.ResponseWriter, r *http.Request) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	as, err := s.engine.OverdueAmendments(ctx, pid)
	if err != nil {
		return err
	}
	rs, err := s.engine.OverdueRecordRequests(ctx, pid)
	if err != nil {
		return err
	}
	v := s.newView(r, "rights.overdue.title")
	zone, now, names := s.practiceZone(ctx, pid), s.engine.Clock.Now(), s.chartNamer(ctx)
	who := map[scheduling.PatientID]string{}
	name := func(ctx context.Context, id scheduling.PatientID) string {
		if n, ok := who[id]; ok {
			return n
		}
		n := id.String()
		if pt, err := s.engine.Patient(ctx, pid, id); err == nil {
			n = patientName(pt.GivenName, pt.FamilyName)
		}
		who[id] = n
		return n
	}
	p := &overduePage{view: v}
	for _, a := range as {
		row := amendmentRow(v, a, nil, zone, now, names)
		row.Patient, row.Href = name(ctx, a.PatientID), practicePath(pid)+"/patients/"+a.PatientID.String()+"/rights"
		p.Amendments = append(p.Amendments, row)
	}
	for _, rq := range rs {
		row := copyRow(v, rq, zone, now, names)
		row.Patient, row.Href = name(ctx, rq.PatientID), practicePath(pid)+"/patients/"+rq.PatientID.String()+"/rights"
		p.Copies = append(p.Copies, row)
	}
	return s.render(w, http.StatusOK, "rights_overdue.html", p)
}

// rightsField is one labelled control of a rights form.
type rightsField struct {
	ID, Name, Label, Hint, Type, Value, Error string
	Required                                  bool
	Options                                   []option
}

// In is the textarea name of the form of request id and action, labelled
// by the catalog's key label (and hint, unless ""): what was typed and
// its error when that form is shown again.
func (p *rightsPage) In(id, action, name, label, hint string) rightsField {
	f := rightsField{ID: action + "-" + id + "-" + name, Name: name, Label: p.T(label), Error: p.FieldErr(id, action, name)}
	if hint != "" {
		f.Hint = p.T(hint)
	}
	if p.Shows(id, action) && p.Form != nil {
		f.Value = p.Form.Get(name)
	}
	return f
}

// Sel is the select name of the form of request id and action, with opts.
func (p *rightsPage) Sel(id, action, name, label string, opts []option) rightsField {
	f := p.In(id, action, name, label, "")
	for _, o := range opts {
		o.Selected = f.Value == o.Value
		f.Options = append(f.Options, o)
	}
	return f
}

// Line is the input name of the disclosure form, of HTML type typ.
func (p *rightsPage) Line(name, typ, label string) rightsField {
	f := p.In("record", "disclosure", name, label, "")
	f.Type, f.Required = typ, name != "recipient_address"
	return f
}
