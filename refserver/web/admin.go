package web

import "github.com/carebook/carebook/refserver"

// adminRoutes are the admin pages.
func (s *pages) adminRoutes() []refserver.Route {
	return nil
}
