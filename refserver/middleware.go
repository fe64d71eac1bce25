package refserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
)

// ActorHeader names the acting actor for ActorFromHeader.
const ActorHeader = "X-Carebook-Actor"

// RequestIDHeader carries the request ID in both directions.
const RequestIDHeader = "X-Request-ID"

// reqInfo travels in the context of each request so that inner layers can
// tell outer ones what they learnt.
type reqInfo struct {
	id    string
	route string // the pattern of the matched route, once known
	// matched tells that the request matches a route of the Server, of
	// kind and access (SessionAuth reads which routes are open).
	matched bool
	kind    routeKind
	access  Access
	// srv answers the errors of middleware that has no Server at hand.
	srv *Server
}

type reqInfoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(reqInfoKey{}).(*reqInfo)
	return i
}

// RequestID returns the ID of the request being served, or "".
func RequestID(ctx context.Context) string {
	if i := infoFrom(ctx); i != nil {
		return i.id
	}
	return ""
}

var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// withRequestID takes the caller's X-Request-ID when it is short and plain,
// or makes one, and echoes it in the answer.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !safeRequestID.MatchString(id) {
			var b [12]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set(RequestIDHeader, id)
		info := &reqInfo{id: id, srv: s}
		if ri, ok := s.route(r); ok {
			info.matched, info.kind, info.access = true, ri.kind, ri.access
		}
		ctx := context.WithValue(r.Context(), reqInfoKey{}, info)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// statusWriter remembers the status and size of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// accessLog logs one line per request. Latency is measured on the wall
// clock: it is an observation of the process, not domain time.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if sw.code() >= 500 {
			level = slog.LevelError
		}
		route := ""
		if i := infoFrom(r.Context()); i != nil {
			route = i.route
		}
		s.log.LogAttrs(r.Context(), level, "http request",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
			slog.Int("status", sw.code()), slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr))
	})
}

// PageCSP is the Content-Security-Policy of every page: scripts, styles,
// images and requests from the server itself only, no inline script or
// style, forms posted only to it, no framing.
const PageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// securityHeaders sets the headers every answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		csp := "default-src 'none'; frame-ancestors 'none'"
		if i := infoFrom(r.Context()); i != nil && i.matched && i.kind != apiRoute {
			csp = PageCSP
		}
		h.Set("Content-Security-Policy", csp)
		// Deny by default: no shared cache keeps an answer, and no search
		// engine indexes it. A public page says otherwise (PublicAnswer).
		h.Set("Cache-Control", PrivateCache)
		h.Set("X-Robots-Tag", "noindex")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if r.TLS != nil {
			// One year; only over TLS, as RFC 6797 says.
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics answers a panic with a 500 problem and logs it with its stack.
// http.ErrAbortHandler is re-panicked, as net/http expects.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
				slog.String("request_id", RequestID(r.Context())),
				slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
			s.fail(w, r, errs.E(errs.KindInternal, "refserver", "panic"))
		}()
		next.ServeHTTP(w, r)
	})
}

// ActorFromHeader is the default Options.Authenticate: it reads the acting
// actor from the X-Carebook-Actor header, "staff:<id>" or "patient:<id>".
// A malformed header is refused with 400; without the header the request
// has no actor, and services that need one answer 401. It authenticates
// nobody: use it for development and tests only.
func ActorFromHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.Header.Get(ActorHeader)
		if v == "" {
			next.ServeHTTP(w, r)
			return
		}
		a, err := parseActor(v)
		if err != nil {
			problemWithoutServer(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(actor.With(r.Context(), a)))
	})
}

// parseActor parses "staff:<id>" or "patient:<id>".
func parseActor(v string) (actor.Actor, error) {
	kind, id, ok := strings.Cut(v, ":")
	a := actor.Actor{Kind: actor.Kind(kind), ID: id}
	if !ok || (a.Kind != actor.Staff && a.Kind != actor.Patient) || !a.Valid() || len(id) > 200 || strings.ContainsAny(id, " \t") || textFault(id) != "" {
		return a, errs.Invalid("refserver.actor", ActorHeader, "must be staff:<id> or patient:<id>")
	}
	return a, nil
}

// problemWithoutServer answers a non-internal error from a middleware that
// has no Server at hand, through the renderer of the Server serving r
// (see Server.fail), or as a problem document outside one.
func problemWithoutServer(w http.ResponseWriter, r *http.Request, err error) {
	if i := infoFrom(r.Context()); i != nil && i.srv != nil {
		i.srv.fail(w, r, err)
		return
	}
	writeProblem(w, r, problemFor(err))
}
