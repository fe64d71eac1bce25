package refserver

import (
	"net/http"

	"github.com/carebook/carebook/rbac"
)

// route is one entry of the route table: a method, a Go 1.22 ServeMux path
// pattern (also the OpenAPI path), its handler, a one-line summary and what
// a caller needs to reach it (see authz.go).
type route struct {
	method  string
	pattern string
	handle  func(http.ResponseWriter, *http.Request) error
	summary string
	access  access
}

// practicePrefix starts every route of one practice.
const practicePrefix = "/api/v1/practices/{practice}"

// routes is the route table: every route the server answers, and nothing
// else. The OpenAPI document must describe exactly these (see openapi_test.go).
func (s *Server) routes() []route { return append(s.apiRoutes(), s.pageRoutes()...) }

// apiRoutes are the routes that answer JSON, and their errors as problem
// documents.
func (s *Server) apiRoutes() []route {
	p := practicePrefix
	return []route{
		{"GET", "/healthz", s.healthz, "Tell that the process is alive", public()},
		{"GET", "/readyz", s.readyz, "Tell that the database answers", public()},
		{"GET", "/metrics", s.serveMetrics, "Prometheus metrics", public()},
		{"GET", "/api/openapi.json", s.serveOpenAPI, "This API's OpenAPI 3.1 document", public()},

		{"POST", "/api/v1/auth/login", s.login, "Sign in with a password (and a second factor if on)", public()},
		{"POST", "/api/v1/auth/logout", s.logout, "End this session", signedInOnly()},
		{"POST", "/api/v1/auth/logout-everywhere", s.logoutEverywhere, "End every session of this account", signedInOnly()},
		{"GET", "/api/v1/auth/sessions", s.listSessions, "This account's live sessions", signedInOnly()},
		{"DELETE", "/api/v1/auth/sessions/{session}", s.revokeSession, "End one of this account's sessions", signedInOnly()},
		{"POST", "/api/v1/auth/verify-email", s.verifyEmail, "Verify an email with its token", public()},
		{"POST", "/api/v1/auth/invitations/accept", s.acceptInvitation, "Accept a staff invitation, creating the account", public()},
		{"POST", "/api/v1/auth/mfa/totp", s.enrollTOTP, "Start TOTP enrollment", signedInOnly()},
		{"POST", "/api/v1/auth/mfa/totp/confirm", s.confirmTOTP, "Turn TOTP on with a first code", signedInOnly()},
		{"POST", "/api/v1/auth/password", s.changePassword, "Change this account's password, ending its other sessions", signedInOnly()},
		{"POST", p + "/registrations", s.register, "Sign a patient up with the practice", public()},
		{"POST", p + "/invitations", s.invite, "Invite a staff member", needs(rbac.StaffManage)},
		{"POST", p + "/api-keys", s.createAPIKey, "Issue an API key", needs(rbac.APIKeyManage)},
		{"DELETE", p + "/api-keys/{key}", s.revokeAPIKey, "Revoke an API key", needs(rbac.APIKeyManage)},

		{"GET", p + "/roles", s.listRoles, "List the built-in roles and the practice's custom roles", needs(rbac.StaffManage)},
		{"POST", p + "/roles", s.createRole, "Create a custom role", needs(rbac.RolesManage)},
		{"DELETE", p + "/roles/{role}", s.deleteRole, "Delete a custom role no grant refers to", needs(rbac.RolesManage)},
		{"GET", p + "/grants", s.listGrants, "List the grants inside the practice", needs(rbac.StaffManage)},
		{"POST", p + "/grants", s.createGrant, "Grant a role to an account", needs(rbac.StaffManage)},
		{"DELETE", p + "/grants/{grant}", s.deleteGrant, "Revoke a grant", needs(rbac.StaffManage)},

		{"GET", p + "/audit", s.listAudit, "Read the practice's activity log", needs(rbac.AuditRead)},
		{"GET", p + "/audit/verify", s.verifyAudit, "Check the activity log's hash chain", needs(rbac.AuditRead)},

		{"POST", "/api/v1/groups", s.createGroup, "Create a group of practices", bootstrap()},
		{"POST", "/api/v1/practices", s.createPractice, "Create a practice in a group", practiceCreation()},
		{"GET", p, s.getPractice, "Get a practice", member()},
		{"PUT", p + "/policy", s.setPolicy, "Replace a practice's booking policy", needs(rbac.PolicyManage)},

		{"POST", p + "/locations", s.createLocation, "Add a location", needs(rbac.PracticeManage)},
		{"GET", p + "/locations", s.listLocations, "List locations", member()},
		{"GET", p + "/locations/{location}", s.getLocation, "Get a location", member()},

		{"POST", p + "/providers", s.createProvider, "Add a provider", needs(rbac.ProviderManage)},
		{"GET", p + "/providers", s.listProviders, "List providers", member()},
		{"GET", p + "/providers/{provider}", s.getProvider, "Get a provider", member()},

		{"POST", p + "/resources", s.createResource, "Add a room or piece of equipment", needs(rbac.ResourceManage)},
		{"GET", p + "/resources", s.listResources, "List resources", needs(rbac.CalendarRead)},

		{"POST", p + "/patients", s.createPatient, "Register a patient", needs(rbac.PatientContactWrite).audited("patient.create", "patient", "")},
		{"GET", p + "/patients", s.listPatients, "List or search patients", needs(rbac.PatientContactRead).audited("patient.list", "patient", "")},
		{"GET", p + "/patients/{patient}", s.getPatient, "Get a patient", needs(rbac.PatientContactRead).of(patientInPath).audited("patient.read", "patient", "patient")},
		{"PUT", p + "/patients/{patient}", s.updatePatient, "Replace a patient's details", needs(rbac.PatientContactWrite).of(patientInPath).audited("patient.update", "patient", "patient")},

		{"POST", p + "/visit-types", s.createVisitType, "Add a visit type", needs(rbac.VisitTypeManage)},
		{"GET", p + "/visit-types", s.listVisitTypes, "List visit types", member()},
		{"GET", p + "/visit-types/{visit_type}", s.getVisitType, "Get a visit type", member()},

		{"POST", p + "/blocks", s.createBlock, "Publish availability", needs(rbac.AvailabilityManage)},
		{"GET", p + "/blocks", s.listBlocks, "List availability blocks", needs(rbac.AvailabilityRead)},
		{"GET", p + "/blocks/{block}", s.getBlock, "Get a block", needs(rbac.AvailabilityRead)},
		{"PUT", p + "/blocks/{block}", s.updateBlock, "Change a block", needs(rbac.AvailabilityManage)},
		{"DELETE", p + "/blocks/{block}", s.deleteBlock, "Delete a block that holds no appointments", needs(rbac.AvailabilityManage)},
		{"POST", p + "/blocks/{block}/move-appointments", s.moveAppointments, "Move a block's appointments to another block", needs(rbac.AvailabilityManage)},

		{"GET", p + "/slots", s.listSlots, "Find open slots", member()},

		{"POST", p + "/appointments", s.book, "Book a visit", needs(rbac.AppointmentBook).of(patientInBody).audited("appointment.book", "appointment", "")},
		{"GET", p + "/appointments/{appointment}", s.getAppointment, "Get an appointment", needs(rbac.AppointmentRead).of(patientOfAppointment).audited("appointment.read", "appointment", "appointment")},
		{"GET", p + "/appointments/{appointment}/history", s.appointmentHistory, "An appointment's history", needs(rbac.AppointmentRead).of(patientOfAppointment).audited("appointment.history", "appointment", "appointment")},
		{"POST", p + "/appointments/{appointment}/reschedule", s.reschedule, "Move an appointment to another time", needs(rbac.AppointmentReschedule).of(patientOfAppointment).audited("appointment.reschedule", "appointment", "appointment")},
		{"POST", p + "/appointments/{appointment}/status", s.setStatus, "Confirm, cancel, or record arrival, end or no-show", statusChange().audited("appointment.status", "appointment", "appointment")},

		{"GET", p + "/requests", s.listRequests, "New requests waiting for confirmation, oldest first", needs(rbac.AppointmentRead).audited("requests.read", "appointment", "")},
		{"GET", p + "/calendar", s.calendar, "The front desk calendar", needs(rbac.CalendarRead).audited("calendar.read", "appointment", "")},

		{"GET", p + "/notify/settings", s.getNotifySettings, "The practice's notification settings", needs(rbac.NotifyManage)},
		{"PUT", p + "/notify/settings", s.putNotifySettings, "Replace the practice's notification settings", needs(rbac.NotifyManage)},
		{"GET", p + "/notify/templates", s.listTemplates, "List the practice's own message templates", needs(rbac.NotifyManage)},
		{"PUT", p + "/notify/templates/{kind}/{channel}/{language}", s.putTemplate, "Create or replace a message template", needs(rbac.NotifyManage)},
		{"DELETE", p + "/notify/templates/{kind}/{channel}/{language}", s.deleteTemplate, "Delete a message template; the default takes over", needs(rbac.NotifyManage)},
		{"POST", p + "/notify/templates/preview", s.previewTemplate, "Render a template on sample data or an appointment", needs(rbac.NotifyManage)},
		{"GET", p + "/notify/messages", s.listOutbox, "List the practice's outbox", needs(rbac.NotifyManage).audited("notify.messages.list", "message", "")},
		{"GET", p + "/notify/messages/{message}", s.getMessage, "Get a message of the outbox", needs(rbac.NotifyManage).audited("notify.message.read", "message", "message")},
		{"POST", p + "/notify/messages/{message}/retry", s.retryMessage, "Send a dead letter again", needs(rbac.NotifyManage)},
		{"GET", p + "/notify/dead-letters", s.listDeadLetters, "List the messages that could not be sent", needs(rbac.NotifyManage).audited("notify.dead_letters.list", "message", "")},
		{"GET", p + "/notify/usage", s.notifyUsage, "Count the messages sent per channel", needs(rbac.NotifyManage)},
		{"POST", p + "/notify/campaigns", s.sendCampaign, "Send a campaign to the patients who consented", needs(rbac.NotifyManage)},

		{"GET", p + "/inbox", s.listInbox, "The front desk inbox", needs(rbac.InboxRead).audited("inbox.list", "message", "")},
		{"GET", p + "/inbox/count", s.inboxCount, "Count the inbox's unread messages", needs(rbac.InboxRead)},
		{"POST", p + "/inbox/{message}/read", s.markRead, "Mark an inbox message read", needs(rbac.InboxRead)},

		{"GET", p + "/patients/{patient}/preferences", s.getPreferences, "A patient's message preferences", needs(rbac.PatientContactRead).of(patientInPath).audited("preferences.read", "patient", "patient")},
		{"PATCH", p + "/patients/{patient}/preferences", s.updatePreferences, "Change a patient's message preferences", needs(rbac.PatientContactWrite).of(patientInPath).audited("preferences.update", "patient", "patient")},
		{"GET", p + "/patients/{patient}/consent-history", s.consentHistory, "A patient's consent changes, oldest first", needs(rbac.PatientContactRead).of(patientInPath).audited("consent.read", "patient", "patient")},

		{"POST", "/webhooks/twilio/{practice}/sms", s.twilioSMS, "Twilio: an inbound SMS, answered with TwiML", signed()},
		{"POST", "/webhooks/twilio/{practice}/status", s.twilioStatus, "Twilio: a message status callback", signed()},
		{"POST", "/webhooks/sendgrid/events", s.sendGridEvents, "SendGrid: the signed event webhook", signed()},
	}
}

// pageRoutes are the routes that answer HTML pages, and their errors as an
// HTML page (see render.go).
func (s *Server) pageRoutes() []route {
	return []route{
		{"GET", "/l/{token}", s.showLink, "The page of an email link: what it does, and a button", signed()},
		{"POST", "/l/{token}", s.followLink, "Follow an email link: confirm, cancel or unsubscribe", signed()},
	}
}
