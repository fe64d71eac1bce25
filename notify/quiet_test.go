package notify

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReminderTime(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	const qs, qe = 21 * 60, 8 * 60
	booked := at(ny, 2026, 1, 1, 12, 0)
	tests := []struct {
		name   string
		loc    *time.Location
		start  time.Time
		offset time.Duration
		now    time.Time
		want   time.Time // zero: not sent
	}{
		{"24h before, plain", ny, at(ny, 2026, 1, 20, 10, 0), 24 * time.Hour, booked, at(ny, 2026, 1, 19, 10, 0)},
		{"2h before, plain", ny, at(ny, 2026, 1, 20, 14, 0), 2 * time.Hour, booked, at(ny, 2026, 1, 20, 12, 0)},
		// Spring forward in New York: 2026-03-08 02:00 → 03:00. The day
		// before a Monday 09:00 visit is Sunday 09:00 local, 23 real hours.
		{"24h across spring forward keeps wall clock", ny, at(ny, 2026, 3, 9, 9, 0), 24 * time.Hour, booked, at(ny, 2026, 3, 8, 9, 0)},
		// Fall back in Berlin: 2026-10-25 03:00 → 02:00; 25 real hours.
		{"24h across fall back keeps wall clock", berlin, at(berlin, 2026, 10, 26, 9, 0), 24 * time.Hour, booked, at(berlin, 2026, 10, 25, 9, 0)},
		{"2h before an 08:30 visit waits for quiet end", ny, at(ny, 2026, 1, 20, 9, 30), 2 * time.Hour, booked, at(ny, 2026, 1, 20, 8, 0)},
		{"2h before an 08:15 visit goes the evening before", ny, at(ny, 2026, 1, 20, 8, 15), 2 * time.Hour, booked, at(ny, 2026, 1, 19, 20, 59)},
		{"24h before a 07:00 visit, due 07:00 in quiet, waits to 08:00", ny, at(ny, 2026, 1, 20, 7, 0), 24 * time.Hour, booked, at(ny, 2026, 1, 19, 8, 0)},
		{"booked too late for it", ny, at(ny, 2026, 1, 1, 18, 0), 24 * time.Hour, booked, time.Time{}},
		{"moved before now", ny, at(ny, 2026, 1, 2, 7, 30), 2 * time.Hour, at(ny, 2026, 1, 1, 22, 0), time.Time{}},
		{"23:00 visit, 1h before is in quiet, evening before the quiet", ny, at(ny, 2026, 1, 20, 23, 0), time.Hour, booked, at(ny, 2026, 1, 20, 20, 59)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ReminderTime(tc.start.UTC(), tc.offset, tc.loc, qs, qe, tc.now.UTC())
			if tc.want.IsZero() {
				assert.False(t, ok, "sent at %v", got.In(tc.loc))
				return
			}
			require.True(t, ok)
			assert.Equal(t, tc.want.UTC(), got, "got %v", got.In(tc.loc))
		})
	}
}

func TestReminderTimeNoQuietHours(t *testing.T) {
	start := time.Date(2026, 1, 20, 7, 0, 0, 0, time.UTC)
	got, ok := ReminderTime(start, 2*time.Hour, time.UTC, 0, 0, start.AddDate(0, 0, -5))
	require.True(t, ok)
	assert.Equal(t, start.Add(-2*time.Hour), got)
}

func TestInQuiet(t *testing.T) {
	tests := []struct {
		qs, qe, h, m int
		want         bool
	}{
		{21 * 60, 8 * 60, 22, 0, true},
		{21 * 60, 8 * 60, 7, 59, true},
		{21 * 60, 8 * 60, 8, 0, false},
		{21 * 60, 8 * 60, 20, 59, false},
		{13 * 60, 14 * 60, 13, 30, true}, // a lunch break, not wrapping
		{13 * 60, 14 * 60, 14, 0, false},
		{0, 0, 3, 0, false},
	}
	for _, tc := range tests {
		got := inQuiet(time.Date(2026, 1, 1, tc.h, tc.m, 0, 0, time.UTC), tc.qs, tc.qe)
		assert.Equal(t, tc.want, got, "%d-%d at %02d:%02d", tc.qs, tc.qe, tc.h, tc.m)
	}
}

func TestNextSendable(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	late := time.Date(2026, 1, 5, 23, 0, 0, 0, ny)
	assert.Equal(t, time.Date(2026, 1, 6, 8, 0, 0, 0, ny).UTC(), NextSendable(late, ny, 21*60, 8*60))
	noon := time.Date(2026, 1, 5, 12, 0, 0, 0, ny)
	assert.Equal(t, noon.UTC(), NextSendable(noon, ny, 21*60, 8*60))
}
