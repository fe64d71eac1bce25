package scheduling

import (
	"slices"
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Slot is a bookable start time.
type Slot struct {
	ProviderID ProviderID        `json:"provider_id"`
	LocationID tenant.LocationID `json:"location_id"`
	BlockID    BlockID           `json:"block_id"`
	Start      time.Time         `json:"start"`
	End        time.Time         `json:"end"`
	SeatsLeft  int               `json:"seats_left"`
}

// SlotInput is everything OpenSlots needs; it does no I/O.
type SlotInput struct {
	// Occurrences are the providers' availability, in any order.
	Occurrences []Occurrence
	// ProviderHolds and ResourceHolds are the active appointments' held times,
	// as Store.Holds returns them.
	ProviderHolds []Hold
	ResourceHolds []Hold
	// Visit gives the duration, buffers, step and needed resources.
	Visit *VisitType
	// ResourceLocation maps each needed resource to its location; an
	// occurrence elsewhere cannot offer the visit.
	ResourceLocation map[ResourceID]tenant.LocationID
	// From and To bound the start times wanted.
	From, To time.Time
	// Earliest and Latest bound start times by the booking policy (minimum
	// notice, maximum advance); a zero Latest means no bound.
	Earliest, Latest time.Time
	// Location, if not nil, keeps only occurrences at that location.
	Location *tenant.LocationID
}

// OpenSlots returns the bookable start times, ordered by start, then provider.
// A start t is offered when the visit [t, t+Duration) lies inside an
// occurrence, t is a whole number of Steps after the occurrence's start, t is
// within [From, To) and [Earliest, Latest], the provider has a free seat for
// the held time [t-BufferBefore, t+Duration+BufferAfter), and each needed
// resource is at the occurrence's location and free for that held time.
func OpenSlots(in SlotInput) []Slot {
	v := in.Visit
	step := v.Step
	if step <= 0 {
		step = v.Duration
	}
	if step <= 0 {
		return nil
	}
	lo := in.From
	if in.Earliest.After(lo) {
		lo = in.Earliest
	}
	byProvider := groupHolds(in.ProviderHolds)
	byResource := groupHolds(in.ResourceHolds)
	var out []Slot
	for _, o := range in.Occurrences {
		if in.Location != nil && o.LocationID != *in.Location {
			continue
		}
		if !resourcesAt(v.ResourceIDs, in.ResourceLocation, o.LocationID) {
			continue
		}
		// Only holds near this occurrence matter.
		near := func(hs []Hold) []Hold {
			return overlapping(hs, o.Start.Add(-v.BufferBefore), o.End.Add(v.BufferAfter))
		}
		pHolds := near(byProvider[o.ProviderID])
		rHolds := make([][]Hold, len(v.ResourceIDs))
		for i, r := range v.ResourceIDs {
			rHolds[i] = near(byResource[r])
		}
		t := o.Start
		if lo.After(t) { // skip whole steps before lo
			t = t.Add(lo.Sub(t) / step * step)
			if t.Before(lo) {
				t = t.Add(step)
			}
		}
		for ; !t.Add(v.Duration).After(o.End); t = t.Add(step) {
			if !t.Before(in.To) || (!in.Latest.IsZero() && t.After(in.Latest)) {
				break
			}
			hs, he := t.Add(-v.BufferBefore), t.Add(v.Duration+v.BufferAfter)
			seats := FreeSeats(pHolds, o.BlockID, o.Capacity, hs, he, uuid.Nil)
			if seats == 0 || !resourcesFree(rHolds, o.BlockID, hs, he, uuid.Nil) {
				continue
			}
			out = append(out, Slot{ProviderID: o.ProviderID, LocationID: o.LocationID, BlockID: o.BlockID,
				Start: t.UTC(), End: t.Add(v.Duration).UTC(), SeatsLeft: seats})
		}
	}
	slices.SortFunc(out, func(a, b Slot) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return slices.Compare(a.ProviderID[:], b.ProviderID[:])
	})
	return out
}

// FreeSeats counts the seats of a block occurrence with capacity seats that are
// free for the held time [hs, he), given the provider's holds. A hold from
// another block takes every seat (the provider is busy elsewhere); a hold from
// the same block takes its own seat. The hold of appointment skip (one being
// moved) is ignored.
func FreeSeats(holds []Hold, block BlockID, capacity int, hs, he time.Time, skip AppointmentID) int {
	return capacity - len(takenSeats(holds, block, capacity, hs, he, skip))
}

// FirstFreeSeat returns the lowest free seat, as FreeSeats counts them, or 0.
func FirstFreeSeat(holds []Hold, block BlockID, capacity int, hs, he time.Time, skip AppointmentID) int {
	taken := takenSeats(holds, block, capacity, hs, he, skip)
	for s := 1; s <= capacity; s++ {
		if !taken[s] {
			return s
		}
	}
	return 0
}

func takenSeats(holds []Hold, block BlockID, capacity int, hs, he time.Time, skip AppointmentID) map[int]bool {
	taken := make(map[int]bool)
	for _, h := range holds {
		if h.AppointmentID == skip || !h.Start.Before(he) || !h.End.After(hs) {
			continue
		}
		if h.BlockID != block {
			for s := 1; s <= capacity; s++ {
				taken[s] = true
			}
			return taken
		}
		if h.Seat >= 1 && h.Seat <= capacity {
			taken[h.Seat] = true
		}
	}
	return taken
}

// resourcesFree reports whether no resource is held by an appointment of
// another block during [hs, he). Appointments of the same block share its
// resources: a group visit uses one room for all its seats.
func resourcesFree(perResource [][]Hold, block BlockID, hs, he time.Time, skip AppointmentID) bool {
	for _, hs2 := range perResource {
		for _, h := range hs2 {
			if h.AppointmentID != skip && h.BlockID != block && h.Start.Before(he) && h.End.After(hs) {
				return false
			}
		}
	}
	return true
}

func resourcesAt(ids []ResourceID, at map[ResourceID]tenant.LocationID, loc tenant.LocationID) bool {
	for _, r := range ids {
		if l, ok := at[r]; !ok || l != loc {
			return false
		}
	}
	return true
}

func groupHolds(hs []Hold) map[uuid.UUID][]Hold {
	m := make(map[uuid.UUID][]Hold)
	for _, h := range hs {
		m[h.OwnerID] = append(m[h.OwnerID], h)
	}
	return m
}

func overlapping(hs []Hold, from, to time.Time) []Hold {
	var out []Hold
	for _, h := range hs {
		if h.Start.Before(to) && h.End.After(from) {
			out = append(out, h)
		}
	}
	return out
}

func sortOccurrences(os []Occurrence) {
	slices.SortFunc(os, func(a, b Occurrence) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return slices.Compare(a.ProviderID[:], b.ProviderID[:])
	})
}
