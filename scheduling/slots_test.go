package scheduling

import (
	"testing"
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

func TestOpenSlots(t *testing.T) {
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(hhmm string) time.Time {
		c, err := time.Parse("15:04", hhmm)
		if err != nil {
			t.Fatal(err)
		}
		return day.Add(time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute)
	}
	prov, other := uuid.New(), uuid.New()
	blk, otherBlk := uuid.New(), uuid.New()
	room := uuid.New()
	locA, locB := uuid.New(), uuid.New()
	occ := func(from, to string, capacity int) Occurrence {
		return Occurrence{BlockID: blk, ProviderID: prov, LocationID: locA, Start: at(from), End: at(to), Capacity: capacity}
	}
	hold := func(owner uuid.UUID, block BlockID, seat int, from, to string) Hold {
		return Hold{AppointmentID: uuid.New(), OwnerID: owner, BlockID: block, Seat: seat, Start: at(from), End: at(to)}
	}
	visit := func(d, before, after, step time.Duration, res ...ResourceID) *VisitType {
		return &VisitType{Duration: d, BufferBefore: before, BufferAfter: after, Step: step, ResourceIDs: res}
	}
	m := time.Minute
	cases := []struct {
		name string
		in   SlotInput
		want []string // local starts, "15:04/seats"
	}{
		{
			name: "empty block, step is the duration",
			in:   SlotInput{Occurrences: []Occurrence{occ("09:00", "11:00", 1)}, Visit: visit(30*m, 0, 0, 0)},
			want: []string{"09:00/1", "09:30/1", "10:00/1", "10:30/1"},
		},
		{
			name: "a visit must end inside the block",
			in:   SlotInput{Occurrences: []Occurrence{occ("09:00", "10:50", 1)}, Visit: visit(30*m, 0, 0, 0)},
			want: []string{"09:00/1", "09:30/1", "10:00/1"},
		},
		{
			name: "explicit step",
			in:   SlotInput{Occurrences: []Occurrence{occ("09:00", "10:00", 1)}, Visit: visit(30*m, 0, 0, 15*m)},
			want: []string{"09:00/1", "09:15/1", "09:30/1"},
		},
		{
			name: "a booked visit removes overlapping starts",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "11:00", 1)}, Visit: visit(30*m, 0, 0, 0),
				ProviderHolds: []Hold{hold(prov, blk, 1, "09:30", "10:00")}},
			want: []string{"09:00/1", "10:00/1", "10:30/1"},
		},
		{
			name: "buffers widen the held time",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "11:00", 1)}, Visit: visit(30*m, 0, 10*m, 0),
				ProviderHolds: []Hold{hold(prov, blk, 1, "10:00", "10:30")}},
			want: []string{"09:00/1", "10:30/1"}, // 09:30 would hold until 10:10
		},
		{
			name: "buffer before collides with the previous visit",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "11:00", 1)}, Visit: visit(30*m, 15*m, 0, 0),
				ProviderHolds: []Hold{hold(prov, blk, 1, "09:00", "09:30")}},
			want: []string{"10:00/1", "10:30/1"},
		},
		{
			name: "holds of other providers do not matter",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "10:00", 1)}, Visit: visit(30*m, 0, 0, 0),
				ProviderHolds: []Hold{hold(other, otherBlk, 1, "09:00", "10:00")}},
			want: []string{"09:00/1", "09:30/1"},
		},
		{
			name: "group block counts seats",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "10:00", 3)}, Visit: visit(60*m, 0, 0, 0),
				ProviderHolds: []Hold{hold(prov, blk, 1, "09:00", "10:00"), hold(prov, blk, 3, "09:00", "10:00")}},
			want: []string{"09:00/1"},
		},
		{
			name: "group block full",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "10:00", 2)}, Visit: visit(60*m, 0, 0, 0),
				ProviderHolds: []Hold{hold(prov, blk, 1, "09:00", "10:00"), hold(prov, blk, 2, "09:00", "10:00")}},
			want: nil,
		},
		{
			name: "a hold from another block of the provider takes every seat",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "10:00", 3)}, Visit: visit(30*m, 0, 0, 0),
				ProviderHolds: []Hold{hold(prov, otherBlk, 1, "08:30", "09:15")}},
			want: []string{"09:30/3"},
		},
		{
			name: "a busy resource removes starts",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "10:00", 1)}, Visit: visit(30*m, 0, 0, 0, room),
				ResourceLocation: map[ResourceID]tenant.LocationID{room: locA},
				ResourceHolds:    []Hold{hold(room, otherBlk, 0, "09:00", "09:30")}},
			want: []string{"09:30/1"},
		},
		{
			name: "a resource held in the same block is shared",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "10:00", 4)}, Visit: visit(60*m, 0, 0, 0, room),
				ResourceLocation: map[ResourceID]tenant.LocationID{room: locA},
				ProviderHolds:    []Hold{hold(prov, blk, 1, "09:00", "10:00")},
				ResourceHolds:    []Hold{hold(room, blk, 0, "09:00", "10:00")}},
			want: []string{"09:00/3"},
		},
		{
			name: "a resource at another location rules the block out",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "10:00", 1)}, Visit: visit(30*m, 0, 0, 0, room),
				ResourceLocation: map[ResourceID]tenant.LocationID{room: locB}},
			want: nil,
		},
		{
			name: "location filter",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "10:00", 1)}, Visit: visit(30*m, 0, 0, 0),
				Location: &locB},
			want: nil,
		},
		{
			name: "earliest (minimum notice) rounds up to the next step",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "11:00", 1)}, Visit: visit(30*m, 0, 0, 0),
				Earliest: at("09:40")},
			want: []string{"10:00/1", "10:30/1"},
		},
		{
			name: "latest (maximum advance) is inclusive",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "11:00", 1)}, Visit: visit(30*m, 0, 0, 0),
				Latest: at("09:30")},
			want: []string{"09:00/1", "09:30/1"},
		},
		{
			name: "from and to bound start times",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "11:00", 1)}, Visit: visit(30*m, 0, 0, 0),
				From: at("09:30"), To: at("10:30")},
			want: []string{"09:30/1", "10:00/1"},
		},
		{
			name: "adjacent holds leave the gap open",
			in: SlotInput{Occurrences: []Occurrence{occ("09:00", "10:30", 1)}, Visit: visit(30*m, 0, 0, 0),
				ProviderHolds: []Hold{hold(prov, blk, 1, "09:00", "09:30"), hold(prov, blk, 1, "10:00", "10:30")}},
			want: []string{"09:30/1"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.in.To.IsZero() {
				c.in.From, c.in.To = day, day.Add(24*time.Hour)
			}
			var got []string
			for _, s := range OpenSlots(c.in) {
				got = append(got, s.Start.Format("15:04")+"/"+itoa(s.SeatsLeft))
				if s.End.Sub(s.Start) != c.in.Visit.Duration {
					t.Errorf("slot %v lasts %v", s.Start, s.End.Sub(s.Start))
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("slots %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("slots %v, want %v", got, c.want)
				}
			}
		})
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

func TestOpenSlotsOrdersProviders(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a, b := uuid.MustParse("00000000-0000-0000-0000-00000000000a"), uuid.MustParse("00000000-0000-0000-0000-00000000000b")
	in := SlotInput{
		Occurrences: []Occurrence{
			{BlockID: uuid.New(), ProviderID: b, Start: start, End: start.Add(time.Hour), Capacity: 1},
			{BlockID: uuid.New(), ProviderID: a, Start: start.Add(30 * time.Minute), End: start.Add(time.Hour), Capacity: 1},
			{BlockID: uuid.New(), ProviderID: a, Start: start, End: start.Add(30 * time.Minute), Capacity: 1},
		},
		Visit: &VisitType{Duration: 30 * time.Minute}, From: start, To: start.Add(time.Hour),
	}
	got := OpenSlots(in)
	want := []struct {
		p ProviderID
		m int
	}{{a, 0}, {b, 0}, {a, 30}, {b, 30}}
	if len(got) != len(want) {
		t.Fatalf("got %d slots", len(got))
	}
	for i, w := range want {
		if got[i].ProviderID != w.p || got[i].Start.Sub(start) != time.Duration(w.m)*time.Minute {
			t.Errorf("slot %d = %v %v", i, got[i].ProviderID, got[i].Start)
		}
	}
}

func TestTransitions(t *testing.T) {
	all := []Status{StatusNew, StatusConfirmed, StatusArrived, StatusOut, StatusCanceled, StatusNoVisit}
	legal := map[[2]Status]string{
		{StatusNew, StatusConfirmed}:      "confirm",
		{StatusNew, StatusCanceled}:       "cancel",
		{StatusConfirmed, StatusArrived}:  "arrive",
		{StatusConfirmed, StatusCanceled}: "cancel",
		{StatusConfirmed, StatusNoVisit}:  "no-visit",
		{StatusArrived, StatusOut}:        "out",
	}
	for _, from := range all {
		for _, to := range all {
			action, ok := CanTransition(from, to)
			want, wantOK := legal[[2]Status{from, to}]
			if ok != wantOK || action != want {
				t.Errorf("%s→%s: (%q, %v), want (%q, %v)", from, to, action, ok, want, wantOK)
			}
		}
	}
}

func TestPatientKindOf(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	pat, otherPat := uuid.New(), uuid.New()
	cardio, cardio2, derm, noSpec := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	specs := map[ProviderID][]string{cardio: {"cardiology"}, cardio2: {"cardiology", "internal-medicine"}, derm: {"dermatology"}}
	visit := func(p PatientID, prov ProviderID, at time.Time) FinishedVisit {
		return FinishedVisit{PatientID: p, ProviderID: prov, Specialties: specs[prov], Start: at}
	}
	cases := []struct {
		name   string
		prov   ProviderID
		visits []FinishedVisit
		want   PatientKind
	}{
		{"no visits", cardio, nil, NewPatient},
		{"same specialty last year", cardio, []FinishedVisit{visit(pat, cardio2, at.AddDate(-1, 0, 0))}, EstablishedPatient},
		{"same provider", noSpec, []FinishedVisit{visit(pat, noSpec, at.AddDate(0, -1, 0))}, EstablishedPatient},
		{"other specialty", cardio, []FinishedVisit{visit(pat, derm, at.AddDate(0, -1, 0))}, NewPatient},
		{"more than three years ago", cardio, []FinishedVisit{visit(pat, cardio, at.AddDate(-3, 0, -1))}, NewPatient},
		{"exactly three years ago", cardio, []FinishedVisit{visit(pat, cardio, at.AddDate(-3, 0, 0))}, EstablishedPatient},
		{"another patient's visit", cardio, []FinishedVisit{visit(otherPat, cardio, at.AddDate(0, -1, 0))}, NewPatient},
		{"a visit after this one", cardio, []FinishedVisit{visit(pat, cardio, at.Add(time.Hour))}, NewPatient},
	}
	for _, c := range cases {
		if got := PatientKindOf(c.prov, specs[c.prov], c.visits, pat, at); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
