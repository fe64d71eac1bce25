package api

import (
	"net/http"

	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
)

// routes is the route table of the JSON API: every route it answers, and
// nothing else. The OpenAPI document must describe exactly these, with the
// core's operational routes and the pages (see openapi_test.go).
func (s *server) routes() []refserver.Route {
	p := refserver.PracticePrefix
	return []refserver.Route{
		route("GET", "/api/openapi.json", s.serveOpenAPI, "This API's OpenAPI 3.1 document", refserver.Public()),

		route("POST", "/api/v1/auth/login", s.login, "Sign in with a password (and a second factor if on)", refserver.Public()),
		route("POST", "/api/v1/auth/logout", s.logout, "End this session", refserver.SignedInOnly()),
		route("POST", "/api/v1/auth/logout-everywhere", s.logoutEverywhere, "End every session of this account", refserver.SignedInOnly()),
		route("GET", "/api/v1/auth/sessions", s.listSessions, "This account's live sessions", refserver.SignedInOnly()),
		route("DELETE", "/api/v1/auth/sessions/{session}", s.revokeSession, "End one of this account's sessions", refserver.SignedInOnly()),
		route("POST", "/api/v1/auth/verify-email", s.verifyEmail, "Verify an email with its token", refserver.Public()),
		route("POST", "/api/v1/auth/invitations/accept", s.acceptInvitation, "Accept a staff invitation, creating the account", refserver.Public()),
		route("POST", "/api/v1/auth/mfa/totp", s.enrollTOTP, "Start TOTP enrollment", refserver.SignedInOnly()),
		route("POST", "/api/v1/auth/mfa/totp/confirm", s.confirmTOTP, "Turn TOTP on with a first code", refserver.SignedInOnly()),
		route("POST", "/api/v1/auth/password", s.changePassword, "Change this account's password, ending its other sessions", refserver.SignedInOnly()),
		route("POST", p+"/registrations", s.register, "Sign a patient up with the practice", refserver.Public()),
		route("POST", p+"/invitations", s.invite, "Invite a staff member", refserver.Needs(rbac.StaffManage)),
		route("POST", p+"/api-keys", s.createAPIKey, "Issue an API key", refserver.Needs(rbac.APIKeyManage)),
		route("DELETE", p+"/api-keys/{key}", s.revokeAPIKey, "Revoke an API key", refserver.Needs(rbac.APIKeyManage)),

		route("GET", p+"/roles", s.listRoles, "List the built-in roles and the practice's custom roles", refserver.Needs(rbac.StaffManage)),
		route("POST", p+"/roles", s.createRole, "Create a custom role", refserver.Needs(rbac.RolesManage)),
		route("DELETE", p+"/roles/{role}", s.deleteRole, "Delete a custom role no grant refers to", refserver.Needs(rbac.RolesManage)),
		route("GET", p+"/grants", s.listGrants, "List the grants inside the practice", refserver.Needs(rbac.StaffManage)),
		route("POST", p+"/grants", s.createGrant, "Grant a role to an account", refserver.Needs(rbac.StaffManage)),
		route("DELETE", p+"/grants/{grant}", s.deleteGrant, "Revoke a grant", refserver.Needs(rbac.StaffManage)),

		route("GET", p+"/audit", s.listAudit, "Read the practice's activity log", refserver.Needs(rbac.AuditRead)),
		route("GET", p+"/audit/verify", s.verifyAudit, "Check the activity log's hash chain", refserver.Needs(rbac.AuditRead)),

		route("POST", "/api/v1/groups", s.createGroup, "Create a group of practices", refserver.Bootstrap()),
		route("POST", "/api/v1/practices", s.createPractice, "Create a practice in a group", refserver.PracticeCreation()),
		route("GET", p, s.getPractice, "Get a practice", refserver.Member()),
		route("PUT", p+"/policy", s.setPolicy, "Replace a practice's booking policy", refserver.Needs(rbac.PolicyManage)),
		route("GET", p+"/verification", s.getVerification, "The practice's verification (its organisation NPI), or verified false", refserver.Guarded()),
		route("POST", p+"/verification", s.verifyPractice, "Verify the practice's organisation NPI (NPI-2, active) in the NPI registry", refserver.Guarded()),
		route("GET", p+"/usage", s.getUsage, "The practice's metered usage per UTC day and meter, and its totals, over a range", refserver.Guarded()),
		route("GET", p+"/invoices", s.listInvoices, "The practice's invoices, one per billing period, the latest first", refserver.Guarded()),
		route("GET", p+"/invoices/{invoice}", s.getInvoice, "One invoice of the practice, with its lines and charge attempts", refserver.Guarded()),
		// Trials and the read-only state (trials.go), decided by the
		// Engine's guard: the payment method's routes go on while the
		// practice is read-only.
		route("GET", p+"/billing/payment-method", s.getPaymentMethod, "The practice's payment method on file for its invoices", refserver.Guarded()),
		route("PUT", p+"/billing/payment-method", s.putPaymentMethod, "Attach the card a provider's setup saved; lifts a read-only state of a trial's end", refserver.Guarded()),
		route("POST", p+"/billing/payment-method/setup", s.setupPaymentMethod, "Start saving a card at a provider, for the browser to complete", refserver.Guarded()),
		route("GET", p+"/billing/read-only", s.getReadOnly, "Why the practice is read-only, since when and what restores it (empty when it writes)", refserver.Guarded()),

		route("POST", p+"/locations", s.createLocation, "Add a location", refserver.Needs(rbac.PracticeManage)),
		route("GET", p+"/locations", s.listLocations, "List locations", refserver.Member()),
		route("GET", p+"/locations/{location}", s.getLocation, "Get a location", refserver.Member()),

		route("POST", p+"/providers", s.createProvider, "Add a provider", refserver.Needs(rbac.ProviderManage)),
		route("GET", p+"/providers", s.listProviders, "List providers", refserver.Member()),
		route("GET", p+"/providers/{provider}", s.getProvider, "Get a provider", refserver.Member()),

		route("POST", p+"/resources", s.createResource, "Add a room or piece of equipment", refserver.Needs(rbac.ResourceManage)),
		route("GET", p+"/resources", s.listResources, "List resources", refserver.Needs(rbac.CalendarRead)),

		route("POST", p+"/patients", s.createPatient, "Register a patient", refserver.Needs(rbac.PatientContactWrite).Audited("patient.create", "patient", "")),
		route("GET", p+"/patients", s.listPatients, "List or search patients", refserver.Needs(rbac.PatientContactRead).Audited("patient.list", "patient", "")),
		route("GET", p+"/patients/{patient}", s.getPatient, "Get a patient", refserver.Needs(rbac.PatientContactRead).Of(refserver.PatientInPath).Audited("patient.read", "patient", "patient")),
		route("PUT", p+"/patients/{patient}", s.updatePatient, "Replace a patient's details", refserver.Needs(rbac.PatientContactWrite).Of(refserver.PatientInPath).Audited("patient.update", "patient", "patient")),

		route("POST", p+"/visit-types", s.createVisitType, "Add a visit type", refserver.Needs(rbac.VisitTypeManage)),
		route("GET", p+"/visit-types", s.listVisitTypes, "List visit types", refserver.Member()),
		route("GET", p+"/visit-types/{visit_type}", s.getVisitType, "Get a visit type", refserver.Member()),

		route("POST", p+"/blocks", s.createBlock, "Publish availability", refserver.Needs(rbac.AvailabilityManage)),
		route("GET", p+"/blocks", s.listBlocks, "List availability blocks", refserver.Needs(rbac.AvailabilityRead)),
		route("GET", p+"/blocks/{block}", s.getBlock, "Get a block", refserver.Needs(rbac.AvailabilityRead)),
		route("PUT", p+"/blocks/{block}", s.updateBlock, "Change a block", refserver.Needs(rbac.AvailabilityManage)),
		route("DELETE", p+"/blocks/{block}", s.deleteBlock, "Delete a block that holds no appointments", refserver.Needs(rbac.AvailabilityManage)),
		route("POST", p+"/blocks/{block}/move-appointments", s.moveAppointments, "Move a block's appointments to another block", refserver.Needs(rbac.AvailabilityManage)),

		route("GET", p+"/slots", s.listSlots, "Find open slots", refserver.Member()),

		route("POST", p+"/appointments", s.book, "Book a visit", refserver.Needs(rbac.AppointmentBook).Of(refserver.PatientInBody).Audited("appointment.book", "appointment", "")),
		route("GET", p+"/appointments/{appointment}", s.getAppointment, "Get an appointment", refserver.Needs(rbac.AppointmentRead).Of(refserver.PatientOfAppointment).Audited("appointment.read", "appointment", "appointment")),
		route("GET", p+"/appointments/{appointment}/history", s.appointmentHistory, "An appointment's history", refserver.Needs(rbac.AppointmentRead).Of(refserver.PatientOfAppointment).Audited("appointment.history", "appointment", "appointment")),
		route("POST", p+"/appointments/{appointment}/reschedule", s.reschedule, "Move an appointment to another time", refserver.Needs(rbac.AppointmentReschedule).Of(refserver.PatientOfAppointment).Audited("appointment.reschedule", "appointment", "appointment")),
		route("POST", p+"/appointments/{appointment}/status", s.setStatus, "Confirm, cancel, or record arrival, end or no-show", refserver.StatusChange().Audited("appointment.status", "appointment", "appointment")),

		route("GET", p+"/requests", s.listRequests, "New requests waiting for confirmation, oldest first", refserver.Needs(rbac.AppointmentRead).Audited("requests.read", "appointment", "")),
		route("GET", p+"/calendar", s.calendar, "The front desk calendar", refserver.Needs(rbac.CalendarRead).Audited("calendar.read", "appointment", "")),

		route("GET", p+"/notify/settings", s.getNotifySettings, "The practice's notification settings", refserver.Needs(rbac.NotifyManage)),
		route("PUT", p+"/notify/settings", s.putNotifySettings, "Replace the practice's notification settings", refserver.Needs(rbac.NotifyManage)),
		route("GET", p+"/notify/templates", s.listTemplates, "List the practice's own message templates", refserver.Needs(rbac.NotifyManage)),
		route("PUT", p+"/notify/templates/{kind}/{channel}/{language}", s.putTemplate, "Create or replace a message template", refserver.Needs(rbac.NotifyManage)),
		route("DELETE", p+"/notify/templates/{kind}/{channel}/{language}", s.deleteTemplate, "Delete a message template; the default takes over", refserver.Needs(rbac.NotifyManage)),
		route("POST", p+"/notify/templates/preview", s.previewTemplate, "Render a template on sample data or an appointment", refserver.Needs(rbac.NotifyManage)),
		route("GET", p+"/notify/messages", s.listOutbox, "List the practice's outbox", refserver.Needs(rbac.NotifyManage).Audited("notify.messages.list", "message", "")),
		route("GET", p+"/notify/messages/{message}", s.getMessage, "Get a message of the outbox", refserver.Needs(rbac.NotifyManage).Audited("notify.message.read", "message", "message")),
		route("POST", p+"/notify/messages/{message}/retry", s.retryMessage, "Send a dead letter again", refserver.Needs(rbac.NotifyManage)),
		route("GET", p+"/notify/dead-letters", s.listDeadLetters, "List the messages that could not be sent", refserver.Needs(rbac.NotifyManage).Audited("notify.dead_letters.list", "message", "")),
		route("GET", p+"/notify/usage", s.notifyUsage, "Count the messages sent per channel", refserver.Needs(rbac.NotifyManage)),
		route("POST", p+"/notify/campaigns", s.sendCampaign, "Send a campaign to the patients who consented", refserver.Needs(rbac.NotifyManage)),

		route("GET", p+"/inbox", s.listInbox, "The front desk inbox", refserver.Needs(rbac.InboxRead).Audited("inbox.list", "message", "")),
		route("GET", p+"/inbox/count", s.inboxCount, "Count the inbox's unread messages", refserver.Needs(rbac.InboxRead)),
		route("POST", p+"/inbox/{message}/read", s.markRead, "Mark an inbox message read", refserver.Needs(rbac.InboxRead)),

		route("GET", p+"/patients/{patient}/preferences", s.getPreferences, "A patient's message preferences", refserver.Needs(rbac.PatientContactRead).Of(refserver.PatientInPath).Audited("preferences.read", "patient", "patient")),
		route("PATCH", p+"/patients/{patient}/preferences", s.updatePreferences, "Change a patient's message preferences", refserver.Needs(rbac.PatientContactWrite).Of(refserver.PatientInPath).Audited("preferences.update", "patient", "patient")),
		route("GET", p+"/patients/{patient}/consent-history", s.consentHistory, "A patient's consent changes, oldest first", refserver.Needs(rbac.PatientContactRead).Of(refserver.PatientInPath).Audited("consent.read", "patient", "patient")),

		route("POST", p+"/patients/{patient}/files", s.uploadFile, "Upload a file of the patient: the body is its bytes", refserver.Guarded()),
		route("GET", p+"/patients/{patient}/files", s.listFiles, "List a patient's files, oldest first", refserver.Guarded()),
		route("GET", p+"/files/{file}", s.downloadFile, "Download a file", refserver.Guarded()),
		route("DELETE", p+"/files/{file}", s.deleteFile, "Delete a file", refserver.Guarded()),

		// The patient's rights (rights.go), decided by the Engine's guard.
		route("POST", p+"/patients/{patient}/amendments", s.requestAmendment, "Request an amendment of chart entries", refserver.Guarded()),
		route("GET", p+"/patients/{patient}/amendments", s.listAmendments, "A patient's amendment requests, oldest first", refserver.Guarded()),
		route("POST", p+"/patients/{patient}/amendments/{amendment}/decision", s.decideAmendment, "Accept or deny an amendment request", refserver.Guarded()),
		route("POST", p+"/patients/{patient}/amendments/{amendment}/extension", s.extendAmendment, "Extend an amendment request's time limit once by 30 days", refserver.Guarded()),
		route("POST", p+"/patients/{patient}/amendments/{amendment}/disagreement", s.disagreeAmendment, "File the patient's statement of disagreement with a denial", refserver.Guarded()),
		route("POST", p+"/patients/{patient}/amendments/{amendment}/rebuttal", s.rebutAmendment, "Answer a statement of disagreement with a rebuttal", refserver.Guarded()),
		route("GET", p+"/amendments/overdue", s.overdueAmendments, "Amendment requests undecided past their time limit", refserver.Guarded()),
		route("POST", p+"/patients/{patient}/record-requests", s.requestRecordCopy, "Request a copy of the patient's record", refserver.Guarded()),
		route("GET", p+"/patients/{patient}/record-requests", s.listRecordRequests, "A patient's record requests, oldest first", refserver.Guarded()),
		route("POST", p+"/patients/{patient}/record-requests/{record_request}/fulfilment", s.fulfilRecordRequest, "Record that a copy of the record was provided", refserver.Guarded()),
		route("POST", p+"/patients/{patient}/record-requests/{record_request}/denial", s.denyRecordRequest, "Deny a record request", refserver.Guarded()),
		route("POST", p+"/patients/{patient}/record-requests/{record_request}/extension", s.extendRecordRequest, "Extend a record request's time limit once by 30 days", refserver.Guarded()),
		route("GET", p+"/record-requests/overdue", s.overdueRecordRequests, "Record requests undecided past their time limit", refserver.Guarded()),
		route("POST", p+"/patients/{patient}/disclosures", s.recordDisclosure, "Record a disclosure outside treatment, payment and operations", refserver.Guarded()),
		route("GET", p+"/patients/{patient}/disclosures", s.disclosureReport, "The accounting of a patient's disclosures over 6 years, oldest first", refserver.Guarded()),
		route("POST", p+"/patients/{patient}/break-glass", s.breakGlass, "Open a patient's chart by break-glass, for a stated reason and one hour", refserver.Guarded()),
		route("GET", p+"/break-glass", s.breakGlassReview, "The practice's break-glass openings with their reasons, newest first (from, to: the last 30 days)", refserver.Guarded()),
		route("GET", p+"/patients/{patient}/$everything", s.everything, "A patient's record as a FHIR R4 searchset Bundle, paged", refserver.Guarded()),
		// The FHIR bulk export of the practice (bulk_export.go), decided by
		// the Engine's guard.
		route("GET", p+"/$export", s.startExport, "Start a FHIR bulk export of every patient of the practice", refserver.Guarded()),
		route("GET", p+"/exports/{export}", s.exportStatus, "A FHIR bulk export's status, or its manifest once complete", refserver.Guarded()),
		route("DELETE", p+"/exports/{export}", s.cancelExport, "Cancel a FHIR bulk export, or remove its files", refserver.Guarded()),
		route("GET", p+"/exports/{export}/files/{output}", s.exportFile, "Download a file of a FHIR bulk export (NDJSON)", refserver.Guarded()),

		// Visit payments (payments.go), decided by the Engine's guard.
		route("POST", p+"/payments", s.takeDeskPayment, "Record a payment taken at the desk (cash, card terminal, cheque, insurance copay)", refserver.Guarded()),
		route("GET", p+"/payments", s.listPayments, "List payments, newest first (patient, appointment, from, to, limit)", refserver.Guarded()),
		route("GET", p+"/payments/{payment}", s.getPayment, "A payment with its ledger", refserver.Guarded()),
		route("GET", p+"/payments/{payment}/receipt", s.paymentReceipt, "A payment's receipt as plain text, identical each time", refserver.Guarded()),
		route("POST", p+"/payments/{payment}/refunds", s.refundPayment, "Give all or part of a payment back", refserver.Guarded()),
		route("POST", p+"/payments/{payment}/reversals", s.reversePayment, "Reverse a desk ledger entry recorded by mistake", refserver.Guarded()),
		route("POST", p+"/payments/{payment}/desk", s.payOwed, "Take an owed fee at the desk", refserver.Guarded()),
		route("GET", p+"/payment-policies", s.listPaymentPolicies, "The practice's payment policies, its default first", refserver.Guarded()),
		route("PUT", p+"/payment-policies", s.putPaymentPolicy, "Write the practice's default or a visit type's payment policy", refserver.Guarded()),
		route("POST", "/webhooks/payments/{provider}", s.paymentWebhook, "A payment provider's signed webhook event", refserver.Signed()),

		route("POST", "/webhooks/twilio/{practice}/sms", s.twilioSMS, "Twilio: an inbound SMS, answered with TwiML", refserver.Signed()),
		route("POST", "/webhooks/twilio/{practice}/status", s.twilioStatus, "Twilio: a message status callback", refserver.Signed()),
		route("POST", "/webhooks/sendgrid/events", s.sendGridEvents, "SendGrid: the signed event webhook", refserver.Signed()),
	}
}

// route is a refserver.Route entry of the table.
func route(method, pattern string, h func(http.ResponseWriter, *http.Request) error, summary string, a refserver.Access) refserver.Route {
	return refserver.Route{Method: method, Pattern: pattern, Handle: h, Summary: summary, Access: a}
}
