package scheduling

import (
	"testing"
	"time"

	"github.com/carebook/carebook/tenant"
)

func TestArrivalWindow(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	at := func(zone *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
		return time.Date(y, m, d, hh, mm, 0, 0, zone)
	}
	pol := func(early, late time.Duration) tenant.BookingPolicy {
		p := tenant.DefaultPolicy
		p.ArrivalEarly, p.ArrivalLate = early, late
		return p
	}
	cases := []struct {
		name        string
		pol         tenant.BookingPolicy
		zone        *time.Location
		start, end  time.Time
		from, until time.Time
	}{
		{"default: the visit's local day", tenant.DefaultPolicy, ny,
			at(ny, 2026, 12, 1, 9, 0), at(ny, 2026, 12, 1, 9, 30),
			at(ny, 2026, 12, 1, 0, 0), at(ny, 2026, 12, 2, 0, 0)},
		{"the local day, not UTC's", tenant.DefaultPolicy, ny,
			at(ny, 2026, 12, 1, 21, 0), at(ny, 2026, 12, 1, 21, 30), // 02:00 UTC on the 2nd
			at(ny, 2026, 12, 1, 0, 0), at(ny, 2026, 12, 2, 0, 0)},
		{"east of UTC", tenant.DefaultPolicy, tokyo,
			at(tokyo, 2026, 12, 1, 8, 0), at(tokyo, 2026, 12, 1, 8, 20), // 23:00 UTC on the 30th
			at(tokyo, 2026, 12, 1, 0, 0), at(tokyo, 2026, 12, 2, 0, 0)},
		{"a visit past midnight ends the window at its end", tenant.DefaultPolicy, ny,
			at(ny, 2026, 12, 1, 23, 30), at(ny, 2026, 12, 2, 0, 30),
			at(ny, 2026, 12, 1, 0, 0), at(ny, 2026, 12, 2, 0, 30)},
		{"a 23-hour day (DST begins)", tenant.DefaultPolicy, ny,
			at(ny, 2026, 3, 8, 9, 0), at(ny, 2026, 3, 8, 9, 30),
			at(ny, 2026, 3, 8, 0, 0), at(ny, 2026, 3, 9, 0, 0)},
		{"a 25-hour day (DST ends)", tenant.DefaultPolicy, ny,
			at(ny, 2026, 11, 1, 9, 0), at(ny, 2026, 11, 1, 9, 30),
			at(ny, 2026, 11, 1, 0, 0), at(ny, 2026, 11, 2, 0, 0)},
		{"minutes before and after", pol(30*time.Minute, 15*time.Minute), ny,
			at(ny, 2026, 12, 1, 9, 0), at(ny, 2026, 12, 1, 9, 30),
			at(ny, 2026, 12, 1, 8, 30), at(ny, 2026, 12, 1, 9, 45)},
		{"early only: until the end of the day", pol(time.Hour, 0), ny,
			at(ny, 2026, 12, 1, 0, 30), at(ny, 2026, 12, 1, 1, 0),
			at(ny, 2026, 11, 30, 23, 30), at(ny, 2026, 12, 2, 0, 0)},
		{"late only: from the start of the day", pol(0, 2*time.Hour), ny,
			at(ny, 2026, 12, 1, 23, 0), at(ny, 2026, 12, 1, 23, 30),
			at(ny, 2026, 12, 1, 0, 0), at(ny, 2026, 12, 2, 1, 30)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from, until := ArrivalWindow(c.pol, c.start, c.end, c.zone)
			if !from.Equal(c.from) || !until.Equal(c.until) {
				t.Errorf("ArrivalWindow = [%v, %v), want [%v, %v)", from.In(c.zone), until.In(c.zone), c.from, c.until)
			}
			if from.Location() != time.UTC || until.Location() != time.UTC {
				t.Errorf("window not in UTC: %v, %v", from, until)
			}
		})
	}
}
