package web

import "github.com/carebook/carebook/refserver"

// patientRoutes are the patient pages.
func (s *pages) patientRoutes() []refserver.Route {
	return nil
}
