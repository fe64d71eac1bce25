package web

import "github.com/carebook/carebook/refserver"

// staffRoutes are the staff pages.
func (s *pages) staffRoutes() []refserver.Route {
	return nil
}
