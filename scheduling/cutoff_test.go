package scheduling

import (
	"testing"
	"time"
)

// TestPastCutoff: a patient may change a visit until exactly the cut-off
// before its start, not after.
func TestPastCutoff(t *testing.T) {
	start := time.Date(2030, 3, 5, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		cutoff time.Duration
		now    time.Time
		want   bool
	}{
		{24 * time.Hour, start.Add(-25 * time.Hour), false},
		{24 * time.Hour, start.Add(-24 * time.Hour), false},
		{24 * time.Hour, start.Add(-24*time.Hour + time.Second), true},
		{0, start.Add(-time.Second), false},
		{0, start, false},
		{0, start.Add(time.Second), true},
	} {
		if got := PastCutoff(tc.cutoff, tc.now, start); got != tc.want {
			t.Errorf("PastCutoff(%v, start%+v) = %v, want %v", tc.cutoff, tc.now.Sub(start), got, tc.want)
		}
	}
}
