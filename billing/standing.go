package billing

import "github.com/google/uuid"

// Standing is where a visit stands with its payments, all of them taken
// together: what a calendar shows of an appointment.
type Standing string

// The standings of a visit, from the one that most needs the desk's
// attention.
const (
	StandingNone           Standing = ""                // no payment, or none that moved money
	StandingOwed           Standing = "owed"            // a payment nothing was taken of yet (an owed fee, a visit to pay)
	StandingHeld           Standing = "deposit_held"    // money held (a deposit, a card's hold), not yet taken
	StandingPartlyRefunded Standing = "partly_refunded" // taken, part of it given back
	StandingPaid           Standing = "paid"            // taken, nothing given back
	StandingRefunded       Standing = "refunded"        // everything taken was given back
)

// AllStandings lists the standings a visit may show (all but
// StandingNone), from the one that most needs the desk's attention.
func AllStandings() []Standing {
	return []Standing{StandingOwed, StandingHeld, StandingPartlyRefunded, StandingPaid, StandingRefunded}
}

// Owed reports whether p is owed: nothing was ever recorded on it (a
// payment whose entries were all reversed was a mistake, not a debt).
func (p *Payment) Owed() bool { return len(p.Ledger) == 0 }

// StandingOf derives the standing of a visit from its payments: owed if
// any is owed, else held if any holds money, else partly refunded, paid or
// refunded by what was taken and given back across them; a visit whose
// payments moved no money (released holds, reversed entries) has none. A
// ledger that breaks billing's rules is Summarize's error.
func StandingOf(ps []*Payment) (Standing, error) {
	var held, paid, refunded, kept bool
	for _, p := range ps {
		if p.Owed() {
			return StandingOwed, nil
		}
		t, err := p.Totals()
		if err != nil {
			return StandingNone, err
		}
		held = held || !t.Held.IsZero()
		paid = paid || !t.Paid.IsZero()
		refunded = refunded || !t.Refunded.IsZero()
		kept = kept || !t.Net.IsZero()
	}
	switch {
	case held:
		return StandingHeld, nil
	case kept && refunded:
		return StandingPartlyRefunded, nil
	case kept:
		return StandingPaid, nil
	case paid:
		return StandingRefunded, nil
	}
	return StandingNone, nil
}

// Standings groups ps by appointment and derives each one's standing
// (StandingOf); payments of no appointment are left out, and so are
// appointments whose standing is none.
func Standings(ps []*Payment) (map[uuid.UUID]Standing, error) {
	by := map[uuid.UUID][]*Payment{}
	for _, p := range ps {
		if p.Appointment != nil {
			by[*p.Appointment] = append(by[*p.Appointment], p)
		}
	}
	out := make(map[uuid.UUID]Standing, len(by))
	for id, list := range by {
		st, err := StandingOf(list)
		if err != nil {
			return nil, err
		}
		if st != StandingNone {
			out[id] = st
		}
	}
	return out, nil
}
