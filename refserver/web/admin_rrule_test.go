package web

import (
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
)

// TestWeeklyRule checks the RRULE the weekly-pattern form writes, and that
// the scheduling package accepts it and expands it to the chosen days, at
// the chosen times of day, within the last date or count.
func TestWeeklyRule(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		p     weeklyPattern
		rule  string
		field string // the field of the error, when the pattern is refused
		// first is the first occurrence's local start; n how many the rule
		// yields (-1: never ends).
		first string
		n     int
	}{
		{name: "until a date before the DST change (EST)", p: weeklyPattern{Days: []string{"MO", "FR"}, StartTime: "09:00", EndTime: "12:00", From: "2030-03-04", Until: "2030-03-08"},
			rule: "FREQ=WEEKLY;BYDAY=MO,FR;UNTIL=20300309T045959Z", first: "2030-03-04 09:00", n: 2},
		{name: "days in the order of the week, until a date after the DST change (EDT)", p: weeklyPattern{Days: []string{"FR", "MO", "WE"}, StartTime: "09:00", EndTime: "12:00", From: "2030-03-04", Until: "2030-03-15"},
			rule: "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20300316T035959Z", first: "2030-03-04 09:00", n: 6},
		{name: "a first date off the pattern starts on the next chosen day", p: weeklyPattern{Days: []string{"TU"}, StartTime: "14:00", EndTime: "15:30", From: "2030-03-01", Until: "2030-03-19"},
			rule: "FREQ=WEEKLY;BYDAY=TU;UNTIL=20300320T035959Z", first: "2030-03-05 14:00", n: 3},
		{name: "a count", p: weeklyPattern{Days: []string{"SA", "SU"}, StartTime: "08:00", EndTime: "10:00", From: "2030-03-04", Count: 5},
			rule: "FREQ=WEEKLY;BYDAY=SA,SU;COUNT=5", first: "2030-03-09 08:00", n: 5},
		{name: "no end", p: weeklyPattern{Days: []string{"TH", "TH"}, StartTime: "10:00", EndTime: "11:00", From: "2030-03-07"},
			rule: "FREQ=WEEKLY;BYDAY=TH", first: "2030-03-07 10:00", n: -1},
		{name: "no day", p: weeklyPattern{StartTime: "09:00", EndTime: "10:00", From: "2030-03-04"}, field: "byday"},
		{name: "an unknown day", p: weeklyPattern{Days: []string{"MO", "XX"}, StartTime: "09:00", EndTime: "10:00", From: "2030-03-04"}, field: "byday"},
		{name: "both a last date and a count", p: weeklyPattern{Days: []string{"MO"}, StartTime: "09:00", EndTime: "10:00", From: "2030-03-04", Until: "2030-04-01", Count: 3}, field: "count"},
		{name: "a negative count", p: weeklyPattern{Days: []string{"MO"}, StartTime: "09:00", EndTime: "10:00", From: "2030-03-04", Count: -1}, field: "count"},
		{name: "too many times", p: weeklyPattern{Days: []string{"MO"}, StartTime: "09:00", EndTime: "10:00", From: "2030-03-04", Count: 1001}, field: "count"},
		{name: "a last date before the first", p: weeklyPattern{Days: []string{"MO"}, StartTime: "09:00", EndTime: "10:00", From: "2030-03-04", Until: "2030-03-01"}, field: "until"},
		{name: "a last date that is no date", p: weeklyPattern{Days: []string{"MO"}, StartTime: "09:00", EndTime: "10:00", From: "2030-03-04", Until: "soon"}, field: "until"},
		{name: "an end before the start", p: weeklyPattern{Days: []string{"MO"}, StartTime: "10:00", EndTime: "09:00", From: "2030-03-04"}, rule: "FREQ=WEEKLY;BYDAY=MO", field: "end_time"},
		{name: "no first date", p: weeklyPattern{Days: []string{"MO"}, StartTime: "09:00", EndTime: "10:00"}, rule: "FREQ=WEEKLY;BYDAY=MO", field: "from"},
		{name: "a start that is no time", p: weeklyPattern{Days: []string{"MO"}, StartTime: "9am", EndTime: "10:00", From: "2030-03-04"}, rule: "FREQ=WEEKLY;BYDAY=MO", field: "start_time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rule, rerr := c.p.rule(ny)
			start, end, ferr := c.p.first(ny)
			err := rerr
			if err == nil {
				err = ferr
			}
			if c.field != "" {
				if errs.KindOf(err) != errs.KindInvalid || errs.FieldOf(err) != c.field {
					t.Fatalf("error %v (field %q), want invalid %s", err, errs.FieldOf(err), c.field)
				}
				if c.rule != "" && rule != c.rule {
					t.Fatalf("rule %q, want %q", rule, c.rule)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rule != c.rule {
				t.Fatalf("rule %q, want %q", rule, c.rule)
			}
			if got := start.Format("2006-01-02 15:04"); got != c.first {
				t.Fatalf("first %s, want %s", got, c.first)
			}
			b := &scheduling.Block{TimeZone: "America/New_York", Start: start, End: end, RRule: rule, Capacity: 1}
			occ, err := scheduling.Expand(b, start, start.AddDate(0, 3, 0))
			if err != nil {
				t.Fatalf("scheduling refuses %q: %v", rule, err)
			}
			if c.n >= 0 && len(occ) != c.n {
				t.Fatalf("%d occurrences, want %d: %v", len(occ), c.n, occ)
			}
			if c.n < 0 && len(occ) < 12 {
				t.Fatalf("%d occurrences in three months of a rule with no end", len(occ))
			}
			for _, o := range occ {
				l := o.Start.In(ny)
				if !c.p.has(l.Weekday()) || l.Format("15:04") != c.p.StartTime || o.End.In(ny).Format("15:04") != c.p.EndTime {
					t.Fatalf("occurrence %s–%s is not on the pattern", l, o.End.In(ny))
				}
			}
		})
	}
}

// has reports whether p's days include d.
func (p weeklyPattern) has(d time.Weekday) bool {
	for _, w := range weekdays {
		for _, c := range p.Days {
			if w.code == c && w.day == d {
				return true
			}
		}
	}
	return false
}
