package refserver

import (
	"net/http"
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// request reads the input of one request through typed accessors: its path
// values, its query parameters (the embedded query) and its JSON body.
// Each accessor keeps the first error, which names the path value, the
// parameter or the body member at fault (see parseID, decodeJSON), and
// does nothing once there is one, so that a handler reads what it needs in
// order and checks req.err once:
//
//	req := s.request(w, r)
//	pid, id := req.practice(), req.path("block")
//	var in blockRequest
//	req.body(&in)
//	to := req.bodyID("to_block_id", in.ToBlockID)
//	if req.err != nil {
//		return req.err
//	}
//
// The first error is the one the handler would meet first reading its
// input one piece at a time, as the API always answered.
type request struct {
	query
	s *Server
	w http.ResponseWriter
	r *http.Request
}

// request starts reading the input of r.
func (s *Server) request(w http.ResponseWriter, r *http.Request) *request {
	return &request{query: query{r: r}, s: s, w: w, r: r}
}

// path parses the path value name as a UUID.
func (q *request) path(name string) uuid.UUID {
	if q.err != nil {
		return uuid.Nil
	}
	id, err := pathID(q.r, name)
	q.fail(err)
	return id
}

// practice parses the {practice} path value.
func (q *request) practice() tenant.PracticeID { return q.path("practice") }

// existingPractice parses {practice} and checks that the practice exists
// (else 404), for routes whose service would answer an unknown practice
// with an empty list.
func (q *request) existingPractice() tenant.PracticeID {
	id := q.practice()
	if q.err == nil {
		_, err := q.s.engine.Tenants.Practice(q.r.Context(), id)
		q.fail(err)
	}
	return id
}

// body decodes the JSON body into dst (see decodeJSON: its media type,
// size, members and text are checked).
func (q *request) body(dst any) {
	if q.err == nil {
		q.fail(q.s.decode(q.w, q.r, dst))
	}
}

// bodyID parses the body member field, s, as a required UUID.
func (q *request) bodyID(field, s string) uuid.UUID {
	if q.err != nil {
		return uuid.Nil
	}
	id, err := parseID(field, s)
	q.fail(err)
	return id
}

// bodyOptID parses the body member field, s, as an optional UUID: "" is nil.
func (q *request) bodyOptID(field, s string) *uuid.UUID {
	if q.err != nil {
		return nil
	}
	id, err := optID(field, s)
	q.fail(err)
	return id
}

// bodyTime parses the body member field, s, as an RFC 3339 time; "" is the
// zero time.
func (q *request) bodyTime(field, s string) time.Time {
	if q.err != nil {
		return time.Time{}
	}
	t, err := parseTime(field, s)
	q.fail(err)
	return t
}

// check keeps err, the result of converting input (a body's input method),
// unless an error came first.
func (q *request) check(err error) { q.fail(err) }

// ok answers v with 200, or err.
func (q *request) ok(v any, err error) error {
	if err != nil {
		return err
	}
	return reply(q.w, http.StatusOK, v)
}

// created answers v with 201 and Location: the request's path, then id.
func (q *request) created(id uuid.UUID, v any) error {
	return created(q.w, q.r.URL.Path+"/"+id.String(), v)
}

// noContent answers 204, or err.
func (q *request) noContent(err error) error {
	if err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
