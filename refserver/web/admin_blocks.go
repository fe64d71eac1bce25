package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
)

// Availability blocks: the list by provider and location, the weekly
// pattern form with its preview, and a block's page (its next
// occurrences, its open times, the dates it skips, its one-day overrides,
// and its deletion, which a block holding bookings refuses until they are
// moved to another block).

// weekdayKeys are the catalog's short names of the days, Sunday first.
var weekdayKeys = [7]string{"admin.weekday.0", "admin.weekday.1", "admin.weekday.2", "admin.weekday.3",
	"admin.weekday.4", "admin.weekday.5", "admin.weekday.6"}

// statusKeys are the catalog's names of the appointment statuses.
var statusKeys = map[scheduling.Status]string{
	scheduling.StatusNew: "admin.status.new", scheduling.StatusConfirmed: "admin.status.confirmed",
	scheduling.StatusArrived: "admin.status.arrived", scheduling.StatusOut: "admin.status.out",
	scheduling.StatusCanceled: "admin.status.canceled", scheduling.StatusNoVisit: "admin.status.no-visit",
}

// previewCount is how many occurrences a preview shows.
const previewCount = 8

// blockRow is a block as the pages list it.
type blockRow struct {
	ID, Href, Provider, Location, Pattern string
}

// blocksPage is the list of blocks.
type blocksPage struct {
	*view
	Providers, Locations []option
	Rows                 []blockRow
	NewHref              string
}

// names are the practice's providers and locations by ID.
type names struct {
	providers map[scheduling.ProviderID]*scheduling.Provider
	locations map[tenant.LocationID]*tenant.Location
	// provOpts and locOpts are them as choices, by name.
	provOpts, locOpts []option
}

func (s *pages) names(ctx context.Context, practice tenant.PracticeID) (*names, error) {
	n := &names{providers: map[scheduling.ProviderID]*scheduling.Provider{}, locations: map[tenant.LocationID]*tenant.Location{}}
	ps, err := s.engine.Scheduling.Providers(ctx, practice, scheduling.ProviderFilter{Limit: 1000})
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		n.providers[p.ID] = p
		n.provOpts = append(n.provOpts, option{Value: p.ID.String(), Label: providerName(p)})
	}
	ls, err := s.engine.Tenants.Locations(ctx, practice)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		n.locations[l.ID] = l
		n.locOpts = append(n.locOpts, option{Value: l.ID.String(), Label: l.Name + " (" + l.TimeZone + ")"})
	}
	return n, nil
}

// row is b as the pages list it.
func (n *names) row(v *view, b *scheduling.Block) blockRow {
	r := blockRow{ID: b.ID.String(), Href: practicePath(b.PracticeID) + "/setup/blocks/" + b.ID.String(), Pattern: describeBlock(v, b)}
	if p := n.providers[b.ProviderID]; p != nil {
		r.Provider = providerName(p)
	}
	if l := n.locations[b.LocationID]; l != nil {
		r.Location = l.Name
	}
	return r
}

// chosen are opts with the one of value selected, after an "all" choice
// labelled all ("" for none).
func chosen(opts []option, value, all string) []option {
	var out []option
	if all != "" {
		out = append(out, option{Value: "", Label: all})
	}
	for _, o := range opts {
		o.Selected = o.Value == value
		out = append(out, o)
	}
	return out
}

func (s *pages) showBlocks(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.blocks.title")
	if v.Practice == nil {
		return errs.NotFound("web.showBlocks", "practice")
	}
	switch r.URL.Query().Get("done") {
	case "deleted":
		v.Notice = v.T("admin.blocks.deleted")
	}
	ctx, pid := r.Context(), v.Practice.ID
	n, err := s.names(ctx, pid)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := scheduling.BlockFilter{}
	if id, err := refserver.ParseID("provider_id", q.Get("provider_id")); err == nil {
		f.ProviderIDs = []scheduling.ProviderID{id}
	}
	if id, err := refserver.ParseID("location_id", q.Get("location_id")); err == nil {
		f.LocationID = &id
	}
	bs, err := s.engine.Scheduling.Blocks(ctx, pid, f)
	if err != nil {
		return err
	}
	p := &blocksPage{view: v, Providers: chosen(n.provOpts, q.Get("provider_id"), v.T("admin.blocks.all_providers")),
		Locations: chosen(n.locOpts, q.Get("location_id"), v.T("admin.blocks.all_locations")),
		NewHref:   practicePath(pid) + "/setup/blocks/new"}
	for _, b := range bs {
		p.Rows = append(p.Rows, n.row(v, b))
	}
	slices.SortStableFunc(p.Rows, func(a, b blockRow) int {
		return strings.Compare(a.Provider+a.Location, b.Provider+b.Location)
	})
	return s.render(w, http.StatusOK, "admin_blocks.html", p)
}

// dayBox is one checkbox of the days of the week.
type dayBox struct {
	Code, Label string
	Checked     bool
}

// blockFormPage is the weekly pattern form, with its preview.
type blockFormPage struct {
	*view
	Flow                 string
	Providers, Locations []option
	Days                 []dayBox
	// Preview are the next occurrences of the pattern, when asked for.
	Preview []string
	RRule   string
	Zone    string
}

// blockForm is the form's page, its choices set from form (what was typed,
// or the defaults of a new block).
func (s *pages) blockForm(r *http.Request, v *view, form func(string) string, days []string) (*blockFormPage, error) {
	n, err := s.names(r.Context(), v.Practice.ID)
	if err != nil {
		return nil, err
	}
	p := &blockFormPage{view: v, Flow: flowOf(r)}
	prov, loc := form("provider_id"), form("location_id")
	if prov == "" && len(n.provOpts) > 0 {
		prov = n.provOpts[0].Value
	}
	if loc == "" && len(n.locOpts) > 0 {
		loc = n.locOpts[0].Value
	}
	p.Providers, p.Locations = chosen(n.provOpts, prov, ""), chosen(n.locOpts, loc, "")
	for _, d := range weekdays {
		p.Days = append(p.Days, dayBox{Code: d.code, Label: v.T(weekdayKeys[d.day]), Checked: slices.Contains(days, d.code)})
	}
	return p, nil
}

func (s *pages) showNewBlock(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.block_new.title")
	if v.Practice == nil {
		return errs.NotFound("web.showNewBlock", "practice")
	}
	q := r.URL.Query()
	p, err := s.blockForm(r, v, q.Get, []string{"MO", "TU", "WE", "TH", "FR"})
	if err != nil {
		return err
	}
	// The defaults: weekdays, 9 to 5, from tomorrow, for twelve weeks.
	now := s.engine.Clock.Now()
	v.Form = map[string][]string{"start_time": {"09:00"}, "end_time": {"17:00"},
		"from": {now.AddDate(0, 0, 1).Format(dateLayout)}, "until": {now.AddDate(0, 0, 84).Format(dateLayout)}, "capacity": {"1"}}
	return s.render(w, http.StatusOK, "admin_block_new.html", p)
}

// blockFields renames the fields of scheduling's block errors to the
// pattern form's.
var blockFields = map[string]string{"start": "from", "end": "end_time", "rrule": "byday", "time_zone": "location_id",
	"exdates": "exdates", "overrides": "override_date"}

// renamed is err with its field renamed by names, when it names one.
func renamed(err error, names map[string]string) error {
	e, ok := errs.As(err)
	if !ok {
		return err
	}
	if to, ok := names[e.Field]; ok {
		c := *e
		c.Field, c.Err = to, e
		return &c
	}
	return err
}

// patternOf is the weekly pattern of r's form.
func patternOf(r *http.Request) (weeklyPattern, error) {
	p := weeklyPattern{Days: r.PostForm["byday"], StartTime: r.PostFormValue("start_time"), EndTime: r.PostFormValue("end_time"),
		From: strings.TrimSpace(r.PostFormValue("from")), Until: strings.TrimSpace(r.PostFormValue("until"))}
	n, err := formInt(r, "count", false)
	p.Count = int(n)
	return p, err
}

// addBlock previews the pattern of the form (action "preview") or
// publishes it as a block.
func (s *pages) addBlock(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.block_new.title")
	if v.Practice == nil {
		return errs.NotFound("web.addBlock", "practice")
	}
	ctx, pid := r.Context(), v.Practice.ID
	if err := r.ParseForm(); err != nil {
		return errs.Invalid("web.addBlock", "", "unreadable form")
	}
	p, err := s.blockForm(r, v, r.PostFormValue, r.PostForm["byday"])
	if err != nil {
		return err
	}
	in, prov, err := s.blockInput(r, true)
	if err != nil {
		return s.invalid(w, r, v, "admin_block_new.html", p, renamed(err, blockFields))
	}
	loc, err := s.engine.Tenants.Location(ctx, pid, in.LocationID)
	if err != nil {
		return s.invalid(w, r, v, "admin_block_new.html", p, errs.Invalid("web.addBlock", "location_id", "no such location"))
	}
	if r.PostFormValue("action") == "preview" {
		b := &scheduling.Block{TimeZone: loc.TimeZone, Start: in.Start, End: in.End, RRule: in.RRule, Capacity: 1}
		occ, err := nextOccurrences(b, in.Start, previewCount)
		if err != nil {
			return s.invalid(w, r, v, "admin_block_new.html", p, renamed(err, blockFields))
		}
		z, _ := time.LoadLocation(loc.TimeZone)
		for _, o := range occ {
			p.Preview = append(p.Preview, span(v, o.Start.In(z), o.End.In(z)))
		}
		p.RRule, p.Zone, v.Form = in.RRule, loc.TimeZone, r.PostForm
		return s.render(w, http.StatusOK, "admin_block_new.html", p)
	}
	b, err := s.engine.Scheduling.CreateBlock(ctx, pid, scheduling.NewBlock{ProviderID: prov, BlockInput: in})
	if err != nil {
		return s.invalid(w, r, v, "admin_block_new.html", p, renamed(err, blockFields))
	}
	if flowOf(r) == "start" {
		return see(w, r, practicePath(pid)+"/setup/start")
	}
	return see(w, r, practicePath(pid)+"/setup/blocks/"+b.ID.String()+"?done=created")
}

// blockInput is the block of the pattern form, and its provider (unless
// the form changes a block, whose provider is kept).
func (s *pages) blockInput(r *http.Request, withProvider bool) (scheduling.BlockInput, scheduling.ProviderID, error) {
	var in scheduling.BlockInput
	var prov scheduling.ProviderID
	var err error
	if withProvider {
		if prov, err = refserver.ParseID("provider_id", r.PostFormValue("provider_id")); err != nil {
			return in, prov, err
		}
	}
	if in.LocationID, err = refserver.ParseID("location_id", r.PostFormValue("location_id")); err != nil {
		return in, prov, err
	}
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return in, prov, err
	}
	loc, err := s.engine.Tenants.Location(r.Context(), pid, in.LocationID)
	if err != nil {
		return in, prov, errs.Invalid("web.blockInput", "location_id", "no such location")
	}
	z, err := tenant.LoadZone("web.blockInput", "location_id", loc.TimeZone)
	if err != nil {
		return in, prov, err
	}
	pat, err := patternOf(r)
	if err != nil {
		return in, prov, err
	}
	if in.Start, in.End, err = pat.first(z); err != nil {
		return in, prov, err
	}
	if in.RRule, err = pat.rule(z); err != nil {
		return in, prov, err
	}
	n, err := formInt(r, "capacity", false)
	in.Capacity = int(n)
	return in, prov, err
}

// nextOccurrences are b's first n occurrences from from on, by the
// scheduling package's own expansion, looking at most a year ahead.
func nextOccurrences(b *scheduling.Block, from time.Time, n int) ([]scheduling.Occurrence, error) {
	occ, err := scheduling.Expand(b, from, from.AddDate(1, 0, 0))
	if len(occ) > n {
		occ = occ[:n]
	}
	return occ, err
}

// span is an occurrence as the pages show it: "Mon 2030-03-04 09:00–12:00"
// (the end's date too when it is another day).
func span(v *view, start, end time.Time) string {
	out := v.T(weekdayKeys[start.Weekday()]) + " " + start.Format("2006-01-02 15:04") + "–"
	if end.YearDay() != start.YearDay() || end.Year() != start.Year() {
		return out + end.Format("2006-01-02 15:04")
	}
	return out + end.Format("15:04")
}

// describeBlock is b's pattern in words: its days, times of day and dates.
func describeBlock(v *view, b *scheduling.Block) string {
	z, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		z = time.UTC
	}
	st, en := b.Start.In(z), b.End.In(z)
	if b.RRule == "" {
		return span(v, st, en)
	}
	out := b.RRule
	if i := strings.Index(b.RRule, "BYDAY="); i >= 0 {
		codes := strings.Split(strings.SplitN(b.RRule[i+len("BYDAY="):], ";", 2)[0], ",")
		var days []string
		for _, c := range codes {
			for _, d := range weekdays {
				if d.code == c {
					days = append(days, v.T(weekdayKeys[d.day]))
				}
			}
		}
		out = strings.Join(days, ", ")
	}
	out += " · " + st.Format("15:04") + "–" + en.Format("15:04") + " · " + v.T("admin.blocks.from", st.Format(dateLayout))
	if b.SpanEnd != nil {
		out += " " + v.T("admin.blocks.until", b.SpanEnd.In(z).Format(dateLayout))
	}
	return out + " (" + b.TimeZone + ")"
}

// held is an appointment that keeps a block from being deleted or changed.
type held struct{ When, Status, Code string }

// blockPage is one block.
type blockPage struct {
	*view
	Row        blockRow
	RRule      string
	Capacity   int
	Next       []string
	VisitTypes []option
	Slots      []string
	SlotsOf    string
	ExDates    []string
	Overrides  []scheduling.Override
	Held       []held
	// Moving shows the move form again after a move that failed.
	Moving      bool
	MoveTargets []option
	Base        string
}

// showBlock shows a block.
func (s *pages) showBlock(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.block.title")
	switch r.URL.Query().Get("done") {
	case "created":
		v.Notice = v.T("admin.block.created")
	case "moved":
		v.Notice = v.T("admin.block.moved", r.URL.Query().Get("n"))
	case "changed":
		v.Notice = v.T("admin.block.changed")
	}
	return s.renderBlock(w, r, v, http.StatusOK, nil)
}

// renderBlock shows the block of r's path with status; err, when set, is
// shown too (with the appointments it names, if the block holds them).
func (s *pages) renderBlock(w http.ResponseWriter, r *http.Request, v *view, status int, failure error) error {
	if v.Practice == nil {
		return errs.NotFound("web.showBlock", "practice")
	}
	ctx, pid := r.Context(), v.Practice.ID
	id, err := refserver.ParseID("block", r.PathValue("block"))
	if err != nil {
		return errs.NotFound("web.showBlock", "block")
	}
	b, err := s.engine.Scheduling.Block(ctx, pid, id)
	if err != nil {
		return err
	}
	n, err := s.names(ctx, pid)
	if err != nil {
		return err
	}
	z, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		return err
	}
	p := &blockPage{view: v, Row: n.row(v, b), RRule: b.RRule, Capacity: b.Capacity, ExDates: b.ExDates, Overrides: b.Overrides,
		Base: practicePath(pid) + "/setup/blocks/" + b.ID.String()}
	now := s.engine.Clock.Now()
	occ, err := nextOccurrences(b, now, previewCount)
	if err != nil {
		return err
	}
	for _, o := range occ {
		p.Next = append(p.Next, span(v, o.Start.In(z), o.End.In(z)))
	}
	if err := s.openTimes(r, p, b, z); err != nil {
		return err
	}
	others, err := s.engine.Scheduling.Blocks(ctx, pid, scheduling.BlockFilter{})
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID != b.ID {
			row := n.row(v, o)
			p.MoveTargets = append(p.MoveTargets, option{Value: o.ID.String(), Label: row.Provider + " · " + row.Location + " · " + row.Pattern})
		}
	}
	if failure == nil {
		return s.render(w, status, "admin_block.html", p)
	}
	p.Moving = errs.FieldOf(failure) == "to_block_id"
	if e, ok := errs.As(failure); ok && (e.Kind == errs.KindPreconditionFailed || e.Kind == errs.KindConflict) {
		details, _ := e.Details.(map[string]any)
		if d, ok := details["appointments"].([]scheduling.DisplacedAppointment); ok {
			for _, a := range d {
				p.Held = append(p.Held, held{When: span(v, a.Start.In(z), a.End.In(z)), Status: v.T(statusKeys[a.Status]), Code: string(a.Status)})
			}
			v.Notice, v.Failed = v.T("admin.block.holds", len(d)), true
			if e.Kind == errs.KindConflict {
				v.Notice = v.T("admin.block.misfits", len(d))
			}
			return s.render(w, http.StatusConflict, "admin_block.html", p)
		}
	}
	return s.invalid(w, r, v, "admin_block.html", p, failure)
}

// openTimesDays is how far ahead a block's page shows its open times.
const openTimesDays = 14

// maxOpenTimes bounds the open times a block's page lists.
const maxOpenTimes = 40

// openTimes fills p's open times of b for the visit type of r's query
// (else the practice's first), by the scheduling service's OpenSlots.
func (s *pages) openTimes(r *http.Request, p *blockPage, b *scheduling.Block, z *time.Location) error {
	ctx := r.Context()
	vts, err := s.engine.Scheduling.VisitTypes(ctx, b.PracticeID)
	if err != nil || len(vts) == 0 {
		return err
	}
	want := r.URL.Query().Get("visit_type_id")
	if want == "" {
		want = vts[0].ID.String()
	}
	var vt *scheduling.VisitType
	for _, x := range vts {
		p.VisitTypes = append(p.VisitTypes, option{Value: x.ID.String(), Label: x.Name, Selected: x.ID.String() == want})
		if x.ID.String() == want {
			vt = x
		}
	}
	if vt == nil {
		vt = vts[0]
	}
	p.SlotsOf = vt.Name
	now := s.engine.Clock.Now()
	slots, err := s.engine.Scheduling.OpenSlots(ctx, b.PracticeID, scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{b.ProviderID},
		VisitTypeID: vt.ID, LocationID: &b.LocationID, From: now, To: now.AddDate(0, 0, openTimesDays)})
	if err != nil {
		return err
	}
	for _, sl := range slots {
		if sl.BlockID == b.ID && len(p.Slots) < maxOpenTimes {
			p.Slots = append(p.Slots, span(p.view, sl.Start.In(z), sl.End.In(z)))
		}
	}
	return nil
}

// blockID is the block of r's path.
func blockID(r *http.Request) (scheduling.BlockID, error) {
	id, err := refserver.ParseID("block", r.PathValue("block"))
	if err != nil {
		return id, errs.NotFound("web.block", "block")
	}
	return id, nil
}

// changeBlock rewrites the block of r's path with change, and shows the
// block again.
func (s *pages) changeBlock(w http.ResponseWriter, r *http.Request, change func(in *scheduling.BlockInput) error) error {
	v := s.newView(r, "admin.block.title")
	if v.Practice == nil {
		return errs.NotFound("web.changeBlock", "practice")
	}
	id, err := blockID(r)
	if err != nil {
		return err
	}
	b, err := s.engine.Scheduling.Block(r.Context(), v.Practice.ID, id)
	if err != nil {
		return err
	}
	in := scheduling.BlockInput{LocationID: b.LocationID, Start: b.Start, End: b.End, RRule: b.RRule,
		ExDates: slices.Clone(b.ExDates), Overrides: slices.Clone(b.Overrides), Capacity: b.Capacity}
	if err := change(&in); err != nil {
		return s.renderBlock(w, r, v, 0, err)
	}
	if _, err := s.engine.Scheduling.UpdateBlock(r.Context(), v.Practice.ID, id, in); err != nil {
		return s.renderBlock(w, r, v, 0, renamed(err, blockFields))
	}
	return see(w, r, practicePath(v.Practice.ID)+"/setup/blocks/"+id.String()+"?done=changed")
}

// changeExDates adds the form's date to the dates the block skips, or
// removes it (action "remove").
func (s *pages) changeExDates(w http.ResponseWriter, r *http.Request) error {
	return s.changeBlock(w, r, func(in *scheduling.BlockInput) error {
		d := strings.TrimSpace(r.PostFormValue("exdates"))
		if _, err := time.Parse(dateLayout, d); err != nil {
			return errs.Invalid("web.changeExDates", "exdates", "must be a date (YYYY-MM-DD)")
		}
		if r.PostFormValue("action") == "remove" {
			in.ExDates = slices.DeleteFunc(in.ExDates, func(x string) bool { return x == d })
			return nil
		}
		if !slices.Contains(in.ExDates, d) {
			in.ExDates = append(in.ExDates, d)
			slices.Sort(in.ExDates)
		}
		return nil
	})
}

// changeOverrides sets one day's hours of the block (the form's date,
// start and end), or drops that day's override (action "remove").
func (s *pages) changeOverrides(w http.ResponseWriter, r *http.Request) error {
	return s.changeBlock(w, r, func(in *scheduling.BlockInput) error {
		d := strings.TrimSpace(r.PostFormValue("override_date"))
		if _, err := time.Parse(dateLayout, d); err != nil {
			return errs.Invalid("web.changeOverrides", "override_date", "must be a date (YYYY-MM-DD)")
		}
		in.Overrides = slices.DeleteFunc(in.Overrides, func(o scheduling.Override) bool { return o.Date == d })
		if r.PostFormValue("action") == "remove" {
			return nil
		}
		o := scheduling.Override{Date: d, Start: r.PostFormValue("override_start"), End: r.PostFormValue("override_end")}
		for _, f := range []struct{ name, v string }{{"override_start", o.Start}, {"override_end", o.End}} {
			if _, err := time.Parse("15:04", f.v); err != nil {
				return errs.Invalid("web.changeOverrides", f.name, "must be a time of day (HH:MM)")
			}
		}
		in.Overrides = append(in.Overrides, o)
		slices.SortFunc(in.Overrides, func(a, b scheduling.Override) int { return strings.Compare(a.Date, b.Date) })
		return nil
	})
}

// deleteBlock deletes the block of r's path, once confirmed; a block that
// holds bookings is refused, and its page lists them with the form that
// moves them.
func (s *pages) deleteBlock(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.block.title")
	if v.Practice == nil {
		return errs.NotFound("web.deleteBlock", "practice")
	}
	id, err := blockID(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "1" {
		if _, err := s.engine.Scheduling.Block(r.Context(), v.Practice.ID, id); err != nil {
			return err
		}
		return s.renderBlock(w, r, v, 0, errs.Invalid("web.deleteBlock", "confirm", v.T("admin.block.confirm_needed")))
	}
	if err := s.engine.Scheduling.DeleteBlock(r.Context(), v.Practice.ID, id); err != nil {
		return s.renderBlock(w, r, v, 0, err)
	}
	return see(w, r, practicePath(v.Practice.ID)+"/setup/blocks?done=deleted")
}

// moveBlockAppointments moves the block's appointments to the form's
// to_block_id, as the API's POST …/move-appointments does.
func (s *pages) moveBlockAppointments(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.block.title")
	if v.Practice == nil {
		return errs.NotFound("web.moveBlockAppointments", "practice")
	}
	id, err := blockID(r)
	if err != nil {
		return err
	}
	to, err := refserver.ParseID("to_block_id", r.PostFormValue("to_block_id"))
	var moved []*scheduling.Appointment
	if err == nil {
		moved, err = s.engine.Scheduling.MoveAppointments(r.Context(), v.Practice.ID, id, to, strings.TrimSpace(r.PostFormValue("reason")))
	}
	if errs.KindOf(err) == errs.KindNotFound && errs.FieldOf(err) == "to_block_id" {
		err = errs.Invalid("web.moveBlockAppointments", "to_block_id", "no such block")
	}
	if err != nil {
		// renderBlock answers not found for the block moved from.
		return s.renderBlock(w, r, v, 0, err)
	}
	return see(w, r, practicePath(v.Practice.ID)+"/setup/blocks/"+id.String()+"?done=moved&n="+strconv.Itoa(len(moved)))
}

// patternOfBlock is b's weekly pattern, in zone z, and whether b has one
// the form can show (a weekly rule of days, with a last date, a count or
// no end; nothing else).
func patternOfBlock(b *scheduling.Block, z *time.Location) (weeklyPattern, bool) {
	st, en := b.Start.In(z), b.End.In(z)
	p := weeklyPattern{StartTime: st.Format("15:04"), EndTime: en.Format("15:04"), From: st.Format(dateLayout)}
	if b.RRule == "" || st.YearDay() != en.YearDay() {
		return p, false
	}
	weeklyRule := false
	for _, part := range strings.Split(strings.TrimPrefix(strings.ToUpper(b.RRule), "RRULE:"), ";") {
		k, val, _ := strings.Cut(part, "=")
		switch k {
		case "FREQ":
			weeklyRule = val == "WEEKLY"
		case "BYDAY":
			p.Days = strings.Split(val, ",")
		case "COUNT":
			n, err := strconv.Atoi(val)
			if err != nil {
				return p, false
			}
			p.Count = n
		case "UNTIL":
			u, err := time.Parse("20060102T150405Z", val)
			if err != nil {
				return p, false
			}
			p.Until = u.In(z).Format(dateLayout)
		default:
			return p, false
		}
	}
	for _, d := range p.Days {
		if !slices.ContainsFunc(weekdays, func(w weekday) bool { return w.code == d }) {
			return p, false
		}
	}
	return p, weeklyRule && len(p.Days) > 0
}

// blockEditPage is the weekly pattern form of an existing block.
type blockEditPage struct {
	*blockFormPage
	Row blockRow
	// Base is the block's page.
	Base string
}

// editForm is the edit page of the block of r's path, and the block.
func (s *pages) editForm(r *http.Request, v *view) (*blockEditPage, *scheduling.Block, error) {
	if v.Practice == nil {
		return nil, nil, errs.NotFound("web.editBlock", "practice")
	}
	id, err := blockID(r)
	if err != nil {
		return nil, nil, err
	}
	b, err := s.engine.Scheduling.Block(r.Context(), v.Practice.ID, id)
	if err != nil {
		return nil, nil, err
	}
	z, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		return nil, nil, err
	}
	pat, ok := patternOfBlock(b, z)
	form := func(name string) string { return "" }
	days := pat.Days
	if r.Method == http.MethodPost {
		form, days = r.PostFormValue, r.PostForm["byday"]
	} else {
		v.Form = map[string][]string{"location_id": {b.LocationID.String()}, "start_time": {pat.StartTime}, "end_time": {pat.EndTime},
			"from": {pat.From}, "until": {pat.Until}, "capacity": {strconv.Itoa(b.Capacity)}}
		if pat.Count > 0 {
			v.Form["count"] = []string{strconv.Itoa(pat.Count)}
		}
		if !ok {
			v.Notice = v.T("admin.block_edit.not_weekly")
		}
	}
	fp, err := s.blockForm(r, v, form, days)
	if err != nil {
		return nil, nil, err
	}
	n, err := s.names(r.Context(), v.Practice.ID)
	if err != nil {
		return nil, nil, err
	}
	fp.Locations = chosen(n.locOpts, firstOf(form("location_id"), b.LocationID.String()), "")
	return &blockEditPage{blockFormPage: fp, Row: n.row(v, b), Base: practicePath(v.Practice.ID) + "/setup/blocks/" + b.ID.String()}, b, nil
}

// firstOf is the first of ss that is not "".
func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func (s *pages) showEditBlock(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.block_edit.title")
	p, _, err := s.editForm(r, v)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "admin_block_edit.html", p)
}

// editBlock changes the block's pattern (its provider stays), as the API's
// PUT …/blocks/{block} does, keeping its days off and one-day changes. A
// change that would leave bookings outside the block is refused, and the
// block's page lists them with the form that moves them.
func (s *pages) editBlock(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "admin.block_edit.title")
	if err := r.ParseForm(); err != nil {
		return errs.Invalid("web.editBlock", "", "unreadable form")
	}
	p, b, err := s.editForm(r, v)
	if err != nil {
		return err
	}
	in, _, err := s.blockInput(r, false)
	if err == nil {
		in.ExDates, in.Overrides = b.ExDates, b.Overrides
		_, err = s.engine.Scheduling.UpdateBlock(r.Context(), b.PracticeID, b.ID, in)
	}
	if errs.KindOf(err) == errs.KindPreconditionFailed {
		bv := s.newView(r, "admin.block.title")
		return s.renderBlock(w, r, bv, 0, err)
	}
	if err != nil {
		return s.invalid(w, r, v, "admin_block_edit.html", p, renamed(err, blockFields))
	}
	return see(w, r, p.Base+"?done=changed")
}
