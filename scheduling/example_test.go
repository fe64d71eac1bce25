package scheduling_test

import (
	"fmt"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/google/uuid"
)

// A weekly block keeps its local wall-clock times across a DST change: the
// Thursday clinic opens at 09:00 in New York before and after 8 March 2026,
// so in UTC it moves from 14:00 to 13:00.
func ExampleExpand() {
	ny, _ := time.LoadLocation("America/New_York")
	b := &scheduling.Block{
		TimeZone: "America/New_York",
		Start:    time.Date(2026, time.February, 26, 9, 0, 0, 0, ny),
		End:      time.Date(2026, time.February, 26, 12, 0, 0, 0, ny),
		RRule:    "FREQ=WEEKLY;BYDAY=TH",
		Capacity: 1,
	}
	occs, err := scheduling.Expand(b, time.Date(2026, time.March, 1, 0, 0, 0, 0, ny), time.Date(2026, time.March, 20, 0, 0, 0, 0, ny))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range occs {
		fmt.Printf("%s local = %s–%s UTC\n",
			o.Start.In(ny).Format("Mon Jan 2 15:04 MST"), o.Start.Format("15:04"), o.End.Format("15:04"))
	}
	// Output:
	// Thu Mar 5 09:00 EST local = 14:00–17:00 UTC
	// Thu Mar 12 09:00 EDT local = 13:00–16:00 UTC
	// Thu Mar 19 09:00 EDT local = 13:00–16:00 UTC
}

// OpenSlots is a pure function: given a provider's availability and the
// times already held, it lists the start times a visit type can take. Here a
// 30-minute visit, offered every 20 minutes with a 10-minute buffer after it,
// fits around an appointment held from 09:40 to 10:20.
func ExampleOpenSlots() {
	ny, _ := time.LoadLocation("America/New_York")
	at := func(h, m int) time.Time { return time.Date(2026, time.May, 4, h, m, 0, 0, ny) }
	provider, block := uuid.New(), uuid.New()
	in := scheduling.SlotInput{
		Occurrences: []scheduling.Occurrence{
			{BlockID: block, ProviderID: provider, Start: at(9, 0), End: at(11, 0), Capacity: 1},
		},
		ProviderHolds: []scheduling.Hold{
			// An appointment from 09:40 to 10:10, plus its 10-minute buffer.
			{AppointmentID: uuid.New(), OwnerID: provider, BlockID: block, Seat: 1, Start: at(9, 40), End: at(10, 20)},
		},
		Visit: &scheduling.VisitType{Duration: 30 * time.Minute, BufferAfter: 10 * time.Minute, Step: 20 * time.Minute},
		From:  at(0, 0),
		To:    at(23, 59),
	}
	for _, s := range scheduling.OpenSlots(in) {
		fmt.Printf("%s–%s, %d seat left\n", s.Start.In(ny).Format("15:04"), s.End.In(ny).Format("15:04"), s.SeatsLeft)
	}
	// Output:
	// 09:00–09:30, 1 seat left
	// 10:20–10:50, 1 seat left
}

// ValidNPI checks an NPI's length, digits and Luhn check digit (computed with
// the prefix 80840, as CMS specifies); it does not ask the NPI registry.
func ExampleValidNPI() {
	for _, npi := range []string{"1234567893", "1234567890", "123456789", "12345678A3"} {
		fmt.Println(npi, scheduling.ValidNPI(npi))
	}
	// Output:
	// 1234567893 true
	// 1234567890 false
	// 123456789 false
	// 12345678A3 false
}
