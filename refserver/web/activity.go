package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/google/uuid"
)

// The activity log of a practice, for its administrators (audit.read):
// its entries, filtered as the API's GET /audit filters them and a page at
// a time, and the check of its hash chain.

// activityRoutes are the activity log's pages.
func (s *pages) activityRoutes() []refserver.Route {
	p := "/p/{practice}/activity"
	return []refserver.Route{
		route("GET", p, s.showActivity, "The activity log, filtered by actor, patient, action, outcome and dates", refserver.Needs(rbac.AuditRead)),
		route("GET", p+"/verify", s.verifyActivity, "Check the activity log's hash chain", refserver.Needs(rbac.AuditRead)),
	}
}

// activityPageSize is the number of entries a page of the log shows.
const activityPageSize = 50

// activityPage is a page of the activity log.
type activityPage struct {
	*view
	Base     string
	Entries  []entryRow
	Outcomes []option
	// Next is the link to the next page; "" on the last one.
	Next string
	// Checked: the chain was checked; Whole, it is whole; else Broken is
	// the first bad entry and Reason how it breaks.
	Checked, Whole      bool
	Broken, BrokenAfter int64
	Reason              string
}

// entryRow is one entry, in words.
type entryRow struct {
	Seq                                                         int64
	When, Actor, Role, Action, Resource, Patient, Outcome, From string
	// Who is the actor's email when it is an account; ByActor the log
	// filtered by the actor.
	Who, ByActor string
}

// activityOutcomes are the outcomes an entry may have.
var activityOutcomes = []audit.Outcome{audit.Allowed, audit.Denied, audit.Failed}

func (s *pages) showActivity(w http.ResponseWriter, r *http.Request) error {
	const op = "web.showActivity"
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	ctx, q := r.Context(), r.URL.Query()
	v := s.newView(r, "activity.title")
	v.Form = q
	p := &activityPage{view: v, Base: practicePath(pid), Outcomes: []option{{Value: "", Label: v.T("notify.any")}}}
	for _, o := range activityOutcomes {
		p.Outcomes = append(p.Outcomes, option{Value: string(o), Label: v.T(outcomeKey(o))})
	}
	loc := s.zoneOf(ctx, pid)
	f := audit.Filter{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		Outcome: audit.Outcome(q.Get("outcome")), Limit: activityPageSize}
	bad := func(field, key string) error {
		if field == "after" {
			// No field shows it: the link of the next page was changed.
			return s.invalid(w, r, v, "activity.html", p, errs.E(errs.KindInvalid, op, v.T(key)))
		}
		return s.invalid(w, r, v, "activity.html", p, errs.Invalid(op, field, v.T(key)))
	}
	if f.Outcome != "" && f.Outcome != audit.Allowed && f.Outcome != audit.Denied && f.Outcome != audit.Failed {
		return bad("outcome", "activity.outcome_unknown")
	}
	if id := strings.TrimSpace(q.Get("patient_id")); id != "" {
		pat, err := uuid.Parse(id)
		if err != nil {
			return bad("patient_id", "activity.patient_format")
		}
		f.PatientID = &pat
	}
	for _, d := range []struct {
		field string
		dst   *time.Time
		next  bool
	}{{"from", &f.From, false}, {"to", &f.To, true}} {
		if txt := q.Get(d.field); txt != "" {
			day, err := time.ParseInLocation(time.DateOnly, txt, loc)
			if err != nil {
				return bad(d.field, "activity.date_format")
			}
			if d.next {
				// To is the whole day: up to the next midnight.
				day = day.AddDate(0, 0, 1)
			}
			*d.dst = day
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return bad("to", "activity.dates_order")
	}
	if a := q.Get("after"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 0 {
			return bad("after", "activity.after_format")
		}
		f.AfterSeq = n
	}
	entries, err := s.engine.Audit.Query(ctx, pid, f)
	if err != nil {
		return s.invalid(w, r, v, "activity.html", p, err)
	}
	emails := map[string]string{}
	for _, e := range entries {
		row := entryRow{Seq: e.Seq, When: v.when(e.At, loc), Actor: e.Actor, Role: e.Role, Action: e.Action,
			Outcome: string(e.Outcome), From: e.IP}
		if e.ResourceType != "" {
			row.Resource = e.ResourceType
			if e.ResourceID != "" {
				row.Resource += " " + e.ResourceID
			}
		}
		row.Who = s.actorEmail(ctx, emails, e.Actor)
		row.ByActor = r.URL.Path + "?" + url.Values{"actor": {e.Actor}}.Encode()
		if e.PatientID != nil {
			row.Patient = e.PatientID.String()
		}
		p.Entries = append(p.Entries, row)
	}
	if len(entries) == f.Limit {
		next := url.Values{}
		for k, vs := range q {
			next[k] = vs
		}
		next.Set("after", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
		p.Next = r.URL.Path + "?" + next.Encode()
	}
	return s.render(w, http.StatusOK, "activity.html", p)
}

// actorEmail is the email of the account actor names, "" when it names
// none (a system actor); known keeps what was read for the page.
func (s *pages) actorEmail(ctx context.Context, known map[string]string, actor string) string {
	if who, ok := known[actor]; ok {
		return who
	}
	who := ""
	if id, err := uuid.Parse(actor); err == nil {
		if a, err := s.engine.Identity.Account(ctx, id); err == nil {
			who = a.Email
			if who == "" {
				who = a.Phone
			}
		}
	}
	known[actor] = who
	return who
}

// verifyActivity walks the practice's hash chain (the API's GET
// /audit/verify) and shows whether it is whole, or its first broken
// entry.
func (s *pages) verifyActivity(w http.ResponseWriter, r *http.Request) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	b, err := s.engine.Audit.Verify(r.Context(), pid)
	if err != nil {
		return err
	}
	v := s.newView(r, "activity.verify_title")
	p := &activityPage{view: v, Base: practicePath(pid), Checked: true, Whole: b == nil}
	if b != nil {
		p.Broken, p.BrokenAfter, p.Reason = b.Seq, b.Seq-1, v.T(reasonKey(b.Reason))
	}
	return s.render(w, http.StatusOK, "activity_verify.html", p)
}

// outcomeKey and reasonKey are the catalog keys of an outcome's and a
// chain break's words.
func outcomeKey(o audit.Outcome) string { return "activity.outcome." + string(o) }
func reasonKey(r audit.Reason) string   { return "activity.reason." + string(r) }
