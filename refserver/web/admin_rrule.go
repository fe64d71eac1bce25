package web

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
)

// weekday is a day of the week and its RRULE code.
type weekday struct {
	code string
	day  time.Weekday
}

// weekdays are the days of a weekly pattern, Monday first, by their RRULE
// names (RFC 5545 BYDAY).
var weekdays = []weekday{
	{"MO", time.Monday}, {"TU", time.Tuesday}, {"WE", time.Wednesday}, {"TH", time.Thursday},
	{"FR", time.Friday}, {"SA", time.Saturday}, {"SU", time.Sunday},
}

// maxPatternCount bounds a weekly pattern's count of occurrences.
const maxPatternCount = 1000

// weeklyPattern is the weekly-pattern form of a block: the days of the
// week, the times of day, the first date and either a last date or a count
// of occurrences (neither: it never ends), in the location's time zone.
type weeklyPattern struct {
	// Days are BYDAY codes (MO … SU).
	Days []string
	// StartTime and EndTime are HH:MM.
	StartTime, EndTime string
	// From and Until are dates (YYYY-MM-DD); Until is "" for no last date.
	From, Until string
	// Count is the number of occurrences, 0 for no count.
	Count int
}

// patternOp is the op of the pattern's errors.
const patternOp = "web.weeklyPattern"

// rule is the RRULE of p in zone loc, as scheduling takes it (no DTSTART):
// FREQ=WEEKLY with BYDAY in the order of the week, and UNTIL (the end of
// the last date in loc, in UTC) or COUNT. Errors are KindInvalid naming the
// form's field.
func (p weeklyPattern) rule(loc *time.Location) (string, error) {
	var days []string
	for _, d := range weekdays {
		if slices.Contains(p.Days, d.code) {
			days = append(days, d.code)
		}
	}
	for _, c := range p.Days {
		if !slices.ContainsFunc(weekdays, func(d weekday) bool {
			return d.code == c
		}) {
			return "", errs.Invalid(patternOp, "byday", "unknown day "+strconv.Quote(c))
		}
	}
	if len(days) == 0 {
		return "", errs.Invalid(patternOp, "byday", "choose at least one day of the week")
	}
	r := "FREQ=WEEKLY;BYDAY=" + strings.Join(days, ",")
	switch {
	case p.Until != "" && p.Count != 0:
		return "", errs.Invalid(patternOp, "count", "give a last date or a number of times, not both")
	case p.Count < 0 || p.Count > maxPatternCount:
		return "", errs.Invalid(patternOp, "count", "must be between 1 and "+strconv.Itoa(maxPatternCount))
	case p.Count > 0:
		r += ";COUNT=" + strconv.Itoa(p.Count)
	case p.Until != "":
		u, err := time.ParseInLocation(dateLayout, p.Until, loc)
		if err != nil {
			return "", errs.Invalid(patternOp, "until", "must be a date (YYYY-MM-DD)")
		}
		from, err := time.ParseInLocation(dateLayout, p.From, loc)
		if err == nil && u.Before(from) {
			return "", errs.Invalid(patternOp, "until", "must not be before the first date")
		}
		end := time.Date(u.Year(), u.Month(), u.Day(), 23, 59, 59, 0, loc).UTC()
		r += ";UNTIL=" + end.Format("20060102T150405Z")
	}
	return r, nil
}

// dateLayout is the layout of dates in forms.
const dateLayout = "2006-01-02"

// first is the first occurrence of p in loc: the times of day on the first
// of its days on or after From.
func (p weeklyPattern) first(loc *time.Location) (start, end time.Time, err error) {
	from, err := time.ParseInLocation(dateLayout, p.From, loc)
	if err != nil {
		return start, end, errs.Invalid(patternOp, "from", "must be a date (YYYY-MM-DD)")
	}
	st, err := time.Parse("15:04", p.StartTime)
	if err != nil {
		return start, end, errs.Invalid(patternOp, "start_time", "must be a time of day (HH:MM)")
	}
	et, err := time.Parse("15:04", p.EndTime)
	if err != nil {
		return start, end, errs.Invalid(patternOp, "end_time", "must be a time of day (HH:MM)")
	}
	if !et.After(st) {
		return start, end, errs.Invalid(patternOp, "end_time", "must be after the start time")
	}
	day := from
	for i := 0; i < 7; i++ {
		d := from.AddDate(0, 0, i)
		if slices.ContainsFunc(weekdays, func(w weekday) bool {
			return w.day == d.Weekday() && slices.Contains(p.Days, w.code)
		}) {
			day = d
			break
		}
	}
	at := func(c time.Time) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day(), c.Hour(), c.Minute(), 0, 0, loc)
	}
	return at(st), at(et), nil
}
