package scheduling_test

import (
	"fmt"
	"runtime/debug"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/google/uuid"
)

// expandDeadline is how long one Expand over a 60-day window may take before
// the fuzzer calls it a hang. Real expansions take well under a millisecond;
// the margin is for a loaded machine.
const expandDeadline = 2 * time.Second

// FuzzExpandRRule feeds arbitrary RRULEs, first occurrences, window starts,
// exception dates and overrides to Expand in Europe/Berlin, whose DST changes
// fall inside the windows. Expand must refuse a bad block with KindInvalid or
// return, quickly, occurrences that overlap the window, end after they start,
// come in order, skip exception dates, and keep the block's wall-clock start
// (or the override's) whenever that time exists on the day.
func FuzzExpandRRule(f *testing.F) {
	type seed struct {
		rule                 string
		startMin, durMin     uint16
		dayOff, winOff       int16
		exDay, ovDay         int16
		ovStartMin, ovEndMin uint16
	}
	seeds := []seed{
		{"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", 9 * 60, 180, 0, 0, -1, -1, 0, 0},
		{"FREQ=WEEKLY;BYDAY=SA", 9 * 60, 180, 5, 10, 19, 26, 10 * 60, 11 * 60},
		{"FREQ=DAILY", 2*60 + 30, 60, 0, 0, -1, -1, 0, 0}, // 02:30 vanishes on 29 March
		{"FREQ=DAILY", 2*60 + 30, 60, 200, 200, -1, -1, 0, 0},
		{"FREQ=DAILY;INTERVAL=2;COUNT=10", 23 * 60, 120, 0, 0, 4, 6, 8 * 60, 9 * 60},
		{"FREQ=MONTHLY;BYDAY=-1FR", 17 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=MONTHLY;BYMONTHDAY=31", 8 * 60, 30, 0, 30, -1, -1, 0, 0},
		{"FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", 1 * 60, 1439, 0, 0, -1, -1, 0, 0},
		{"RRULE:FREQ=WEEKLY;UNTIL=20260601T000000Z;BYDAY=TU", 13 * 60, 240, 0, 0, -1, -1, 0, 0},
		{"FREQ=WEEKLY;WKST=SU;INTERVAL=3;BYDAY=SU,WE", 0, 1440, 1, 0, -1, -1, 0, 0},
		{"FREQ=DAILY;BYSETPOS=1", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"freq=weekly;byday=mo", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		// Rules that must be refused, or expand without trouble.
		{"FREQ=HOURLY", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=WEEKLY;BYHOUR=9", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=WEEKLY;DTSTART=20260301T090000Z", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=DAILY;INTERVAL=-1", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=DAILY;COUNT=-5", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=DAILY;INTERVAL=0", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=DAILY;INTERVAL=9223372036854775807", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=31", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=YEARLY;BYYEARDAY=366;BYMONTH=1", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=MONTHLY;BYDAY=+60MO", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=DAILY;BYSETPOS=0", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=YEARLY;BYWEEKNO=54", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=WEEKLY;UNTIL=bogus", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ=WEEKLY;;BYDAY=", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"FREQ", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
		{"not a rule", 9 * 60, 60, 0, 0, -1, -1, 0, 0},
	}
	for _, s := range seeds {
		f.Add(s.rule, s.startMin, s.durMin, s.dayOff, s.winOff, s.exDay, s.ovDay, s.ovStartMin, s.ovEndMin)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	// base is a few weeks before the spring DST change (29 March 2026); the
	// offsets reach past the autumn one (25 October 2026).
	base := time.Date(2026, time.March, 1, 0, 0, 0, 0, berlin)
	day := func(off int16) time.Time { return base.AddDate(0, 0, int(off)%400) }
	f.Fuzz(func(t *testing.T, rule string, startMin, durMin uint16, dayOff, winOff, exDay, ovDay int16, ovStartMin, ovEndMin uint16) {
		first := day(dayOff)
		start := time.Date(first.Year(), first.Month(), first.Day(), 0, int(startMin%1440), 0, 0, berlin)
		b := &scheduling.Block{
			ID:         uuid.MustParse("0192a3c4-0000-7000-8000-000000000001"),
			ProviderID: uuid.MustParse("0192a3c4-0000-7000-8000-000000000002"),
			LocationID: uuid.MustParse("0192a3c4-0000-7000-8000-000000000003"),
			TimeZone:   "Europe/Berlin",
			Start:      start,
			End:        start.Add(time.Duration(1+int(durMin)%1440) * time.Minute),
			RRule:      rule,
			Capacity:   3,
		}
		if exDay >= 0 {
			b.ExDates = []string{day(exDay).Format(time.DateOnly)}
		}
		if ovDay >= 0 {
			b.Overrides = []scheduling.Override{{
				Date:  day(ovDay).Format(time.DateOnly),
				Start: hhmm(ovStartMin), End: hhmm(ovEndMin),
			}}
		}
		from := day(winOff)
		to := from.AddDate(0, 0, 60)

		// Expand runs in a goroutine so that a hang is reported, with its
		// input, instead of stalling the fuzzer; a panic is recovered there and
		// reported as a failure, so that it does not take the other tests of
		// the package down with it.
		type result struct {
			occs  []scheduling.Occurrence
			err   error
			panic any
			stack []byte
		}
		done := make(chan result, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					done <- result{panic: p, stack: debug.Stack()}
				}
			}()
			occs, err := scheduling.Expand(b, from, to)
			done <- result{occs: occs, err: err}
		}()
		input := fmt.Sprintf("rrule %q, first %v–%v, exdates %v, overrides %v, window %v–%v",
			rule, b.Start, b.End, b.ExDates, b.Overrides, from, to)
		var r result
		select {
		case r = <-done:
		case <-time.After(expandDeadline):
			t.Fatalf("Expand did not return within %v: %s", expandDeadline, input)
		}
		if r.panic != nil {
			t.Fatalf("Expand panicked: %v\ninput: %s\n%s", r.panic, input, r.stack)
		}
		if r.err != nil {
			if k := errs.KindOf(r.err); k != errs.KindInvalid {
				t.Fatalf("Expand refused %q with kind %v, want invalid: %v", rule, k, r.err)
			}
			return
		}
		checkOccurrences(t, b, r.occs, from, to)
	})
}

// hhmm renders minutes of the day (mod 24 h) as "HH:MM".
func hhmm(m uint16) string {
	m %= 1440
	return time.Date(2000, 1, 1, int(m/60), int(m%60), 0, 0, time.UTC).Format("15:04")
}

// checkOccurrences checks what Expand promises about the occurrences of b in
// [from, to).
func checkOccurrences(t *testing.T, b *scheduling.Block, occs []scheduling.Occurrence, from, to time.Time) {
	t.Helper()
	loc, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	// At most one occurrence per local day, and the window spans 60 days
	// (61 local dates, plus one that starts the day before).
	if len(occs) > 62 {
		t.Fatalf("%d occurrences in a 60-day window, want at most one a day", len(occs))
	}
	exdates := make(map[string]bool)
	for _, d := range b.ExDates {
		exdates[d] = true
	}
	overrides := make(map[string]scheduling.Override)
	for _, o := range b.Overrides {
		overrides[o.Date] = o
	}
	firstLocal := b.Start.In(loc)
	for i, o := range occs {
		if !o.End.After(o.Start) {
			t.Errorf("occurrence %d: end %v not after start %v (rrule %q, first %v–%v)",
				i, o.End.In(loc), o.Start.In(loc), b.RRule, b.Start.In(loc), b.End.In(loc))
		}
		if !o.Start.Before(to) || !o.End.After(from) {
			t.Errorf("occurrence %d: %v–%v does not overlap the window %v–%v", i, o.Start, o.End, from, to)
		}
		if i > 0 && o.Start.Before(occs[i-1].Start) {
			t.Errorf("occurrence %d starts at %v, before occurrence %d at %v", i, o.Start, i-1, occs[i-1].Start)
		}
		if o.BlockID != b.ID || o.ProviderID != b.ProviderID || o.LocationID != b.LocationID || o.Capacity != b.Capacity {
			t.Errorf("occurrence %d does not carry the block's IDs and capacity: %+v", i, o)
		}
		if o.Start.Location() != time.UTC || o.End.Location() != time.UTC {
			t.Errorf("occurrence %d is not in UTC: %v–%v", i, o.Start, o.End)
		}
		local := o.Start.In(loc)
		key := local.Format(time.DateOnly)
		if exdates[key] {
			t.Errorf("occurrence %d on excluded date %s", i, key)
		}
		wantH, wantM := firstLocal.Hour(), firstLocal.Minute()
		if ov, ok := overrides[key]; ok {
			c, _ := time.Parse("15:04", ov.Start)
			wantH, wantM = c.Hour(), c.Minute()
		}
		if wallClockExists(local, wantH, wantM) && (local.Hour() != wantH || local.Minute() != wantM) {
			t.Errorf("occurrence %d starts at %s local, want %02d:%02d (rrule %q)",
				i, local.Format("2006-01-02 15:04 MST"), wantH, wantM, b.RRule)
		}
	}
}

// wallClockExists reports whether local time hh:mm exists on d's date in d's
// zone (it does not in a spring-forward gap).
func wallClockExists(d time.Time, hh, mm int) bool {
	t := time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, d.Location())
	return t.Hour() == hh && t.Minute() == mm
}
