package refserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Request reads the input of one request through typed accessors: its
// path values, its query parameters and its JSON body. Each accessor keeps
// the first error in Err, which names the path value, the parameter or the
// body member at fault (see ParseID, DecodeJSON), and does nothing once
// there is one, so that a handler reads what it needs in order and checks
// Err once:
//
//	req := s.Request(w, r)
//	pid, id := req.Practice(), req.Path("block")
//	var in blockRequest
//	req.Body(&in)
//	to := req.BodyID("to_block_id", in.ToBlockID)
//	if req.Err != nil {
//		return req.Err
//	}
//
// The first error is the one the handler would meet first reading its
// input one piece at a time, as the API always answered.
type Request struct {
	// Err is the first error met reading the request.
	Err error
	s   *Server
	w   http.ResponseWriter
	r   *http.Request
	q   map[string][]string // the query string, parsed on first use
}

// Request starts reading the input of r.
func (s *Server) Request(w http.ResponseWriter, r *http.Request) *Request {
	return &Request{s: s, w: w, r: r}
}

// Fail keeps err unless an error came first.
func (q *Request) Fail(err error) {
	if q.Err == nil {
		q.Err = err
	}
}

// Path parses the path value name as a UUID.
func (q *Request) Path(name string) uuid.UUID {
	if q.Err != nil {
		return uuid.Nil
	}
	id, err := pathID(q.r, name)
	q.Fail(err)
	return id
}

// Practice parses the {practice} path value.
func (q *Request) Practice() tenant.PracticeID { return q.Path("practice") }

// ExistingPractice parses {practice} and checks that the practice exists
// (else 404), for routes whose service would answer an unknown practice
// with an empty list.
func (q *Request) ExistingPractice() tenant.PracticeID {
	id := q.Practice()
	if q.Err == nil {
		_, err := q.s.engine.Tenants.Practice(q.r.Context(), id)
		q.Fail(err)
	}
	return id
}

// Body decodes the JSON body into dst (see DecodeJSON: its media type,
// size, members and text are checked), within Options.MaxBodyBytes.
func (q *Request) Body(dst any) {
	if q.Err == nil {
		q.Fail(DecodeJSON(q.w, q.r, q.s.opts.MaxBodyBytes, dst))
	}
}

// BodyID parses the body member field, s, as a required UUID.
func (q *Request) BodyID(field, s string) uuid.UUID {
	if q.Err != nil {
		return uuid.Nil
	}
	id, err := ParseID(field, s)
	q.Fail(err)
	return id
}

// BodyOptID parses the body member field, s, as an optional UUID: "" is nil.
func (q *Request) BodyOptID(field, s string) *uuid.UUID {
	if q.Err != nil {
		return nil
	}
	id, err := OptID(field, s)
	q.Fail(err)
	return id
}

// BodyTime parses the body member field, s, as an RFC 3339 time; "" is the
// zero time.
func (q *Request) BodyTime(field, s string) time.Time {
	if q.Err != nil {
		return time.Time{}
	}
	t, err := ParseTime(field, s)
	q.Fail(err)
	return t
}

// SignedIn is the session the request was authenticated with (see
// Server.SignedIn), or nil with the error kept.
func (q *Request) SignedIn() *Credentials {
	if q.Err != nil {
		return nil
	}
	c, err := q.s.SignedIn(q.r)
	q.Fail(err)
	return c
}

// OK answers v with 200, or err.
func (q *Request) OK(v any, err error) error {
	if err != nil {
		return err
	}
	return Reply(q.w, http.StatusOK, v)
}

// Created answers v with 201 and Location: the request's path, then id.
func (q *Request) Created(id uuid.UUID, v any) error {
	return Created(q.w, q.r.URL.Path+"/"+id.String(), v)
}

// NoContent answers 204, or err.
func (q *Request) NoContent(err error) error {
	if err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// Query parameters. Each names the parameter in its errors.

func (q *Request) values() map[string][]string {
	if q.q == nil {
		q.q = q.r.URL.Query()
	}
	return q.q
}

// Str returns the parameter's first value.
func (q *Request) Str(name string) string {
	if vs := q.values()[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// List returns every value of a repeatable parameter, also split at commas.
func (q *Request) List(name string) []string {
	var out []string
	for _, v := range q.values()[name] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// ID parses an optional UUID parameter: absent is nil.
func (q *Request) ID(name string) *uuid.UUID {
	id, err := OptID(name, q.Str(name))
	q.Fail(err)
	return id
}

// RequiredID parses a parameter that must be a UUID.
func (q *Request) RequiredID(name string) uuid.UUID {
	id, err := ParseID(name, q.Str(name))
	q.Fail(err)
	return id
}

// IDs parses a repeatable UUID parameter.
func (q *Request) IDs(name string) []uuid.UUID {
	ids, err := ParseIDs(name, q.List(name))
	q.Fail(err)
	return ids
}

// Time parses an RFC 3339 parameter; absent is the zero time.
func (q *Request) Time(name string) time.Time {
	t, err := ParseTime(name, q.Str(name))
	q.Fail(err)
	return t
}

// Int parses an integer parameter in [lo, hi]; absent gives def.
func (q *Request) Int(name string, def, lo, hi int) int {
	s := q.Str(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		q.Fail(errs.Invalid("refserver.query", name, "must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)))
		return def
	}
	return n
}

// Bool parses a boolean parameter (true, false, 1, 0); absent is false.
func (q *Request) Bool(name string) bool {
	s := q.Str(name)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		q.Fail(errs.Invalid("refserver.query", name, "must be true or false"))
	}
	return b
}

// HTTP returns the request being read.
func (q *Request) HTTP() *http.Request { return q.r }
