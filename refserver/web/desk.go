package web

import "github.com/carebook/carebook/refserver"

// deskRoutes are the desk pages.
func (s *pages) deskRoutes() []refserver.Route {
	return nil
}
