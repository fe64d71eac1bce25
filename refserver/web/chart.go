package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The clinician's chart: a patient's summary, the timeline of encounters
// (each with its notes and vital signs), the lists (problems, allergies,
// medications, immunizations), vital signs over time (an inline SVG with a
// table as its text alternative), documents (upload and download), each
// entry's page with its version history and its edit, sign, lock or
// addendum forms, and the check of the chart's hash chain.
//
// The chart routes are refserver.Guarded: each handler calls the Engine's
// guarded chart operations (Chart, ChartHistory, WriteChart, VerifyChart,
// PutFile, OpenFile), which decide the access (patient.clinical.read or
// .write over the patient) and write the activity-log entry, so that the
// pages pass the same guard as the API. A patient's session is refused
// here: a patient's own chart is the portal's, which shows signed entries
// only.

// chartRoutes are the chart pages.
func (s *pages) chartRoutes() []refserver.Route {
	const c = "/p/{practice}/patients/{patient}/chart"
	g := refserver.Guarded()
	return []refserver.Route{
		route("GET", "/p/{practice}/charts", s.showCharts, "Find a patient's chart by name, email or phone",
			refserver.Needs(rbac.PatientClinicalRead).Audited("patient.list", "patient", "")),
		route("GET", c, s.showChart, "A patient's chart: summary, encounters, lists, vital signs over time, documents", g),
		route("GET", c+"/new/{kind}", s.showNewEntry, "The form of a new chart entry of a kind", g),
		route("POST", c+"/new/{kind}", s.createEntry, "Write a new chart entry (an encounter, a note or addendum, a vital sign, a list entry)", g),
		route("GET", c+"/entries/{entry}", s.showEntry, "A chart entry: its current version, its edit, sign or addendum form, its history", g),
		route("POST", c+"/entries/{entry}", s.writeEntry, "Write the next version of a chart entry: edit, sign, lock or mark it", g),
		route("POST", c+"/documents", s.uploadDocument, "Upload a document into the chart (a multipart form)", g),
		route("GET", c+"/files/{file}", s.downloadDocument, "Download a document of the chart", g),
		route("GET", c+"/verify", s.showChartVerify, "Check the chart's hash chain", g),
	}
}

// chartReq is a chart request: its practice and patient, and the time
// zone the chart's times are shown in (the practice's first location's).
type chartReq struct {
	pid     tenant.PracticeID
	patient scheduling.PatientID
	base    string // the chart's root path
	zone    *time.Location
}

// chartRequest reads r's practice and patient. A patient's session is
// refused (403): the staff chart shows drafts and restricted entries.
func (s *pages) chartRequest(r *http.Request) (*chartReq, error) {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return nil, err
	}
	patient, err := refserver.ParseID("patient", r.PathValue("patient"))
	if err != nil {
		return nil, err
	}
	if c := refserver.CredentialsFrom(r.Context()); c != nil && c.Session != nil && c.Session.Kind == identity.Patient {
		// Refused, and the refusal logged, as any other of the chart.
		return nil, s.engine.Deny(r.Context(), carebook.Access{Permission: rbac.PatientClinicalRead, PracticeID: pid, PatientID: &patient,
			Action: "chart.read", ResourceType: "chart", ResourceID: patient.String()},
			"the chart pages are the clinicians'; your own record is in your visits")
	}
	return &chartReq{pid: pid, patient: patient, zone: s.practiceZone(r.Context(), pid),
		base: practicePath(pid) + "/patients/" + patient.String() + "/chart"}, nil
}

// chartView is what every chart page shows: whose chart it is.
type chartView struct {
	*view
	Base, ChartHref    string
	Patient, Born      string
	Zone               string
	CanUpload, HasFile bool
}

// chartView starts a chart page titled by the catalog's key title (with
// the patient's name), reading the patient through the guard. Call it
// after a chart read, so that a caller without the chart is refused by
// that read first.
func (s *pages) chartView(r *http.Request, cr *chartReq, title string) (*chartView, error) {
	v := s.newView(r, title)
	pt, err := s.engine.Patient(r.Context(), cr.pid, cr.patient)
	if err != nil {
		return nil, err
	}
	cv := &chartView{view: v, Base: practicePath(cr.pid), ChartHref: cr.base, Patient: patientName(pt.GivenName, pt.FamilyName),
		Born: pt.BirthDate, Zone: cr.zone.String(), CanUpload: s.engine.Files != nil}
	v.Title = v.T(title, cv.Patient)
	return cv, nil
}

// The entries as pages show them.

// chartRow is one entry (its current version, or one version of its
// history) as the pages list it.
type chartRow struct {
	ID, Href, Kind, KindLabel string
	Title, Detail, When       string
	// Recorded is when the version was written.
	Recorded                    string
	Status, StatusLabel, Signed string
	Version                     int
	Restricted                  bool
	RestrictedLabel             string
	// Note is a note's sections; AddendumOf links the note an addendum
	// corrects, and Addenda are a note's addenda.
	Note       *ehr.Note
	AddendumOf string
	Addenda    []chartRow
	// FileHref downloads a document.
	FileHref string
	// By names who wrote the version (history rows).
	By string
}

// chartNames names the accounts that wrote and signed entries.
type chartNames struct {
	s    *pages
	ctx  context.Context
	memo map[string]string
}

func (s *pages) chartNamer(ctx context.Context) *chartNames {
	return &chartNames{s: s, ctx: ctx, memo: map[string]string{}}
}

// of is the email of account id, else id itself.
func (n *chartNames) of(id string) string {
	if id == "" {
		return ""
	}
	if name, ok := n.memo[id]; ok {
		return name
	}
	name := id
	if uid, err := uuid.Parse(id); err == nil {
		if a, err := n.s.engine.Identity.Account(n.ctx, uid); err == nil && a.Email != "" {
			name = a.Email
		}
	}
	n.memo[id] = name
	return name
}

// row is e as the pages show it.
func (cv *chartView) row(e *ehr.Entry, zone *time.Location, names *chartNames) chartRow {
	v := cv.view
	r := chartRow{ID: e.ID.String(), Href: cv.ChartHref + "/entries/" + e.ID.String(), Kind: string(e.Kind),
		KindLabel: v.tf("chart.kind.", string(e.Kind)), Status: string(e.Status), StatusLabel: v.tf("chart.status.", string(e.Status)),
		Version: e.Version, Restricted: e.Restricted, When: v.whenLabel(e.RecordedAt.In(zone))}
	r.Recorded = r.When
	if e.SignedAt != nil {
		r.Signed = v.T("chart.signed_by", names.of(e.SignedBy), v.whenLabel(e.SignedAt.In(zone)))
	}
	r.By = names.of(e.AuthorID)
	if e.Restricted {
		r.RestrictedLabel = v.T("chart.restricted")
	}
	join := func(parts ...string) string {
		var out []string
		for _, p := range parts {
			if strings.TrimSpace(p) != "" {
				out = append(out, p)
			}
		}
		return strings.Join(out, " · ")
	}
	coded := func(c ehr.Coding) string {
		if c.Code != "" {
			return c.Display + " (" + c.Code + ")"
		}
		return c.Display
	}
	switch b := e.Body.(type) {
	case *ehr.Encounter:
		r.Title = v.tf("chart.opt.class.", b.Class)
		r.Detail = b.Reason
		r.When = v.whenLabel(b.Start.In(zone))
		if b.End != nil {
			r.When += "–" + b.End.In(zone).Format("15:04")
		}
	case *ehr.Note:
		r.Title, r.Note = b.Title, b
		r.Detail = firstLine(cmp.Or(b.Subjective, b.Objective, b.Assessment, b.Plan))
		if b.AddendumTo != nil {
			r.AddendumOf = cv.ChartHref + "/entries/" + b.AddendumTo.String()
		}
	case *ehr.Problem:
		r.Title = coded(b.Coding)
		r.Detail = join(v.tf("chart.opt.clinical_status.", b.ClinicalStatus), onsetText(v, b.Onset, b.Abatement))
	case *ehr.Allergy:
		r.Title = coded(b.Substance)
		crit := ""
		if b.Criticality != "" {
			crit = v.T("chart.field.criticality") + ": " + v.tf("chart.opt.criticality.", b.Criticality)
		}
		r.Detail = join(v.tf("chart.opt.type.", b.Type), v.tf("chart.opt.category.", b.Category), crit, b.Reaction)
	case *ehr.Medication:
		r.Title = coded(b.Medication)
		r.Detail = join(b.Dosage, v.tf("chart.opt.taking.", b.Taking), v.T("chart.reported_by", v.tf("chart.opt.reported_by.", b.ReportedBy)))
	case *ehr.Vital:
		r.Title = v.tf("chart.sign.", b.Code)
		r.Detail = formatValue(b.Value) + " " + b.Unit
		r.When = v.whenLabel(b.EffectiveAt.In(zone))
	case *ehr.Immunization:
		r.Title = coded(b.Vaccine)
		r.Detail = join(b.OccurredOn, v.tf("chart.opt.given.", b.Given), lotText(v, b.Lot))
	case *ehr.Document:
		r.Title = b.Title
		r.Detail = b.Type
		r.FileHref = cv.ChartHref + "/files/" + b.FileID.String()
	}
	return r
}

// firstLine is the first line of s, cut to 120 bytes on a rune boundary.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 120 {
		n := 120
		for n > 0 && s[n]&0xC0 == 0x80 {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

func onsetText(v *view, onset, abatement string) string {
	switch {
	case onset != "" && abatement != "":
		return v.T("chart.onset_to", onset, abatement)
	case onset != "":
		return v.T("chart.onset_since", onset)
	}
	return ""
}

func lotText(v *view, lot string) string {
	if lot == "" {
		return ""
	}
	return v.T("chart.lot", lot)
}

// formatValue is a measured value without trailing zeros.
func formatValue(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// The chart's page.

// chartPage is a patient's chart.
type chartPage struct {
	*chartView
	Encounters                                  []chartRow
	Problems, Allergies, Medications, Immunized []chartRow
	Documents, Vitals                           []chartRow
	ActiveProblems, ActiveMeds, LatestVitals    []chartRow
	Charts                                      []vitalChart
	NoEncounters, HasVitals                     bool
	// Lists are the sections of the problems, allergies, medications
	// and immunizations.
	Lists []chartList
	// GlassHref offers break-glass to a caller who may break it but does
	// not see the restricted entries.
	GlassHref string
}

// chartList is one list of the chart, with its form's link.
type chartList struct {
	ID, Heading, AddHref, AddLabel, Empty string
	Rows                                  []chartRow
}

func (s *pages) showChart(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chartRequest(r)
	if err != nil {
		return err
	}
	entries, err := s.engine.Chart(r.Context(), cr.pid, cr.patient, ehr.ChartFilter{})
	if err != nil {
		return s.chartRefused(w, r, cr, err)
	}
	cv, err := s.chartView(r, cr, "chart.title")
	if err != nil {
		return err
	}
	p := s.chartPage(r.Context(), cv, cr, entries)
	switch d := r.URL.Query().Get("done"); d {
	case "uploaded", "written":
		p.Notice = p.tf("chart.done.", d)
	case "glass":
		p.Notice = p.T("glass.done")
	}
	p.GlassHref = s.glassLink(r, cr)
	return s.render(w, http.StatusOK, "chart.html", p)
}

// chartPage sorts the chart's entries (newest first) into its sections.
func (s *pages) chartPage(ctx context.Context, cv *chartView, cr *chartReq, entries []*ehr.Entry) *chartPage {
	p := &chartPage{chartView: cv}
	names := s.chartNamer(ctx)
	latest := map[string]bool{}
	var vitals []*ehr.Entry
	for _, e := range entries {
		row := cv.row(e, cr.zone, names)
		switch e.Kind {
		case ehr.KindEncounter:
			p.Encounters = append(p.Encounters, row)
		case ehr.KindProblem:
			p.Problems = append(p.Problems, row)
			if b := e.Body.(*ehr.Problem); e.Status == ehr.Active && slices.Contains([]string{"active", "recurrence", "relapse"}, b.ClinicalStatus) {
				p.ActiveProblems = append(p.ActiveProblems, row)
			}
		case ehr.KindAllergy:
			p.Allergies = append(p.Allergies, row)
		case ehr.KindMedication:
			p.Medications = append(p.Medications, row)
			if b := e.Body.(*ehr.Medication); e.Status == ehr.Active && b.Taking == "active" {
				p.ActiveMeds = append(p.ActiveMeds, row)
			}
		case ehr.KindImmunization:
			p.Immunized = append(p.Immunized, row)
		case ehr.KindDocument:
			p.Documents = append(p.Documents, row)
		case ehr.KindVital:
			if e.Status == ehr.EnteredInError {
				continue
			}
			vitals = append(vitals, e)
		}
	}
	slices.SortStableFunc(vitals, func(a, b *ehr.Entry) int {
		return b.Body.(*ehr.Vital).EffectiveAt.Compare(a.Body.(*ehr.Vital).EffectiveAt)
	})
	for _, e := range vitals {
		row := cv.row(e, cr.zone, names)
		p.Vitals = append(p.Vitals, row)
		if code := e.Body.(*ehr.Vital).Code; !latest[code] {
			latest[code] = true
			p.LatestVitals = append(p.LatestVitals, row)
		}
	}
	p.Charts = vitalCharts(cv.view, vitals, cr.zone)
	p.HasVitals = len(vitals) > 0
	p.NoEncounters = len(p.Encounters) == 0
	for _, l := range []struct {
		kind ehr.Kind
		rows []chartRow
	}{{ehr.KindProblem, p.Problems}, {ehr.KindAllergy, p.Allergies}, {ehr.KindMedication, p.Medications}, {ehr.KindImmunization, p.Immunized}} {
		k := string(l.kind)
		p.Lists = append(p.Lists, chartList{ID: k + "s", Heading: cv.tf("chart.list.", k), AddHref: cv.ChartHref + "/new/" + k,
			AddLabel: cv.tf("chart.add.", k), Empty: cv.tf("chart.none.", k), Rows: l.rows})
	}
	return p
}

// Vital signs over time.

// vitalChart is one sign's values over time as a small line chart: the
// points in the SVG's own coordinates, and its axis labels.
type vitalChart struct {
	ID, Name, Unit string
	Points         string
	Dots           []vitalDot
	Min, Max       string
	From, To       string
	Width, Height  int
}

// vitalDot is one measurement on a chart.
type vitalDot struct {
	X, Y  string
	Label string
}

// The chart's drawing area, in SVG units.
const (
	chartW, chartH   = 320, 120
	chartPadX        = 44
	chartPadTop      = 12
	chartPadBottom   = 22
	chartInnerRight  = chartW - 10
	chartInnerBottom = chartH - chartPadBottom
)

// vitalCharts draws one chart per sign and unit measured (vitals newest
// first), oldest measurement on the left.
func vitalCharts(v *view, vitals []*ehr.Entry, zone *time.Location) []vitalChart {
	type key struct{ code, unit string }
	series := map[key][]*ehr.Vital{}
	var order []key
	for i := len(vitals) - 1; i >= 0; i-- {
		b := vitals[i].Body.(*ehr.Vital)
		k := key{b.Code, b.Unit}
		if _, ok := series[k]; !ok {
			order = append(order, k)
		}
		series[k] = append(series[k], b)
	}
	var out []vitalChart
	for i, k := range order {
		pts := series[k]
		lo, hi := pts[0].Value, pts[0].Value
		for _, b := range pts {
			lo, hi = min(lo, b.Value), max(hi, b.Value)
		}
		if hi == lo {
			lo, hi = lo-1, hi+1
		}
		t0, t1 := pts[0].EffectiveAt, pts[len(pts)-1].EffectiveAt
		span := t1.Sub(t0).Seconds()
		c := vitalChart{ID: fmt.Sprintf("vital-chart-%d", i), Name: v.tf("chart.sign.", k.code), Unit: k.unit,
			Min: formatValue(lo), Max: formatValue(hi), From: v.dayLabel(t0.In(zone)), To: v.dayLabel(t1.In(zone)),
			Width: chartW, Height: chartH}
		var poly []string
		for _, b := range pts {
			x := float64(chartPadX+chartInnerRight) / 2
			if span > 0 {
				x = chartPadX + (chartInnerRight-chartPadX)*b.EffectiveAt.Sub(t0).Seconds()/span
			}
			y := chartInnerBottom - (chartInnerBottom-chartPadTop)*(b.Value-lo)/(hi-lo)
			xs, ys := strconv.FormatFloat(x, 'f', 1, 64), strconv.FormatFloat(y, 'f', 1, 64)
			poly = append(poly, xs+","+ys)
			c.Dots = append(c.Dots, vitalDot{X: xs, Y: ys, Label: v.whenLabel(b.EffectiveAt.In(zone)) + ": " + formatValue(b.Value) + " " + b.Unit})
		}
		c.Points = strings.Join(poly, " ")
		out = append(out, c)
	}
	return out
}

// Finding a chart.

// chartsPage is the search for a patient's chart.
type chartsPage struct {
	*view
	Base, Search string
	Searched     bool
	Found        []foundPatient
}

func (s *pages) showCharts(w http.ResponseWriter, r *http.Request) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	v := s.newView(r, "chart.find.title")
	p := &chartsPage{view: v, Base: practicePath(pid), Search: strings.TrimSpace(r.URL.Query().Get("q"))}
	if p.Search != "" {
		p.Searched = true
		found, err := s.engine.Scheduling.Patients(r.Context(), pid, searchFilter(p.Search))
		if err != nil {
			return err
		}
		slices.SortStableFunc(found, func(a, b *scheduling.Patient) int {
			return cmp.Or(strings.Compare(strings.ToLower(a.FamilyName), strings.ToLower(b.FamilyName)),
				strings.Compare(strings.ToLower(a.GivenName), strings.ToLower(b.GivenName)))
		})
		for _, pt := range found {
			p.Found = append(p.Found, foundPatient{Name: patientName(pt.GivenName, pt.FamilyName), Born: pt.BirthDate,
				Contact: strings.TrimSpace(pt.Phone + " " + pt.Email), Href: chartPath(pid, pt.ID)})
		}
	}
	return s.render(w, http.StatusOK, "chart_find.html", p)
}

// chartPath is the path of a patient's chart.
func chartPath(pid tenant.PracticeID, patient scheduling.PatientID) string {
	return practicePath(pid) + "/patients/" + patient.String() + "/chart"
}

// canChart reports whether r's caller holds patient.clinical.read in
// practice p: the chart's links are shown only to them.
func (s *pages) canChart(r *http.Request, p *tenant.Practice) bool {
	c := refserver.CredentialsFrom(r.Context())
	if c == nil || c.Session == nil || c.Session.Kind != identity.Staff || p == nil {
		return false
	}
	pr, err := s.srv.Principal(r, c)
	return err == nil && pr.Can(rbac.PatientClinicalRead, rbac.Target{GroupID: p.GroupID, PracticeID: p.ID})
}

// Forms.

// listKinds are the kinds written from their own form page, outside an
// encounter (notes and vital signs are written in one, from its page).
var formKinds = map[ehr.Kind]bool{ehr.KindEncounter: true, ehr.KindNote: true, ehr.KindVital: true, ehr.KindProblem: true,
	ehr.KindAllergy: true, ehr.KindMedication: true, ehr.KindImmunization: true}

// entryForm is the form of one entry's fields (new or the next version):
// the kind's fields (templates/partial_chart.html), its hidden state and
// its submit buttons.
type entryForm struct {
	*view
	// Prefix starts the ids of the form's controls, unique on the page.
	Prefix    string
	Action    string
	Kind      string
	Version   int
	Encounter string // the encounter's ID, for a note or vital sign
	Addendum  string // the note an addendum corrects
	// Encounters are the open encounters an addendum may be written in.
	Encounters []option
	Buttons    []formButton
	Restricted bool
	// Statuses is a list entry's status choice (edit only).
	Statuses []option
	// Vals are the fields' current values (the entry's, for an edit).
	Vals map[string]string
	zone *time.Location
}

// formButton submits the form with a status.
type formButton struct {
	Status, Label string
	Danger        bool
}

// Opts are the options of field name's select, with the current value
// selected.
func (f *entryForm) Opts(name string) []option {
	var values []string
	switch name {
	case "class":
		values = []string{"ambulatory", "virtual"}
	case "clinical_status":
		values = []string{"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
	case "type":
		values = []string{"allergy", "intolerance"}
	case "category":
		values = []string{"food", "medication", "environment", "biologic"}
	case "criticality":
		values = []string{"", "low", "high", "unable-to-assess"}
	case "reported_by":
		values = []string{"patient", "practitioner", "relative"}
	case "taking":
		values = []string{"active", "completed", "stopped", "on-hold", "intended", "not-taken"}
	case "given":
		values = []string{"completed", "not-done"}
	case "code":
		codes := make([]string, 0, len(ehr.VitalSigns))
		for c := range ehr.VitalSigns {
			codes = append(codes, c)
		}
		slices.SortFunc(codes, func(a, b string) int { return strings.Compare(f.tf("chart.sign.", a), f.tf("chart.sign.", b)) })
		out := make([]option, 0, len(codes))
		for _, c := range codes {
			out = append(out, option{Value: c, Label: f.tf("chart.sign.", c), Selected: f.Vals["code"] == c})
		}
		return out
	case "unit":
		var units []string
		for _, sign := range ehr.VitalSigns {
			for u := range sign.Units {
				if !slices.Contains(units, u) {
					units = append(units, u)
				}
			}
		}
		slices.Sort(units)
		values = units
		out := make([]option, 0, len(units))
		for _, u := range units {
			out = append(out, option{Value: u, Label: u, Selected: f.Vals["unit"] == u})
		}
		return out
	}
	out := make([]option, 0, len(values))
	for _, val := range values {
		label := f.tf("chart.opt.", name+"."+val)
		if val == "" {
			label = f.T("chart.opt.none")
		}
		out = append(out, option{Value: val, Label: label, Selected: f.Vals[name] == val})
	}
	return out
}

// V is the current value of field name.
func (f *entryForm) V(name string) string { return f.Vals[name] }

// formValues are the form fields of body b (nil: the defaults of a new
// entry of kind k at now).
func formValues(k ehr.Kind, b ehr.Body, now time.Time, zone *time.Location) map[string]string {
	local := func(t time.Time) string { return t.In(zone).Format("2006-01-02T15:04") }
	m := map[string]string{}
	switch b := b.(type) {
	case nil:
		switch k {
		case ehr.KindEncounter:
			m["class"], m["start"] = "ambulatory", local(now)
		case ehr.KindVital:
			m["effective_at"] = local(now)
		case ehr.KindProblem:
			m["clinical_status"] = "active"
		case ehr.KindMedication:
			m["reported_by"], m["taking"] = "patient", "active"
		case ehr.KindImmunization:
			m["given"], m["occurred_on"] = "completed", now.In(zone).Format(time.DateOnly)
		case ehr.KindAllergy:
			m["type"], m["category"] = "allergy", "medication"
		}
	case *ehr.Encounter:
		m["class"], m["reason"], m["start"] = b.Class, b.Reason, local(b.Start)
		if b.End != nil {
			m["end"] = local(*b.End)
		}
	case *ehr.Note:
		m["title"], m["subjective"], m["objective"], m["assessment"], m["plan"] = b.Title, b.Subjective, b.Objective, b.Assessment, b.Plan
	case *ehr.Problem:
		codingValues(m, "", b.Coding)
		m["clinical_status"], m["onset"], m["abatement"] = b.ClinicalStatus, b.Onset, b.Abatement
	case *ehr.Allergy:
		codingValues(m, "substance.", b.Substance)
		m["type"], m["category"], m["criticality"], m["reaction"] = b.Type, b.Category, b.Criticality, b.Reaction
	case *ehr.Medication:
		codingValues(m, "medication.", b.Medication)
		m["dosage"], m["reported_by"], m["taking"] = b.Dosage, b.ReportedBy, b.Taking
	case *ehr.Vital:
		m["code"], m["value"], m["unit"], m["effective_at"] = b.Code, formatValue(b.Value), b.Unit, local(b.EffectiveAt)
	case *ehr.Immunization:
		codingValues(m, "vaccine.", b.Vaccine)
		m["occurred_on"], m["lot"], m["given"] = b.OccurredOn, b.Lot, b.Given
	case *ehr.Document:
		m["title"], m["type"] = b.Title, b.Type
	}
	return m
}

func codingValues(m map[string]string, prefix string, c ehr.Coding) {
	m[prefix+"display"], m[prefix+"code"], m[prefix+"system"] = c.Display, c.Code, c.System
}

// parseBody reads the body of kind k from form, in zone. A value that does
// not parse (a number, a date and time) is KindInvalid naming its field.
func parseBody(k ehr.Kind, form url.Values, zone *time.Location) (ehr.Body, error) {
	const op = "web.chartForm"
	get := func(name string) string { return strings.TrimSpace(form.Get(name)) }
	coding := func(prefix string) ehr.Coding {
		return ehr.Coding{Display: get(prefix + "display"), Code: get(prefix + "code"), System: get(prefix + "system")}
	}
	// long keeps a section's own line breaks and indentation.
	long := func(name string) string { return strings.TrimRight(form.Get(name), " \t\r\n") }
	switch k {
	case ehr.KindEncounter:
		b := &ehr.Encounter{Class: get("class"), Reason: get("reason")}
		var err error
		if b.Start, err = parseLocal(op, "start", get("start"), zone); err != nil {
			return nil, err
		}
		if end := get("end"); end != "" {
			t, err := parseLocal(op, "end", end, zone)
			if err != nil {
				return nil, err
			}
			b.End = &t
		}
		return b, nil
	case ehr.KindNote:
		b := &ehr.Note{Title: get("title"), Subjective: long("subjective"), Objective: long("objective"),
			Assessment: long("assessment"), Plan: long("plan")}
		id, err := refserver.OptID("addendum_to", get("addendum_to"))
		b.AddendumTo = id
		return b, err
	case ehr.KindProblem:
		return &ehr.Problem{Coding: coding(""), ClinicalStatus: get("clinical_status"), Onset: get("onset"), Abatement: get("abatement")}, nil
	case ehr.KindAllergy:
		return &ehr.Allergy{Substance: coding("substance."), Type: get("type"), Category: get("category"),
			Criticality: get("criticality"), Reaction: long("reaction")}, nil
	case ehr.KindMedication:
		return &ehr.Medication{Medication: coding("medication."), Dosage: get("dosage"), ReportedBy: get("reported_by"), Taking: get("taking")}, nil
	case ehr.KindVital:
		b := &ehr.Vital{Code: get("code"), Unit: get("unit")}
		val := strings.ReplaceAll(get("value"), ",", ".")
		if val == "" {
			return nil, errs.Invalid(op, "value", "is required")
		}
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return nil, errs.Invalid(op, "value", "must be a number, such as 72 or 36.6")
		}
		b.Value = f
		if b.EffectiveAt, err = parseLocal(op, "effective_at", get("effective_at"), zone); err != nil {
			return nil, err
		}
		return b, nil
	case ehr.KindImmunization:
		return &ehr.Immunization{Vaccine: coding("vaccine."), OccurredOn: get("occurred_on"), Lot: get("lot"), Given: get("given")}, nil
	case ehr.KindDocument:
		id, err := refserver.ParseID("file_id", get("file_id"))
		return &ehr.Document{FileID: id, Title: get("title"), Type: get("type")}, err
	}
	return nil, errs.Invalid(op, "kind", "is not a kind of chart entry")
}

// parseKind reads the {kind} of r's path: one written from a form.
func parseKind(r *http.Request) (ehr.Kind, error) {
	k := ehr.Kind(r.PathValue("kind"))
	if !formKinds[k] {
		return "", errs.NotFound("web.chart", "kind of chart entry")
	}
	return k, nil
}

// refuseUnread answers input the Engine never saw (a number that does not
// parse): the guard decides the write first, so that a caller who may not
// write gets its 403 (logged as denied) rather than the form's message;
// one who may has the attempt logged as failed, as the Engine logs the
// input it refuses.
func (s *pages) refuseUnread(ctx context.Context, cr *chartReq, k ehr.Kind) error {
	pm, err := s.engine.Authorize(ctx, carebook.Access{Permission: rbac.PatientClinicalWrite, PracticeID: cr.pid, PatientID: &cr.patient,
		Action: "chart.write", ResourceType: "chart." + string(k)})
	if err != nil {
		return err
	}
	pm.Fail(ctx)
	return nil
}

// New entries.

// newEntryPage is the form of a new entry, with the entries of its kind
// the chart holds already (or, for a note or vital sign, its encounter).
type newEntryPage struct {
	*chartView
	Kind      string
	Form      *entryForm
	Encounter *chartRow
	Existing  []chartRow
}

func (s *pages) showNewEntry(w http.ResponseWriter, r *http.Request) error {
	p, err := s.newEntryPage(r, nil)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "chart_new.html", p)
}

// newEntryPage reads what the new entry's form shows (a GET's query, or
// the failed form's fields when form is set).
func (s *pages) newEntryPage(r *http.Request, form url.Values) (*newEntryPage, error) {
	cr, err := s.chartRequest(r)
	if err != nil {
		return nil, err
	}
	k, err := parseKind(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	q := r.URL.Query()
	if form != nil {
		q = form
	}
	f := ehr.ChartFilter{Kinds: []ehr.Kind{k}, Limit: 50}
	var enc *uuid.UUID
	if k == ehr.KindNote || k == ehr.KindVital {
		if enc, err = refserver.OptID("encounter_id", q.Get("encounter_id")); err != nil {
			return nil, err
		}
		if enc == nil {
			return nil, errs.Invalid("web.chart", "encounter_id", "a note or a vital sign is written in an encounter: open one first")
		}
		f = ehr.ChartFilter{EncounterID: enc, Kinds: []ehr.Kind{k}}
	}
	entries, err := s.engine.Chart(ctx, cr.pid, cr.patient, f)
	if err != nil {
		return nil, err
	}
	cv, err := s.chartView(r, cr, "chart.new.title."+string(k))
	if err != nil {
		return nil, err
	}
	p := &newEntryPage{chartView: cv, Kind: string(k)}
	names := s.chartNamer(ctx)
	for _, e := range entries {
		p.Existing = append(p.Existing, cv.row(e, cr.zone, names))
	}
	if enc != nil {
		versions, err := s.engine.ChartHistory(ctx, cr.pid, cr.patient, *enc)
		if err != nil {
			return nil, err
		}
		cur := versions[len(versions)-1]
		if cur.Kind != ehr.KindEncounter {
			return nil, errs.NotFound("web.chart", "encounter")
		}
		row := cv.row(cur, cr.zone, names)
		p.Encounter = &row
	}
	p.Form = s.newForm(cv, cr, k, q.Get("addendum_to"), enc)
	return p, nil
}

// newForm is the form of a new entry of kind k (an addendum to the note
// addendum, when set), in encounter enc for a note or vital sign.
func (s *pages) newForm(cv *chartView, cr *chartReq, k ehr.Kind, addendum string, enc *uuid.UUID) *entryForm {
	f := &entryForm{view: cv.view, Prefix: "new-" + string(k) + "-", Action: cv.ChartHref + "/new/" + string(k), Kind: string(k), Addendum: addendum,
		Vals: formValues(k, nil, s.engine.Clock.Now(), cr.zone), zone: cr.zone}
	if enc != nil {
		f.Encounter = enc.String()
	}
	switch k {
	case ehr.KindNote:
		f.Buttons = []formButton{{Status: string(ehr.Draft), Label: cv.T("chart.do.save_draft")},
			{Status: string(ehr.Signed), Label: cv.T("chart.do.sign")}, {Status: string(ehr.Locked), Label: cv.T("chart.do.sign_lock")}}
		if addendum != "" {
			f.Buttons = f.Buttons[1:] // an addendum is signed as it is written
		}
	case ehr.KindEncounter:
		f.Buttons = []formButton{{Status: string(ehr.Draft), Label: cv.T("chart.do.open_encounter")}}
	default:
		f.Buttons = []formButton{{Status: string(ehr.Active), Label: cv.T("chart.do.add")}}
	}
	return f
}

// createEntry writes a new entry of {kind}: the form's fields, its
// status (the button pressed), restricted, and for a note or vital sign
// its encounter_id (and a note's addendum_to).
func (s *pages) createEntry(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chartRequest(r)
	if err != nil {
		return err
	}
	k, err := parseKind(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	in := carebook.ChartWrite{PatientID: cr.patient, Status: ehr.Status(r.PostFormValue("status")), Restricted: r.PostFormValue("restricted") == "on"}
	body, perr := parseBody(k, r.PostForm, cr.zone)
	if perr == nil && (k == ehr.KindNote || k == ehr.KindVital) {
		in.EncounterID, perr = refserver.OptID("encounter_id", r.PostFormValue("encounter_id"))
	}
	var e *ehr.Entry
	if perr != nil {
		err = s.refuseUnread(ctx, cr, k)
		if err == nil {
			err = perr
		}
	} else {
		in.Body = body
		e, err = s.engine.WriteChart(ctx, cr.pid, in)
	}
	if err == nil {
		if e.EncounterID != nil {
			return see(w, r, cr.base+"/entries/"+e.EncounterID.String()+"?done=written")
		}
		return see(w, r, cr.base+"/entries/"+e.ID.String()+"?done=written")
	}
	if !refused(err) {
		return err
	}
	p, perr := s.newEntryPage(r, r.PostForm)
	if perr != nil {
		if refused(perr) && errs.FieldOf(perr) == "encounter_id" {
			return err
		}
		return perr
	}
	return s.chartRefusal(w, r, p.view, "chart_new.html", p, err)
}

// chartRefusal shows a form's page again after a refused write: bad input
// with its message next to its field (or on top, when it names none), a
// conflict (a locked entry, a stale version) as a 409 with its message.
func (s *pages) chartRefusal(w http.ResponseWriter, r *http.Request, v *view, name string, data any, err error) error {
	if errs.KindOf(err) == errs.KindInvalid && errs.FieldOf(err) != "" && errs.FieldOf(err) != "version" && errs.FieldOf(err) != "status" {
		return s.invalid(w, r, v, name, data, err)
	}
	v.Form = r.PostForm
	return s.refuse(w, v, name, data, err, message(err))
}

// An entry's page.

// entryPage is one entry: its current version, what can be done with it
// and its every version.
type entryPage struct {
	*chartView
	Entry   chartRow
	Body    map[string]string
	Edit    *entryForm
	History []chartRow
	// Final says why the entry takes no change (locked, entered in error).
	Final string
	// A locked note takes addenda (AddendumForm); an open encounter
	// takes notes and vital signs.
	AddendumForm       *entryForm
	NoOpenEncounter    bool
	Notes, Vitals      []chartRow
	NoteForm, VitalFrm *entryForm
	Charts             []vitalChart
}

func (s *pages) showEntry(w http.ResponseWriter, r *http.Request) error {
	p, err := s.entryPage(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("done") == "written" {
		p.Notice = p.T("chart.done.written")
	}
	return s.render(w, http.StatusOK, "chart_entry.html", p)
}

// entryPage reads the entry of r's path: its history, and the chart
// around it (the addenda of a note, the open encounters an addendum may go
// in, an encounter's notes and vital signs).
func (s *pages) entryPage(r *http.Request) (*entryPage, error) {
	cr, err := s.chartRequest(r)
	if err != nil {
		return nil, err
	}
	id, err := refserver.ParseID("entry", r.PathValue("entry"))
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	versions, err := s.engine.ChartHistory(ctx, cr.pid, cr.patient, id)
	if err != nil {
		return nil, err
	}
	cur := versions[len(versions)-1]
	var around []*ehr.Entry
	switch cur.Kind {
	case ehr.KindNote, ehr.KindEncounter:
		if around, err = s.engine.Chart(ctx, cr.pid, cr.patient, ehr.ChartFilter{Kinds: []ehr.Kind{ehr.KindNote, ehr.KindEncounter, ehr.KindVital}}); err != nil {
			return nil, err
		}
	}
	cv, err := s.chartView(r, cr, "chart.entry.title."+string(cur.Kind))
	if err != nil {
		return nil, err
	}
	names := s.chartNamer(ctx)
	p := &entryPage{chartView: cv, Entry: cv.row(cur, cr.zone, names), Body: formValues(cur.Kind, cur.Body, time.Time{}, cr.zone)}
	for i := len(versions) - 1; i >= 0; i-- {
		p.History = append(p.History, cv.row(versions[i], cr.zone, names))
	}
	switch cur.Status {
	case ehr.Locked:
		p.Final = cv.tf("chart.final.locked.", string(cur.Kind))
	case ehr.EnteredInError:
		p.Final = cv.T("chart.final.error")
	default:
		p.Edit = s.chartEditForm(cv, cr, cur)
	}
	var open []option
	for _, e := range around {
		switch {
		case e.Kind == ehr.KindEncounter && e.Status == ehr.Draft:
			row := cv.row(e, cr.zone, names)
			open = append(open, option{Value: row.ID, Label: row.When + " · " + row.Title, Selected: cur.EncounterID != nil && *cur.EncounterID == e.ID})
		case e.Kind == ehr.KindNote:
			if n := e.Body.(*ehr.Note); n.AddendumTo != nil && *n.AddendumTo == cur.ID {
				p.Entry.Addenda = append(p.Entry.Addenda, cv.row(e, cr.zone, names))
			}
		}
	}
	if cur.Kind == ehr.KindEncounter {
		s.encounterParts(p, cr, cur, around, names)
	}
	if cur.Kind == ehr.KindNote && cur.Status == ehr.Locked {
		if len(open) == 0 {
			p.NoOpenEncounter = true
		} else {
			f := s.newForm(cv, cr, ehr.KindNote, cur.ID.String(), nil)
			f.Encounters = open
			f.Vals["title"] = cv.T("chart.addendum_title", cur.Body.(*ehr.Note).Title)
			p.AddendumForm = f
		}
	}
	return p, nil
}

// encounterParts fills an encounter's page with its notes (each with its
// addenda under it), its vital signs and, while it is open, the forms of
// a new note and a new vital sign.
func (s *pages) encounterParts(p *entryPage, cr *chartReq, enc *ehr.Entry, around []*ehr.Entry, names *chartNames) {
	cv := p.chartView
	addenda := map[uuid.UUID][]chartRow{}
	var vitals []*ehr.Entry
	for _, e := range around {
		if n, ok := e.Body.(*ehr.Note); ok && n.AddendumTo != nil {
			addenda[*n.AddendumTo] = append(addenda[*n.AddendumTo], cv.row(e, cr.zone, names))
		}
	}
	for _, e := range around {
		if e.EncounterID == nil || *e.EncounterID != enc.ID {
			continue
		}
		switch e.Kind {
		case ehr.KindNote:
			row := cv.row(e, cr.zone, names)
			row.Addenda = addenda[e.ID]
			p.Notes = append(p.Notes, row)
		case ehr.KindVital:
			if e.Status != ehr.EnteredInError {
				vitals = append(vitals, e)
				p.Vitals = append(p.Vitals, cv.row(e, cr.zone, names))
			}
		}
	}
	p.Charts = vitalCharts(cv.view, vitals, cr.zone)
	if enc.Status == ehr.Draft {
		p.NoteForm = s.newForm(cv, cr, ehr.KindNote, "", &enc.ID)
		p.VitalFrm = s.newForm(cv, cr, ehr.KindVital, "", &enc.ID)
	}
}

// chartEditForm is the form of the next version of e, which takes changes.
func (s *pages) chartEditForm(cv *chartView, cr *chartReq, e *ehr.Entry) *entryForm {
	f := &entryForm{view: cv.view, Prefix: "edit-", Action: cv.ChartHref + "/entries/" + e.ID.String(), Kind: string(e.Kind), Version: e.Version,
		Restricted: e.Restricted, Vals: formValues(e.Kind, e.Body, time.Time{}, cr.zone), zone: cr.zone}
	if e.EncounterID != nil {
		f.Encounter = e.EncounterID.String()
	}
	if n, ok := e.Body.(*ehr.Note); ok && n.AddendumTo != nil {
		f.Addendum = n.AddendumTo.String()
	}
	errButton := formButton{Status: string(ehr.EnteredInError), Label: cv.T("chart.do.error"), Danger: true}
	switch {
	case e.Kind == ehr.KindNote && e.Status == ehr.Draft:
		f.Buttons = []formButton{{Status: string(ehr.Draft), Label: cv.T("chart.do.save_draft")},
			{Status: string(ehr.Signed), Label: cv.T("chart.do.sign")}, {Status: string(ehr.Locked), Label: cv.T("chart.do.sign_lock")}, errButton}
	case e.Kind == ehr.KindNote:
		f.Buttons = []formButton{{Status: string(ehr.Draft), Label: cv.T("chart.do.correct")},
			{Status: string(ehr.Locked), Label: cv.T("chart.do.lock")}, errButton}
	case e.Kind == ehr.KindEncounter:
		f.Buttons = []formButton{{Status: string(ehr.Draft), Label: cv.T("form.save")},
			{Status: string(ehr.Locked), Label: cv.T("chart.do.lock_encounter")}, errButton}
	default:
		f.Buttons = []formButton{{Status: "", Label: cv.T("form.save")}}
		for _, st := range []ehr.Status{ehr.Active, ehr.Inactive, ehr.EnteredInError} {
			f.Statuses = append(f.Statuses, option{Value: string(st), Label: cv.tf("chart.status.", string(st)), Selected: st == e.Status})
		}
	}
	return f
}

// writeEntry writes the next version of {entry} from its form: the
// version it was made from, its kind and encounter (hidden fields, which
// the Engine checks against the entry), the status (the button pressed,
// or the status select of a list entry), restricted and the fields. A
// locked entry, or a stale version, is refused by the Engine: the page is
// shown again with its message, as a 409.
func (s *pages) writeEntry(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chartRequest(r)
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("entry", r.PathValue("entry"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	k := ehr.Kind(r.PostFormValue("kind"))
	status := r.PostFormValue("status")
	if status == "" {
		status = r.PostFormValue("list_status")
	}
	in := carebook.ChartWrite{ID: &id, PatientID: cr.patient, Status: ehr.Status(status), Restricted: r.PostFormValue("restricted") == "on"}
	version, perr := strconv.Atoi(r.PostFormValue("version"))
	if perr != nil || version < 1 {
		perr = errs.Invalid("web.chartForm", "version", "the form names no version of the entry: open the entry again")
	}
	in.Version = version
	var body ehr.Body
	if perr == nil {
		body, perr = parseBody(k, r.PostForm, cr.zone)
	}
	if perr == nil {
		in.EncounterID, perr = refserver.OptID("encounter_id", r.PostFormValue("encounter_id"))
	}
	if perr != nil {
		if k == "" || !slices.Contains([]ehr.Kind{ehr.KindEncounter, ehr.KindNote, ehr.KindProblem, ehr.KindAllergy,
			ehr.KindMedication, ehr.KindVital, ehr.KindImmunization, ehr.KindDocument}, k) {
			k = "entry"
		}
		if err = s.refuseUnread(ctx, cr, k); err == nil {
			err = perr
		}
	} else {
		in.Body = body
		_, err = s.engine.WriteChart(ctx, cr.pid, in)
	}
	if err == nil {
		return see(w, r, cr.base+"/entries/"+id.String()+"?done=written")
	}
	if !refused(err) {
		return err
	}
	p, perr := s.entryPage(r)
	if perr != nil {
		return perr
	}
	if p.Edit != nil && errs.KindOf(err) == errs.KindInvalid {
		p.Edit.keep(r.PostForm)
	}
	return s.chartRefusal(w, r, p.view, "chart_entry.html", p, err)
}

// keep shows what was typed in the form's fields.
func (f *entryForm) keep(form url.Values) {
	for k := range f.Vals {
		f.Vals[k] = form.Get(k)
	}
	for _, k := range []string{"display", "code", "system", "substance.display", "substance.code", "substance.system",
		"medication.display", "medication.code", "medication.system", "vaccine.display", "vaccine.code", "vaccine.system"} {
		if _, ok := form[k]; ok {
			f.Vals[k] = form.Get(k)
		}
	}
	f.Restricted = form.Get("restricted") == "on"
}

// Documents.

// uploadDocument stores the multipart form's "file" through the Engine
// (PutFile) and links it into the chart as a document entry titled by
// "title" (the file's name when empty), of "type", restricted or not.
func (s *pages) uploadDocument(w http.ResponseWriter, r *http.Request) error {
	const op = "web.uploadDocument"
	cr, err := s.chartRequest(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	title := strings.TrimSpace(r.PostFormValue("title"))
	docType := strings.TrimSpace(r.PostFormValue("type"))
	restricted := r.PostFormValue("restricted") == "on"
	file, hdr, ferr := r.FormFile("file")
	if ferr != nil {
		if errors.Is(ferr, http.ErrMissingFile) || errors.Is(ferr, http.ErrNotMultipart) {
			ferr = errs.Invalid(op, "file", "choose a file to upload")
		} else {
			ferr = errs.Invalid(op, "file", "the upload did not arrive whole: try again (at most 1 MiB through this page)")
		}
		if err := s.refuseUnread(ctx, cr, ehr.KindDocument); err != nil {
			return err
		}
		return s.chartAgain(w, r, cr, ferr)
	}
	defer file.Close()
	if title == "" {
		title = hdr.Filename
	}
	ct := hdr.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || !strings.Contains(mt, "/") {
		ct = "application/octet-stream"
	}
	f, err := s.engine.PutFile(ctx, cr.pid, cr.patient, hdr.Filename, ct, file)
	if err == nil {
		_, err = s.engine.WriteChart(ctx, cr.pid, carebook.ChartWrite{PatientID: cr.patient, Status: ehr.Active, Restricted: restricted,
			Body: &ehr.Document{FileID: f.ID, Title: title, Type: docType}})
		if err != nil {
			// The file is no use out of the chart: remove it again.
			_ = s.engine.DeleteFile(context.WithoutCancel(ctx), cr.pid, f.ID)
		}
	}
	if err == nil {
		return see(w, r, cr.base+"?done=uploaded#documents")
	}
	if !refused(err) {
		return err
	}
	switch errs.FieldOf(err) {
	case "name", "content_type", "":
		if errs.KindOf(err) != errs.KindConflict {
			err = errs.WithField(err, "file")
		}
	}
	return s.chartAgain(w, r, cr, err)
}

// chartAgain shows the chart again with err next to its field (the
// upload form's).
func (s *pages) chartAgain(w http.ResponseWriter, r *http.Request, cr *chartReq, err error) error {
	entries, cerr := s.engine.Chart(r.Context(), cr.pid, cr.patient, ehr.ChartFilter{})
	if cerr != nil {
		return cerr
	}
	cv, cerr := s.chartView(r, cr, "chart.title")
	if cerr != nil {
		return cerr
	}
	p := s.chartPage(r.Context(), cv, cr, entries)
	return s.chartRefusal(w, r, p.view, "chart.html", p, err)
}

// downloadDocument streams a document's file, decrypted, as an
// attachment (the Engine's OpenFile decides and logs the read). A file of
// another patient than the path's is not found.
func (s *pages) downloadDocument(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chartRequest(r)
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("file", r.PathValue("file"))
	if err != nil {
		return err
	}
	f, rc, err := s.engine.OpenFile(r.Context(), cr.pid, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	if f.PatientID != cr.patient {
		return errs.NotFound("web.downloadDocument", "file")
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": asciiName(f.Name)}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	// The first bytes are read before the status is sent, so that a file
	// that does not decrypt answers an error page rather than a cut body.
	buf := make([]byte, 32<<10)
	n, rerr := io.ReadFull(rc, buf)
	if rerr != nil && !errors.Is(rerr, io.EOF) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
		h.Del("Content-Disposition")
		return rerr
	}
	h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(buf[:n]); err != nil || rerr != nil {
		return nil
	}
	if _, err := io.Copy(w, rc); err != nil {
		s.log.ErrorContext(r.Context(), "a chart document did not download whole", "file_id", id.String(), "error", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// asciiName is name with every byte outside printable ASCII replaced, for
// Content-Disposition's filename.
func asciiName(name string) string {
	out := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	if out == "" {
		return "document"
	}
	return out
}

// The chain check.

// verifyChartPage is the result of the chart's chain check.
type verifyChartPage struct {
	*chartView
	OK     bool
	Result string
}

func (s *pages) showChartVerify(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chartRequest(r)
	if err != nil {
		return err
	}
	verr := s.engine.VerifyChart(r.Context(), cr.pid, cr.patient)
	if verr != nil && errs.KindOf(verr) != errs.KindConflict {
		return verr
	}
	cv, err := s.chartView(r, cr, "chart.verify.title")
	if err != nil {
		return err
	}
	p := &verifyChartPage{chartView: cv, OK: verr == nil, Result: cv.T("chart.verify.ok")}
	if verr != nil {
		p.Result = cv.T("chart.verify.broken", message(verr))
	}
	return s.render(w, http.StatusOK, "chart_verify.html", p)
}

// chartField is one labelled control of an entry's form: its id (the
// form's prefix and its name, unique on the page), name, label, type,
// hint, value, error and a select's options.
type chartField struct {
	ID, Name, Label, Type, Hint, Value, Error string
	Required                                  bool
	Options                                   []option
}

// In is the form's control name, labelled by the catalog's key
// "chart.field.<name>" (dots read as underscores), of type typ ("text",
// "date", "datetime-local", "textarea", "select", "number"). Flags in
// more: "required", "hint".
func (f *entryForm) In(name, typ string, more ...string) chartField {
	key := strings.ReplaceAll(name, ".", "_")
	label := "chart.field." + key
	if _, ok := f.cat["chart.field."+f.Kind+"_"+key]; ok {
		label = "chart.field." + f.Kind + "_" + key // the kind's own words ("code" of a vital sign)
	}
	c := chartField{ID: f.Prefix + strings.ReplaceAll(name, ".", "-"), Name: name, Label: f.T(label), Type: typ,
		Value: f.Vals[name], Error: f.Errors[name]}
	for _, m := range more {
		switch m {
		case "required":
			c.Required = true
		case "hint":
			// The hints of a coding's code and system: the last part of the name.
			c.Hint = f.tf("chart.hint.", name[strings.LastIndexByte(name, '.')+1:])
		}
	}
	if typ == "select" {
		c.Options = f.Opts(name)
	}
	return c
}
