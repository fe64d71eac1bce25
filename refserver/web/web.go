// Package web holds carebook's pages, served by a refserver.Server beside
// the JSON API: for now the pages behind the signed links of emails
// (/l/{token}), which confirm or cancel a visit or unsubscribe. Pages are
// html/template files embedded in the package (templates/), each on the
// core's shared layout, and a page route's errors are answered by the
// core's renderer as an HTML page (refserver.PageError words them).
//
// Add the pages to a server with refserver.New(engine, opts, api.Module,
// web.Module).
package web

import (
	"net/http"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/refserver"
)

// pages serves the pages over one engine.
type pages struct {
	engine *carebook.Engine
}

// Module adds the pages to the Server being built.
func Module(rt *refserver.Router) {
	s := &pages{engine: rt.Server().Engine()}
	rt.Pages(s.routes()...)
}

// routes is the route table of the pages.
func (s *pages) routes() []refserver.Route {
	return []refserver.Route{
		route("GET", "/l/{token}", s.showLink, "The page of an email link: what it does, and a button", refserver.Signed()),
		route("POST", "/l/{token}", s.followLink, "Follow an email link: confirm, cancel or unsubscribe", refserver.Signed()),
	}
}

// route is a refserver.Route entry of the table.
func route(method, pattern string, h func(http.ResponseWriter, *http.Request) error, summary string, a refserver.Access) refserver.Route {
	return refserver.Route{Method: method, Pattern: pattern, Handle: h, Summary: summary, Access: a}
}
