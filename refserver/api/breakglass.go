package api

import (
	"net/http"

	"github.com/carebook/carebook/refserver"
)

// Break-glass: a clinician opens, for a stated reason and one hour, a
// patient's chart that their grants do not reach (Engine.BreakGlass); the
// practice's auditors review the openings with their reasons. Both routes
// are refserver.Guarded: the Engine decides and logs.

// breakGlassRequest is the body of a break-glass opening.
type breakGlassRequest struct {
	Reason string `json:"reason"`
}

func (s *server) breakGlass(w http.ResponseWriter, r *http.Request) error {
	var in breakGlassRequest
	req := s.srv.Request(w, r)
	pid, patient := req.Practice(), req.Path("patient")
	if req.Err != nil {
		return req.Err
	}
	if req.Body(&in); req.Err != nil {
		return s.engine.RefuseBreakGlass(r.Context(), pid, patient, req.Err)
	}
	b, err := s.engine.BreakGlass(r.Context(), pid, patient, in.Reason)
	if err != nil {
		return err
	}
	return refserver.Created(w, r.URL.Path+"/"+b.ID.String(), b)
}

func (s *server) breakGlassReview(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	from, to := req.Time("from"), req.Time("to")
	if req.Err != nil {
		return req.Err
	}
	list, err := s.engine.BreakGlassReview(r.Context(), pid, from, to)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(list))
}
