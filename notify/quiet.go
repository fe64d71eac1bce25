package notify

import "time"

// minLead is the least time between a moved reminder and the visit: a
// reminder that quiet hours would push closer than this goes out before
// the quiet hours instead.
const minLead = 30 * time.Minute

// inQuiet reports whether t (in its zone) falls inside the quiet hours
// [qs, qe), minutes after midnight, which may wrap past midnight.
func inQuiet(t time.Time, qs, qe int) bool {
	if qs == qe {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	if qs < qe {
		return m >= qs && m < qe
	}
	return m >= qs || m < qe
}

// atMinute returns the instant on t's local date at minute m after
// midnight (DST-correct: time.Date normalizes a time inside a gap).
func atMinute(t time.Time, m int) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), m/60, m%60, 0, 0, t.Location())
}

// quietEnd returns when the quiet hours holding t end.
func quietEnd(t time.Time, qs, qe int) time.Time {
	end := atMinute(t, qe)
	if !end.After(t) {
		end = atMinute(t.AddDate(0, 0, 1), qe)
	}
	return end
}

// quietStart returns when the quiet hours holding t began.
func quietStart(t time.Time, qs, qe int) time.Time {
	start := atMinute(t, qs)
	if start.After(t) {
		start = atMinute(t.AddDate(0, 0, -1), qs)
	}
	return start
}

// ReminderTime returns when a reminder offset before a visit starting at
// start goes out, and false when it should not be sent at all. The offset is
// taken in the location's local time (loc): a 24-hour reminder comes at the
// same wall-clock time the day before, across a DST change too. A time in
// quiet hours moves to their end when that still leaves minLead before the
// visit, else to just before they began; a time before now (a visit booked
// late) or not before the visit is dropped.
func ReminderTime(start time.Time, offset time.Duration, loc *time.Location, qs, qe int, now time.Time) (time.Time, bool) {
	local := start.In(loc)
	days := int(offset / (24 * time.Hour))
	due := local.AddDate(0, 0, -days).Add(-(offset - time.Duration(days)*24*time.Hour))
	if inQuiet(due, qs, qe) {
		if end := quietEnd(due, qs, qe); !end.Add(minLead).After(local) {
			due = end
		} else {
			due = quietStart(due, qs, qe).Add(-time.Minute)
		}
	}
	if due.Before(now) || !due.Before(start) {
		return time.Time{}, false
	}
	return due.UTC(), true
}

// NextSendable returns t, or the end of the quiet hours holding t (in loc).
func NextSendable(t time.Time, loc *time.Location, qs, qe int) time.Time {
	l := t.In(loc)
	if !inQuiet(l, qs, qe) {
		return t.UTC()
	}
	return quietEnd(l, qs, qe).UTC()
}
