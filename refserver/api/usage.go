package api

import (
	"net/http"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/google/uuid"
)

// dayUsageOut is one meter's units on one UTC day.
type dayUsageOut struct {
	Day   string `json:"day"`
	Meter string `json:"meter"`
	Units int64  `json:"units"`
}

// meterTotalOut is one meter's units over the whole range.
type meterTotalOut struct {
	Meter string `json:"meter"`
	Units int64  `json:"units"`
}

// usageOut is GET …/usage's answer.
type usageOut struct {
	From   time.Time       `json:"from"`
	To     time.Time       `json:"to"`
	Days   []dayUsageOut   `json:"days"`
	Totals []meterTotalOut `json:"totals"`
}

// getUsage is the practice's metered usage per day and meter, and its
// totals, with from <= time < to (billing.read).
func (s *server) getUsage(w http.ResponseWriter, r *http.Request) error {
	const op = "api.getUsage"
	req := s.srv.Request(w, r)
	pid := req.Practice()
	for _, name := range []string{"from", "to"} {
		if req.Str(name) == "" {
			req.Fail(errs.Invalid(op, name, "is required (RFC 3339)"))
		}
	}
	from, to := req.Time("from"), req.Time("to")
	if req.Err != nil {
		if pid == uuid.Nil {
			return req.Err
		}
		return s.engine.Refuse(r.Context(), carebook.Access{Permission: rbac.BillingRead, PracticeID: pid}, req.Err)
	}
	rep, err := s.engine.Usage(r.Context(), pid, from, to)
	if err != nil {
		return err
	}
	out := usageOut{From: rep.From.UTC(), To: rep.To.UTC(), Days: make([]dayUsageOut, 0, len(rep.Days)), Totals: make([]meterTotalOut, 0, len(rep.Totals))}
	for _, d := range rep.Days {
		out.Days = append(out.Days, dayUsageOut{Day: d.Day.UTC().Format(time.DateOnly), Meter: string(d.Meter), Units: d.Units})
	}
	for _, t := range rep.Totals {
		out.Totals = append(out.Totals, meterTotalOut{Meter: string(t.Meter), Units: t.Units})
	}
	return refserver.Reply(w, http.StatusOK, out)
}
