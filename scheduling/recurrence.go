package scheduling

import (
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/teambition/rrule-go"
)

// MaxOccurrenceLength bounds one occurrence of a block.
const MaxOccurrenceLength = 24 * time.Hour

// maxFiniteOccurrences bounds how many occurrences a finite rule may yield,
// so that deriving its SpanEnd stays cheap.
const maxFiniteOccurrences = 5000

const dateLayout = "2006-01-02"

// recurrence is a block's rule, parsed and bound to its zone.
type recurrence struct {
	loc       *time.Location
	first     time.Time // first occurrence start, local
	firstEnd  time.Time // first occurrence end, local
	rule      *rrule.RRule
	exdates   map[string]bool
	overrides map[string]Override
}

// parseRecurrence checks a block's time fields and parses its rule. Errors are
// KindInvalid and name the field at fault.
func parseRecurrence(op string, b *Block) (*recurrence, error) {
	loc, err := time.LoadLocation(b.TimeZone)
	if err != nil || b.TimeZone == "" || b.TimeZone == "Local" {
		return nil, errs.Invalid(op, "time_zone", "unknown time zone \""+b.TimeZone+"\"")
	}
	if b.Start.IsZero() {
		return nil, errs.Invalid(op, "start", "is required")
	}
	if !b.End.After(b.Start) {
		return nil, errs.Invalid(op, "end", "must be after start")
	}
	if b.End.Sub(b.Start) > MaxOccurrenceLength {
		return nil, errs.Invalid(op, "end", "an occurrence may last at most 24 hours")
	}
	r := &recurrence{
		loc:      loc,
		first:    b.Start.In(loc),
		firstEnd: b.End.In(loc),
		exdates:  make(map[string]bool, len(b.ExDates)),
	}
	if b.RRule != "" {
		if r.rule, err = parseRule(op, b.RRule, r.first); err != nil {
			return nil, err
		}
	} else if len(b.ExDates) > 0 || len(b.Overrides) > 0 {
		return nil, errs.Invalid(op, "rrule", "exdates and overrides need a recurring block")
	}
	for _, d := range b.ExDates {
		if _, err := time.Parse(dateLayout, d); err != nil {
			return nil, errs.Invalid(op, "exdates", "dates must be YYYY-MM-DD, got \""+d+"\"")
		}
		r.exdates[d] = true
	}
	if len(b.Overrides) > 0 {
		r.overrides = make(map[string]Override, len(b.Overrides))
	}
	for _, o := range b.Overrides {
		s, e, err := overrideTimes(o, loc)
		if err != nil {
			return nil, errs.Invalid(op, "overrides", err.Error())
		}
		if !e.After(s) || e.Sub(s) > MaxOccurrenceLength {
			return nil, errs.Invalid(op, "overrides", "override on "+o.Date+" must end after it starts")
		}
		if _, dup := r.overrides[o.Date]; dup {
			return nil, errs.Invalid(op, "overrides", "two overrides on "+o.Date)
		}
		r.overrides[o.Date] = o
	}
	return r, nil
}

func parseRule(op, s string, dtstart time.Time) (*rrule.RRule, error) {
	if len(s) > 500 {
		return nil, errs.Invalid(op, "rrule", "must be at most 500 characters")
	}
	up := strings.TrimPrefix(strings.ToUpper(s), "RRULE:")
	for _, part := range strings.Split(up, ";") {
		key, _, _ := strings.Cut(part, "=")
		switch key {
		case "FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "WKST":
		case "DTSTART", "TZID":
			return nil, errs.Invalid(op, "rrule", key+" is not allowed: the block's start and time zone give it")
		case "BYHOUR", "BYMINUTE", "BYSECOND":
			return nil, errs.Invalid(op, "rrule", key+" is not allowed: occurrences keep the block's times of day")
		default:
			return nil, errs.Invalid(op, "rrule", "part \""+key+"\" is not supported for availability (use FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, WKST)")
		}
	}
	opt, err := rrule.StrToROptionInLocation(up, dtstart.Location())
	if err != nil {
		return nil, errs.Invalid(op, "rrule", "not a valid RFC 5545 RRULE: "+err.Error())
	}
	if opt.Freq > rrule.DAILY { // HOURLY, MINUTELY, SECONDLY
		return nil, errs.Invalid(op, "rrule", "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
	}
	if opt.Interval < 0 || opt.Interval > 366 || opt.Count < 0 {
		return nil, errs.Invalid(op, "rrule", "INTERVAL must be between 1 and 366 and COUNT positive")
	}
	if err := checkRuleParts(op, opt); err != nil {
		return nil, err
	}
	opt.Dtstart = dtstart
	rule, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, errs.Invalid(op, "rrule", "not a valid RFC 5545 RRULE: "+err.Error())
	}
	return rule, nil
}

// checkRuleParts refuses values that rrule-go does not bound itself (and
// would panic on or loop over for thousands of years): BYDAY ordinals beyond
// the weeks of a month or year, and BYMONTH/BYMONTHDAY pairs that never meet.
func checkRuleParts(op string, opt *rrule.ROption) error {
	maxOrd := 0
	switch opt.Freq {
	case rrule.MONTHLY:
		maxOrd = 5
	case rrule.YEARLY:
		maxOrd = 53
	}
	for _, d := range opt.Byweekday {
		if n := d.N(); n != 0 && (n > maxOrd || n < -maxOrd) {
			if maxOrd == 0 {
				return errs.Invalid(op, "rrule", "BYDAY ordinals such as 2MO need FREQ=MONTHLY or YEARLY")
			}
			return errs.Invalid(op, "rrule", "BYDAY ordinal out of range")
		}
		if maxOrd == 53 && len(opt.Bymonth) > 0 && (d.N() > 5 || d.N() < -5) {
			return errs.Invalid(op, "rrule", "BYDAY ordinal out of range for BYMONTH")
		}
	}
	months := opt.Bymonth
	if len(months) == 0 {
		months = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	}
	for _, m := range months {
		if m < 1 || m > 12 {
			return errs.Invalid(op, "rrule", "BYMONTH must be between 1 and 12")
		}
	}
	if len(opt.Bymonthday) == 0 {
		return nil
	}
	// Days in each month, counting 29 February.
	long := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for _, d := range opt.Bymonthday {
		if d == 0 || d > 31 || d < -31 {
			return errs.Invalid(op, "rrule", "BYMONTHDAY must be between 1 and 31 (or -31 and -1)")
		}
		for _, m := range months {
			if d <= long[m] && -d <= long[m] {
				return nil
			}
		}
	}
	return errs.Invalid(op, "rrule", "BYMONTHDAY never falls in the months of BYMONTH")
}

func overrideTimes(o Override, loc *time.Location) (start, end time.Time, err error) {
	d, err := time.ParseInLocation(dateLayout, o.Date, loc)
	if err != nil {
		return start, end, errs.E(errs.KindInvalid, "", "override date must be YYYY-MM-DD, got \""+o.Date+"\"")
	}
	if start, err = atClock(d, o.Start); err != nil {
		return start, end, err
	}
	end, err = atClock(d, o.End)
	return start, end, err
}

// atClock returns the instant of local clock "HH:MM" on day d, in d's zone.
func atClock(d time.Time, hhmm string) (time.Time, error) {
	c, err := time.Parse("15:04", hhmm)
	if err != nil {
		return time.Time{}, errs.E(errs.KindInvalid, "", "override times must be HH:MM, got \""+hhmm+"\"")
	}
	return time.Date(d.Year(), d.Month(), d.Day(), c.Hour(), c.Minute(), 0, 0, d.Location()), nil
}

// occurrenceOn returns the occurrence that the rule places on local date d:
// the first occurrence's wall-clock start and end moved to d, so that DST
// shifts the instant, never the local time.
func (r *recurrence) occurrenceOn(d time.Time) (time.Time, time.Time) {
	y, m, day := d.Date()
	s := time.Date(y, m, day, r.first.Hour(), r.first.Minute(), r.first.Second(), 0, r.loc)
	days := civilDays(r.first, r.firstEnd)
	ey, em, ed := time.Date(y, m, day+days, 0, 0, 0, 0, r.loc).Date()
	e := time.Date(ey, em, ed, r.firstEnd.Hour(), r.firstEnd.Minute(), r.firstEnd.Second(), 0, r.loc)
	return s, e
}

// occurrenceOnDay is occurrenceOn, reporting false for a day where the
// occurrence lies inside a DST gap (its local start is pushed past its end).
func (r *recurrence) occurrenceOnDay(d time.Time) (time.Time, time.Time, bool) {
	s, e := r.occurrenceOn(d)
	return s, e, e.After(s)
}

// civilDays counts calendar days from a's date to b's date.
func civilDays(a, b time.Time) int {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	da := time.Date(ay, am, ad, 12, 0, 0, 0, time.UTC)
	db := time.Date(by, bm, bd, 12, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours()/24 + 0.5)
}

// expand returns the occurrences overlapping [from, to), in order.
func (r *recurrence) expand(b *Block, from, to time.Time) []Occurrence {
	occ := func(s, e time.Time) Occurrence {
		return Occurrence{BlockID: b.ID, ProviderID: b.ProviderID, LocationID: b.LocationID,
			Start: s.UTC(), End: e.UTC(), Capacity: b.Capacity}
	}
	if r.rule == nil {
		if b.Start.Before(to) && b.End.After(from) {
			return []Occurrence{occ(b.Start, b.End)}
		}
		return nil
	}
	var out []Occurrence
	seen := make(map[string]bool)
	// An occurrence starting up to a day before from may still overlap it.
	lo := from.Add(-MaxOccurrenceLength - 24*time.Hour).In(r.loc)
	hi := to.Add(24 * time.Hour).In(r.loc)
	for _, t := range r.ruleNear(lo).Between(lo, hi, true) {
		key := t.In(r.loc).Format(dateLayout)
		if r.exdates[key] || seen[key] {
			continue
		}
		seen[key] = true
		s, e, ok := r.occurrenceOnDay(t.In(r.loc))
		if o, over := r.overrides[key]; over {
			s, e, _ = overrideTimes(o, r.loc)
			ok = e.After(s)
		}
		if ok && s.Before(to) && e.After(from) {
			out = append(out, occ(s, e))
		}
	}
	for key, o := range r.overrides {
		if seen[key] || r.exdates[key] {
			continue
		}
		s, e, _ := overrideTimes(o, r.loc)
		if e.After(s) && s.Before(to) && e.After(from) {
			out = append(out, occ(s, e))
		}
	}
	sortOccurrences(out)
	return out
}

// ruleNear returns the rule with its start moved forward, by whole periods,
// to just before lo, so that expanding a window years after the block's
// start does not walk every occurrence since. Only DAILY and WEEKLY rules
// without COUNT move (their occurrences depend on the start only through its
// weekday, time of day and period phase, which whole periods keep); others
// come back unchanged.
func (r *recurrence) ruleNear(lo time.Time) *rrule.RRule {
	opt := r.rule.OrigOptions
	if opt.Count != 0 {
		return r.rule
	}
	interval := max(opt.Interval, 1)
	var period int // days
	switch opt.Freq {
	case rrule.DAILY:
		period = interval
	case rrule.WEEKLY:
		period = 7 * interval
	default:
		return r.rule
	}
	k := civilDays(r.first, lo.In(r.loc))/period - 1
	if k <= 0 {
		return r.rule
	}
	opt.Dtstart = r.first.AddDate(0, 0, k*period)
	rule, err := rrule.NewRRule(opt)
	if err != nil {
		return r.rule
	}
	return rule
}

// spanEnd returns the end of the block's last occurrence, or nil when the rule
// never ends. It fails when a finite rule yields too many occurrences.
func (r *recurrence) spanEnd(op string, b *Block) (*time.Time, error) {
	var last time.Time
	if r.rule == nil {
		last = b.End.UTC()
		return &last, nil
	}
	opt := r.rule.OrigOptions
	if opt.Count == 0 && opt.Until.IsZero() {
		return nil, nil
	}
	it := r.rule.Iterator()
	n := 0
	for t, ok := it(); ok; t, ok = it() {
		if n++; n > maxFiniteOccurrences {
			return nil, errs.Invalid(op, "rrule", "the rule yields more than 5000 occurrences; use UNTIL or split the block")
		}
		key := t.In(r.loc).Format(dateLayout)
		if r.exdates[key] {
			continue
		}
		_, e := r.occurrenceOn(t.In(r.loc))
		if e.After(last) {
			last = e
		}
	}
	for _, o := range r.overrides {
		if _, e, _ := overrideTimes(o, r.loc); e.After(last) {
			last = e
		}
	}
	if last.IsZero() {
		return nil, errs.Invalid(op, "rrule", "the rule yields no occurrence")
	}
	last = last.UTC()
	return &last, nil
}

// Expand returns the occurrences of b that overlap [from, to), in order of
// start. The block must have been validated (as the Service does on write);
// a block whose rule no longer parses yields an error of KindInvalid.
func Expand(b *Block, from, to time.Time) ([]Occurrence, error) {
	r, err := parseRecurrence("scheduling.Expand", b)
	if err != nil {
		return nil, err
	}
	return r.expand(b, from, to), nil
}
