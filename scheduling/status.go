package scheduling

import (
	"context"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
)

// transitions lists the legal moves between statuses, and the action name
// that each is recorded under.
var transitions = map[Status]map[Status]string{
	StatusNew:       {StatusConfirmed: "confirm", StatusCanceled: "cancel"},
	StatusConfirmed: {StatusArrived: "arrive", StatusCanceled: "cancel", StatusNoVisit: "no-visit"},
	StatusArrived:   {StatusOut: "out"},
}

// CanTransition reports whether an appointment may move from one status to
// another, and the action the move is recorded as.
func CanTransition(from, to Status) (action string, ok bool) {
	action, ok = transitions[from][to]
	return action, ok
}

func illegalTransition(op string, from, to Status) error {
	e := errs.Conflict(op, "appointment is "+string(from)+" and cannot become "+string(to))
	e.Field = "status"
	e.Details = map[string]string{"current_status": string(from)}
	return e
}

// ArrivalWindow returns when the arrival of a visit [start, end) held where
// the time zone is zone may be recorded under the practice's policy: from
// pol.ArrivalEarly before start (from the start of the visit's local day
// when it is 0) until pol.ArrivalLate after end (until the end of the
// visit's local day, or end if later, when it is 0), half-open, in UTC.
func ArrivalWindow(pol tenant.BookingPolicy, start, end time.Time, zone *time.Location) (from, until time.Time) {
	local := start.In(zone)
	if pol.ArrivalEarly > 0 {
		from = start.Add(-pol.ArrivalEarly)
	} else {
		from = time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, zone)
	}
	if pol.ArrivalLate > 0 {
		until = end.Add(pol.ArrivalLate)
	} else {
		until = time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, zone)
		if end.After(until) {
			until = end
		}
	}
	return from.UTC(), until.UTC()
}

// checkArrival refuses to record the arrival of a outside its arrival
// window (see ArrivalWindow), in the time zone of a's location.
func (s *Service) checkArrival(ctx context.Context, op string, pol tenant.BookingPolicy, now time.Time, a *Appointment) error {
	loc, err := s.tenants.GetLocation(ctx, a.PracticeID, a.LocationID)
	if err != nil {
		return err
	}
	zone, err := time.LoadLocation(loc.TimeZone)
	if err != nil {
		return err
	}
	from, until := ArrivalWindow(pol, a.Start, a.End, zone)
	if !now.Before(from) && now.Before(until) {
		return nil
	}
	const layout = "2006-01-02 15:04"
	e := errs.E(errs.KindPreconditionFailed, op, "an arrival can be recorded only around the visit: from "+
		from.In(zone).Format(layout)+" until "+until.In(zone).Format(layout)+" ("+loc.TimeZone+"), by the practice's arrival policy")
	e.Field = "status"
	e.Details = map[string]string{"current_status": string(a.Status),
		"arrival_from": from.Format(time.RFC3339), "arrival_until": until.Format(time.RFC3339)}
	return e
}
