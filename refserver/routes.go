package refserver

import "net/http"

// route is one entry of the route table: a method, a Go 1.22 ServeMux path
// pattern (also the OpenAPI path), its handler and a one-line summary.
type route struct {
	method  string
	pattern string
	handle  func(http.ResponseWriter, *http.Request) error
	summary string
}

// practicePrefix starts every route of one practice.
const practicePrefix = "/api/v1/practices/{practice}"

// routes is the route table: every route the server answers, and nothing
// else. The OpenAPI document must describe exactly these (see openapi_test.go).
func (s *Server) routes() []route {
	p := practicePrefix
	return []route{
		{"GET", "/healthz", s.healthz, "Tell that the process is alive"},
		{"GET", "/readyz", s.readyz, "Tell that the database answers"},
		{"GET", "/metrics", s.serveMetrics, "Prometheus metrics"},
		{"GET", "/api/openapi.json", s.serveOpenAPI, "This API's OpenAPI 3.1 document"},

		{"POST", "/api/v1/auth/login", s.login, "Sign in with a password (and a second factor if on)"},
		{"POST", "/api/v1/auth/logout", s.logout, "End this session"},
		{"POST", "/api/v1/auth/logout-everywhere", s.logoutEverywhere, "End every session of this account"},
		{"GET", "/api/v1/auth/sessions", s.listSessions, "This account's live sessions"},
		{"DELETE", "/api/v1/auth/sessions/{session}", s.revokeSession, "End one of this account's sessions"},
		{"POST", "/api/v1/auth/verify-email", s.verifyEmail, "Verify an email with its token"},
		{"POST", "/api/v1/auth/invitations/accept", s.acceptInvitation, "Accept a staff invitation, creating the account"},
		{"POST", "/api/v1/auth/mfa/totp", s.enrollTOTP, "Start TOTP enrollment"},
		{"POST", "/api/v1/auth/mfa/totp/confirm", s.confirmTOTP, "Turn TOTP on with a first code"},
		{"POST", p + "/registrations", s.register, "Sign a patient up with the practice"},
		{"POST", p + "/invitations", s.invite, "Invite a staff member"},
		{"POST", p + "/api-keys", s.createAPIKey, "Issue an API key"},
		{"DELETE", p + "/api-keys/{key}", s.revokeAPIKey, "Revoke an API key"},

		{"POST", "/api/v1/groups", s.createGroup, "Create a group of practices"},
		{"POST", "/api/v1/practices", s.createPractice, "Create a practice in a group"},
		{"GET", p, s.getPractice, "Get a practice"},
		{"PUT", p + "/policy", s.setPolicy, "Replace a practice's booking policy"},

		{"POST", p + "/locations", s.createLocation, "Add a location"},
		{"GET", p + "/locations", s.listLocations, "List locations"},
		{"GET", p + "/locations/{location}", s.getLocation, "Get a location"},

		{"POST", p + "/providers", s.createProvider, "Add a provider"},
		{"GET", p + "/providers", s.listProviders, "List providers"},
		{"GET", p + "/providers/{provider}", s.getProvider, "Get a provider"},

		{"POST", p + "/resources", s.createResource, "Add a room or piece of equipment"},
		{"GET", p + "/resources", s.listResources, "List resources"},

		{"POST", p + "/patients", s.createPatient, "Register a patient"},
		{"GET", p + "/patients", s.listPatients, "List or search patients"},
		{"GET", p + "/patients/{patient}", s.getPatient, "Get a patient"},
		{"PUT", p + "/patients/{patient}", s.updatePatient, "Replace a patient's details"},

		{"POST", p + "/visit-types", s.createVisitType, "Add a visit type"},
		{"GET", p + "/visit-types", s.listVisitTypes, "List visit types"},
		{"GET", p + "/visit-types/{visit_type}", s.getVisitType, "Get a visit type"},

		{"POST", p + "/blocks", s.createBlock, "Publish availability"},
		{"GET", p + "/blocks", s.listBlocks, "List availability blocks"},
		{"GET", p + "/blocks/{block}", s.getBlock, "Get a block"},
		{"PUT", p + "/blocks/{block}", s.updateBlock, "Change a block"},
		{"DELETE", p + "/blocks/{block}", s.deleteBlock, "Delete a block that holds no appointments"},
		{"POST", p + "/blocks/{block}/move-appointments", s.moveAppointments, "Move a block's appointments to another block"},

		{"GET", p + "/slots", s.listSlots, "Find open slots"},

		{"POST", p + "/appointments", s.book, "Book a visit"},
		{"GET", p + "/appointments/{appointment}", s.getAppointment, "Get an appointment"},
		{"GET", p + "/appointments/{appointment}/history", s.appointmentHistory, "An appointment's history"},
		{"POST", p + "/appointments/{appointment}/reschedule", s.reschedule, "Move an appointment to another time"},
		{"POST", p + "/appointments/{appointment}/status", s.setStatus, "Confirm, cancel, or record arrival, end or no-show"},

		{"GET", p + "/requests", s.listRequests, "New requests waiting for confirmation, oldest first"},
		{"GET", p + "/calendar", s.calendar, "The front desk calendar"},
	}
}
