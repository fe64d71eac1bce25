package refserver

import (
	"net/http"
	"slices"
)

// Route is one entry of a route table: a method, a Go 1.22 ServeMux path
// pattern (also the OpenAPI path), its handler, a one-line summary and what
// a caller needs to reach it (see Access). A handler returns its error;
// the renderer answers it in the format of the route's kind.
type Route struct {
	Method  string
	Pattern string
	Handle  func(http.ResponseWriter, *http.Request) error
	Summary string
	Access  Access
}

// PracticePrefix starts every route of one practice.
const PracticePrefix = "/api/v1/practices/{practice}"

// A Module adds its routes to a Server, through the Router New hands it:
// the JSON API (package refserver/api) and the pages (refserver/web) are
// modules, composed by the caller of New.
type Module func(*Router)

// Router is what New hands a Module: the Server the module's handlers
// serve on, and the registration of its routes. It is valid only during
// New.
type Router struct{ s *Server }

// Server returns the Server the routes are added to, for the handlers'
// use of its engine, options and helpers.
func (rt *Router) Server() *Server { return rt.s }

// API adds routes that answer JSON, and their errors as problem
// documents. A route without a valid access panics (see CheckAccess).
func (rt *Router) API(routes ...Route) { rt.add(apiRoute, routes) }

// Pages adds routes that answer HTML pages, and their errors as an HTML
// page (see render.go).
func (rt *Router) Pages(routes ...Route) { rt.add(pageRoute, routes) }

// Both adds routes that answer JSON or HTML by the request's Accept.
func (rt *Router) Both(routes ...Route) { rt.add(bothRoute, routes) }

func (rt *Router) add(k routeKind, routes []Route) {
	for _, r := range routes {
		rt.s.handle(r, k)
	}
}

// Routes returns every route the Server answers, its own and its
// modules', in the order they were added: the route table the OpenAPI
// document and the authorization matrix are checked against.
func (s *Server) Routes() []Route { return slices.Clone(s.table) }

// coreRoutes are the Server's own routes: the operational ones.
func (s *Server) coreRoutes() []Route {
	return []Route{
		route("GET", "/healthz", s.healthz, "Tell that the process is alive", Public()),
		route("GET", "/readyz", s.readyz, "Tell that the database answers", Public()),
		route("GET", "/metrics", s.serveMetrics, "Prometheus metrics", Public()),
	}
}

// assetRoutes serve the pages' stylesheet and script (see assets.go).
func (s *Server) assetRoutes() []Route {
	return []Route{
		route("GET", "/static/{hash}/{file}", s.serveAsset, "A stylesheet or script of the pages", Public()),
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return Reply(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if err := s.engine.Ready(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "not ready", "error", err)
		p := Problem{Type: ProblemTypePrefix + "unavailable", Title: http.StatusText(http.StatusServiceUnavailable),
			Status: http.StatusServiceUnavailable, Kind: "unavailable", Detail: "the database does not answer",
			Instance: r.URL.Path, RequestID: RequestID(r.Context())}
		writeJSON(w, p.Status, "application/problem+json", p)
		return nil
	}
	return Reply(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}

// Created answers v with 201 and the Location header.
func Created(w http.ResponseWriter, location string, v any) error {
	w.Header().Set("Location", location)
	return Reply(w, http.StatusCreated, v)
}

// route is a Route entry of a table.
func route(method, pattern string, h func(http.ResponseWriter, *http.Request) error, summary string, a Access) Route {
	return Route{Method: method, Pattern: pattern, Handle: h, Summary: summary, Access: a}
}

// IsPage reports whether rt is a page route of s (added with
// Router.Pages): one that answers HTML, and its errors as pages.
func (s *Server) IsPage(rt Route) bool {
	ri, ok := s.routes[rt.Method+" "+rt.Pattern]
	return ok && ri.kind == pageRoute
}
