// Package web holds carebook's pages, served by a refserver.Server beside
// the JSON API, over the same Engine operations and the same authorization
// (each page route declares its access in the route table, and the
// platform's guard writes the same activity-log entries): sign-in, the
// patients' booking and visits, their own health record and their
// requests to correct it or for a copy of it, the front desk's calendar
// and queue, the administrators' setup pages, the chart and the patient's
// rights, the pages behind the signed links of emails (/l/{token}), and
// the public "find a doctor" pages of the directory with robots.txt and
// the sitemaps (find.go, sitemap.go), the only pages any cache may keep.
//
// Pages are html/template files embedded in the package (templates/), each
// on the core's shared layout with this package's header and navigation
// (templates/shell.html); errors are answered by the core's renderer as an
// HTML page. Every page and form works without JavaScript; the core's
// script only swaps the page's main part in place. Forms carry the CSRF
// token in a hidden field. Strings are in one catalog per language
// (strings_en.go, strings_es.go).
//
// Add the pages to a server with refserver.New(engine, opts, api.Module,
// web.Module).
package web

import (
	"log/slog"
	"net/http"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/refserver"
)

// pages serves the pages over one engine.
type pages struct {
	engine *carebook.Engine
	srv    *refserver.Server
	log    *slog.Logger
	opts   refserver.Options
	// index reads the directory's index for the sitemaps; a test puts a
	// generated one in its place.
	index indexPage
}

// Module adds the pages to the Server being built.
func Module(rt *refserver.Router) { module(rt, nil) }

// module adds the pages, whose sitemaps read index (nil: the engine's
// directory).
func module(rt *refserver.Router, index indexPage) {
	srv := rt.Server()
	s := &pages{engine: srv.Engine(), srv: srv, log: srv.Logger(), opts: srv.Options(), index: index}
	if s.index == nil {
		s.index = s.directoryIndex
	}
	rt.Pages(s.routes()...)
}

// routes is the route table of the pages, area by area.
func (s *pages) routes() []refserver.Route {
	var out []refserver.Route
	for _, area := range [][]refserver.Route{
		s.linkRoutes(), s.signInRoutes(), s.accountRoutes(), s.patientRoutes(), s.deskRoutes(), s.adminRoutes(), s.staffRoutes(), s.chartRoutes(), s.breakGlassRoutes(), s.paymentRoutes(),
		s.portalRoutes(), s.portalPaymentRoutes(), s.rightsRoutes(), s.sitemapRoutes(), s.findRoutes(), s.planRoutes(), s.opsRoutes(), s.paymentPolicyRoutes(),
		s.invoiceRoutes(), s.paymentMethodRoutes(),
	} {
		out = append(out, area...)
	}
	return out
}

// linkRoutes are the pages of the signed links of emails.
func (s *pages) linkRoutes() []refserver.Route {
	return []refserver.Route{
		route("GET", "/l/{token}", s.showLink, "The page of an email link: what it does, and a button", refserver.Signed()),
		route("POST", "/l/{token}", s.followLink, "Follow an email link: confirm, cancel or unsubscribe", refserver.Signed()),
	}
}

// route is a refserver.Route entry of the table.
func route(method, pattern string, h func(http.ResponseWriter, *http.Request) error, summary string, a refserver.Access) refserver.Route {
	return refserver.Route{Method: method, Pattern: pattern, Handle: h, Summary: summary, Access: a}
}
