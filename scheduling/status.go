package scheduling

import (
	"github.com/carebook/carebook/errs"
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
