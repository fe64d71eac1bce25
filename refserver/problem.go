package refserver

import (
	"errors"
	"net/http"

	"github.com/carebook/carebook/errs"
)

// statusOf maps every kind of error to its HTTP status. It is the one place
// where kinds meet statuses.
var statusOf = map[errs.Kind]int{
	errs.KindInvalid:            http.StatusBadRequest,
	errs.KindUnauthenticated:    http.StatusUnauthorized,
	errs.KindForbidden:          http.StatusForbidden,
	errs.KindNotFound:           http.StatusNotFound,
	errs.KindConflict:           http.StatusConflict,
	errs.KindTooLarge:           http.StatusRequestEntityTooLarge,
	errs.KindUnsupportedMedia:   http.StatusUnsupportedMediaType,
	errs.KindPreconditionFailed: http.StatusUnprocessableEntity,
	errs.KindRateLimited:        http.StatusTooManyRequests,
	errs.KindReadOnly:           http.StatusPaymentRequired,
	errs.KindInternal:           http.StatusInternalServerError,
}

// HTTPStatus returns the HTTP status the server answers an error of kind k with.
func HTTPStatus(k errs.Kind) int {
	if s, ok := statusOf[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ProblemTypePrefix starts the type URI of every problem document; the kind's
// name ends it, as in "urn:carebook:problem:not_found".
const ProblemTypePrefix = "urn:carebook:problem:"

// Problem is an RFC 9457 problem document with carebook's extension members.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	Kind      string `json:"kind"`
	Field     string `json:"field,omitempty"`
	Details   any    `json:"details,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// problemFor builds the problem document for err. Internal errors show a
// fixed sentence, never their cause.
func problemFor(err error) Problem {
	k := errs.KindOf(err)
	status := HTTPStatus(k)
	var pe *PageError
	if errors.As(err, &pe) && pe.Status != 0 {
		status = pe.Status
	}
	p := Problem{Type: ProblemTypePrefix + k.String(), Title: http.StatusText(status), Status: status, Kind: k.String()}
	if k == errs.KindInternal {
		p.Detail = "an internal error occurred; it has been logged"
		return p
	}
	if e, ok := errs.As(err); ok {
		p.Field, p.Details = e.Field, e.Details
		switch {
		case e.Field != "" && e.Msg != "":
			p.Detail = e.Field + ": " + e.Msg
		case e.Msg != "":
			p.Detail = e.Msg
		default:
			p.Detail = k.String()
		}
	}
	return p
}

// api adapts a handler that returns an error to http.Handler: the error is
// answered by the renderer (Server.fail), as a problem document or a page. The request's path values and query
// parameters are checked first (checkRequestText), for every route alike,
// before authorization records them or a handler reads them.
func (s *Server) api(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := checkRequestText(r)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.fail(w, r, err)
		}
	})
}

// authRealm is the realm of the WWW-Authenticate challenge of every 401.
const authRealm = "carebook"

// writeProblem answers p for r, with the headers its status calls for:
// Retry-After on a 429, the Bearer challenge (RFC 6750) on a 401.
func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	p.Instance = r.URL.Path
	p.RequestID = RequestID(r.Context())
	retryAfter(w, p)
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+authRealm+`"`)
	}
	writeJSON(w, p.Status, "application/problem+json", p)
}
