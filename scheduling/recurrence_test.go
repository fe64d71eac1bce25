package scheduling

import (
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func weeklyBlock(loc *time.Location, first time.Time, hours time.Duration, rule string) *Block {
	return &Block{ID: uuid.New(), ProviderID: uuid.New(), LocationID: uuid.New(), TimeZone: loc.String(),
		Start: first, End: first.Add(hours), RRule: rule, Capacity: 1}
}

// TestExpandAcrossDST checks that a weekly 09:00–12:00 block keeps its local
// times across both changeovers, in both hemispheres' rules, and that every
// week has exactly one occurrence.
func TestExpandAcrossDST(t *testing.T) {
	cases := []struct {
		zone       string
		first      time.Time // a Monday before the spring change, local 09:00
		from, to   string
		wantWeeks  int
		springDate string // a Monday after the spring change
		fallDate   string // a Monday after the fall change
	}{
		{"America/New_York", time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC), "2026-02-01", "2026-12-01", 44, "2026-03-09", "2026-11-02"},
		{"Europe/Berlin", time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC), "2026-02-01", "2026-12-01", 44, "2026-03-30", "2026-10-26"},
	}
	for _, c := range cases {
		t.Run(c.zone, func(t *testing.T) {
			loc := mustZone(t, c.zone)
			first := time.Date(c.first.Year(), c.first.Month(), c.first.Day(), 9, 0, 0, 0, loc)
			b := weeklyBlock(loc, first, 3*time.Hour, "FREQ=WEEKLY;BYDAY=MO")
			from, _ := time.ParseInLocation(dateLayout, c.from, loc)
			to, _ := time.ParseInLocation(dateLayout, c.to, loc)
			occs, err := Expand(b, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(occs), c.wantWeeks; got != want {
				t.Fatalf("occurrences = %d, want %d", got, want)
			}
			seen := map[string]bool{}
			for _, o := range occs {
				s, e := o.Start.In(loc), o.End.In(loc)
				if s.Hour() != 9 || s.Minute() != 0 || e.Hour() != 12 || e.Minute() != 0 {
					t.Errorf("occurrence %v–%v is not 09:00–12:00 local", s, e)
				}
				if s.Weekday() != time.Monday {
					t.Errorf("occurrence on %v", s.Weekday())
				}
				if got := o.End.Sub(o.Start); got != 3*time.Hour {
					t.Errorf("occurrence %v lasts %v", s, got)
				}
				d := s.Format(dateLayout)
				if seen[d] {
					t.Errorf("two occurrences on %s", d)
				}
				seen[d] = true
			}
			for _, d := range []string{c.springDate, c.fallDate} {
				if !seen[d] {
					t.Errorf("no occurrence on %s", d)
				}
			}
		})
	}
}

// TestSlotsAcrossDST runs the slot search over the same blocks: every Monday
// offers 09:00, 09:30 … 11:30 local, no more and no fewer.
func TestSlotsAcrossDST(t *testing.T) {
	for _, zone := range []string{"America/New_York", "Europe/Berlin"} {
		t.Run(zone, func(t *testing.T) {
			loc := mustZone(t, zone)
			first := time.Date(2026, 3, 2, 9, 0, 0, 0, loc)
			b := weeklyBlock(loc, first, 3*time.Hour, "FREQ=WEEKLY;BYDAY=MO")
			from := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
			to := time.Date(2026, 11, 30, 0, 0, 0, 0, loc)
			occs, err := Expand(b, from, to)
			if err != nil {
				t.Fatal(err)
			}
			slots := OpenSlots(SlotInput{Occurrences: occs, Visit: &VisitType{Duration: 30 * time.Minute}, From: from, To: to})
			perDay := map[string][]string{}
			for _, s := range slots {
				l := s.Start.In(loc)
				perDay[l.Format(dateLayout)] = append(perDay[l.Format(dateLayout)], l.Format("15:04"))
			}
			want := []string{"09:00", "09:30", "10:00", "10:30", "11:00", "11:30"}
			if len(perDay) != len(occs) {
				t.Fatalf("%d days with slots, want %d", len(perDay), len(occs))
			}
			for d, got := range perDay {
				if len(got) != len(want) {
					t.Fatalf("%s: slots %v, want %v", d, got, want)
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%s: slots %v, want %v", d, got, want)
					}
				}
			}
		})
	}
}

func TestExpandExceptionsAndOverrides(t *testing.T) {
	loc := mustZone(t, "America/New_York")
	first := time.Date(2026, 11, 2, 9, 0, 0, 0, loc) // a Monday
	b := weeklyBlock(loc, first, 3*time.Hour, "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6")
	b.ExDates = []string{"2026-11-04"}
	b.Overrides = []Override{
		{Date: "2026-11-09", Start: "13:00", End: "15:00"}, // replaces Monday's occurrence
		{Date: "2026-11-14", Start: "10:00", End: "11:00"}, // a Saturday, added
	}
	occs, err := Expand(b, first.Add(-time.Hour), first.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range occs {
		got = append(got, o.Start.In(loc).Format("01-02 15:04")+"-"+o.End.In(loc).Format("15:04"))
	}
	want := []string{"11-02 09:00-12:00", "11-09 13:00-15:00", "11-11 09:00-12:00", "11-14 10:00-11:00", "11-16 09:00-12:00", "11-18 09:00-12:00"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	rec, err := parseRecurrence("test", b)
	if err != nil {
		t.Fatal(err)
	}
	end, err := rec.spanEnd("test", b)
	if err != nil || end == nil {
		t.Fatalf("spanEnd = %v, %v", end, err)
	}
	if got, want := end.In(loc).Format("2006-01-02 15:04"), "2026-11-18 12:00"; got != want {
		t.Errorf("spanEnd = %s, want %s", got, want)
	}
}

func TestExpandOvernightAndOneOff(t *testing.T) {
	loc := mustZone(t, "Europe/Berlin")
	// A night shift 22:00–06:00 across the October change: 9 hours that night.
	first := time.Date(2026, 10, 23, 22, 0, 0, 0, loc)
	b := weeklyBlock(loc, first, 8*time.Hour, "FREQ=DAILY;COUNT=3")
	occs, err := Expand(b, first, first.AddDate(0, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
	if len(occs) != 3 {
		t.Fatalf("got %d occurrences", len(occs))
	}
	if got := occs[1].End.Sub(occs[1].Start); got != 9*time.Hour {
		t.Errorf("the night of the change lasts %v, want 9h", got)
	}
	for _, o := range occs {
		if o.End.In(loc).Hour() != 6 {
			t.Errorf("ends at %v", o.End.In(loc))
		}
	}
	one := weeklyBlock(loc, first, time.Hour, "")
	if occs, _ := Expand(one, first.Add(30*time.Minute), first.Add(2*time.Hour)); len(occs) != 1 {
		t.Errorf("one-off overlapping the window: %d occurrences", len(occs))
	}
	if occs, _ := Expand(one, first.Add(time.Hour), first.Add(2*time.Hour)); len(occs) != 0 {
		t.Errorf("one-off ending at the window's start: %d occurrences", len(occs))
	}
}

func TestParseRecurrenceRefuses(t *testing.T) {
	loc := mustZone(t, "America/Chicago")
	first := time.Date(2026, 6, 1, 9, 0, 0, 0, loc)
	cases := []struct {
		name  string
		edit  func(b *Block)
		field string
	}{
		{"unknown zone", func(b *Block) { b.TimeZone = "Mars/Olympus" }, "time_zone"},
		{"local zone", func(b *Block) { b.TimeZone = "Local" }, "time_zone"},
		{"end before start", func(b *Block) { b.End = b.Start.Add(-time.Hour) }, "end"},
		{"zero length", func(b *Block) { b.End = b.Start }, "end"},
		{"too long", func(b *Block) { b.End = b.Start.Add(25 * time.Hour) }, "end"},
		{"bad rule", func(b *Block) { b.RRule = "FREQ=SOMETIMES" }, "rrule"},
		{"bad weekday", func(b *Block) { b.RRule = "FREQ=WEEKLY;BYDAY=XX" }, "rrule"},
		{"hourly", func(b *Block) { b.RRule = "FREQ=HOURLY" }, "rrule"},
		{"dtstart inside", func(b *Block) { b.RRule = "DTSTART=20260101T000000Z;FREQ=DAILY" }, "rrule"},
		{"byhour", func(b *Block) { b.RRule = "FREQ=DAILY;BYHOUR=10" }, "rrule"},
		{"monthly ordinal beyond five", func(b *Block) { b.RRule = "FREQ=MONTHLY;BYDAY=6FR" }, "rrule"},
		{"monthly ordinal below minus five", func(b *Block) { b.RRule = "FREQ=MONTHLY;BYDAY=-6FR" }, "rrule"},
		{"weekly ordinal", func(b *Block) { b.RRule = "FREQ=WEEKLY;BYDAY=2MO" }, "rrule"},
		{"huge interval", func(b *Block) { b.RRule = "FREQ=MONTHLY;INTERVAL=9223372036854775807" }, "rrule"},
		{"february 30th", func(b *Block) { b.RRule = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30" }, "rrule"},
		{"bysetpos unsupported", func(b *Block) { b.RRule = "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1" }, "rrule"},
		{"byyearday unsupported", func(b *Block) { b.RRule = "FREQ=YEARLY;BYYEARDAY=366" }, "rrule"},
		{"bad exdate", func(b *Block) { b.RRule = "FREQ=DAILY"; b.ExDates = []string{"06/02/2026"} }, "exdates"},
		{"exdate on one-off", func(b *Block) { b.ExDates = []string{"2026-06-02"} }, "rrule"},
		{"override backwards", func(b *Block) {
			b.RRule = "FREQ=DAILY"
			b.Overrides = []Override{{Date: "2026-06-02", Start: "12:00", End: "10:00"}}
		}, "overrides"},
		{"override bad clock", func(b *Block) {
			b.RRule = "FREQ=DAILY"
			b.Overrides = []Override{{Date: "2026-06-02", Start: "9am", End: "10:00"}}
		}, "overrides"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := weeklyBlock(loc, first, 3*time.Hour, "")
			c.edit(b)
			_, err := parseRecurrence("test", b)
			if got := errs.KindOf(err); err == nil || got != errs.KindInvalid {
				t.Fatalf("err = %v, want KindInvalid", err)
			}
			if got := errs.FieldOf(err); got != c.field {
				t.Errorf("field = %q, want %q", got, c.field)
			}
		})
	}
}

func TestSpanEnd(t *testing.T) {
	loc := mustZone(t, "UTC")
	first := time.Date(2026, 1, 5, 9, 0, 0, 0, loc)
	b := weeklyBlock(loc, first, time.Hour, "FREQ=DAILY")
	rec, _ := parseRecurrence("t", b)
	if end, err := rec.spanEnd("t", b); err != nil || end != nil {
		t.Errorf("unbounded rule: spanEnd = %v, %v; want nil", end, err)
	}
	b.RRule = "FREQ=DAILY;UNTIL=20260110T235959Z"
	rec, _ = parseRecurrence("t", b)
	if end, err := rec.spanEnd("t", b); err != nil || !end.Equal(time.Date(2026, 1, 10, 10, 0, 0, 0, loc)) {
		t.Errorf("until rule: spanEnd = %v, %v", end, err)
	}
	b.RRule = "FREQ=DAILY;COUNT=9000"
	rec, _ = parseRecurrence("t", b)
	if _, err := rec.spanEnd("t", b); errs.FieldOf(err) != "rrule" {
		t.Errorf("huge finite rule: err = %v, want rrule refused", err)
	}
}

// TestRuleNearMatchesFullWalk checks that moving a rule's start forward
// (done to expand far windows fast) yields exactly the occurrences that a
// walk from the block's real start does.
func TestRuleNearMatchesFullWalk(t *testing.T) {
	rules := []string{
		"FREQ=DAILY", "FREQ=DAILY;INTERVAL=3", "FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=MO,WE,FR",
		"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "FREQ=WEEKLY;INTERVAL=3;WKST=SU;BYDAY=SU,SA",
		"FREQ=DAILY;BYDAY=MO,TU;BYMONTH=3,11", "FREQ=WEEKLY;UNTIL=20291231T000000Z;BYDAY=FR",
		"FREQ=MONTHLY;BYDAY=2TU", "FREQ=DAILY;COUNT=900",
	}
	for _, zone := range []string{"America/New_York", "Europe/Berlin", "Australia/Sydney"} {
		loc := mustZone(t, zone)
		first := time.Date(2024, 2, 14, 8, 30, 0, 0, loc) // a Wednesday
		for _, rule := range rules {
			b := weeklyBlock(loc, first, 4*time.Hour, rule)
			rec, err := parseRecurrence("t", b)
			if err != nil {
				t.Fatalf("%s: %v", rule, err)
			}
			for _, from := range []time.Time{first.AddDate(0, 0, 3), first.AddDate(0, 7, 11), first.AddDate(2, 1, 17), first.AddDate(5, 8, 2)} {
				to := from.AddDate(0, 0, 45)
				got := rec.ruleNear(from).Between(from, to, true)
				want := rec.rule.Between(from, to, true)
				if len(got) != len(want) {
					t.Fatalf("%s %s from %v: %d occurrences, want %d", zone, rule, from, len(got), len(want))
				}
				for i := range want {
					if !got[i].Equal(want[i]) {
						t.Fatalf("%s %s from %v: occurrence %d at %v, want %v", zone, rule, from, i, got[i], want[i])
					}
				}
			}
		}
	}
}
