package api

import (
	"context"
	"encoding/json"
	"github.com/carebook/carebook"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// verdict is the expected class of an answer.
type verdict byte

const (
	allowed   verdict = 'A' // neither 401, 403 nor 404, and no 5xx: the handler decides
	forbidden verdict = 'F' // 403
	notfound  verdict = 'N' // 404
)

// The roles of the matrix, in the order of a matrixRow's columns.
var matrixRoles = []string{"group_admin", "practice_admin_A", "front_desk_A", "patient_P1"}

// matrixRow is what each role gets on one route. onA has five verdicts:
// group admin, practice admin of A, front desk of A, the patient acting on
// P1 (itself), the patient acting on P2 (another patient of A; on routes
// that name no patient it is the same request again). onB has four, one a
// role, on practice B (the patient acting on PB). Routes without
// {practice} take onB with the same IDs as onA.
type matrixRow struct {
	onA, onB string
}

// authzMatrix is the authorization matrix: one row per route of the route
// table, keyed "METHOD pattern" with p for the practice prefix. A route
// without a row fails TestAuthorizationMatrix.
var authzMatrix = map[string]matrixRow{
	"GET /healthz":          {"AAAAA", "AAAA"},
	"GET /readyz":           {"AAAAA", "AAAA"},
	"GET /metrics":          {"AAAAA", "AAAA"},
	"GET /api/openapi.json": {"AAAAA", "AAAA"},
	// The support staff's routes: an account's credentials never reach
	// them, whatever its grants.
	"POST /api/v1/ops/login":                         {"AAAAA", "AAAA"},
	"POST /api/v1/ops/logout":                        {"FFFFF", "FFFF"},
	"GET /api/v1/ops/practices":                      {"FFFFF", "FFFF"},
	"GET /api/v1/ops/practices/{id}":                 {"FFFFF", "FFFF"},
	"POST /api/v1/ops/practices/{id}/trial":          {"FFFFF", "FFFF"},
	"PUT /api/v1/ops/practices/{id}/plan":            {"FFFFF", "FFFF"},
	"POST /api/v1/ops/practices/{id}/read-only/lift": {"FFFFF", "FFFF"},
	"POST /api/v1/auth/login":                        {"AAAAA", "AAAA"},
	"POST /api/v1/auth/logout":                       {"AAAAA", "AAAA"},
	"POST /api/v1/auth/logout-everywhere":            {"AAAAA", "AAAA"},
	"GET /api/v1/auth/sessions":                      {"AAAAA", "AAAA"},
	"DELETE /api/v1/auth/sessions/{session}":         {"AAAAA", "AAAA"},
	"POST /api/v1/auth/verify-email":                 {"AAAAA", "AAAA"},
	"POST /api/v1/auth/invitations/accept":           {"AAAAA", "AAAA"},
	"POST /api/v1/auth/mfa/totp":                     {"AAAAA", "AAAA"},
	"POST /api/v1/auth/mfa/totp/confirm":             {"AAAAA", "AAAA"},
	"POST /api/v1/auth/password":                     {"AAAAA", "AAAA"},
	"POST p/registrations":                           {"AAAAA", "AAAA"},
	"POST p/invitations":                             {"AAFFF", "ANNN"},
	"POST p/api-keys":                                {"AAFFF", "ANNN"},
	"DELETE p/api-keys/{key}":                        {"AAFFF", "ANNN"},
	"GET p/roles":                                    {"AAFFF", "ANNN"},
	"POST p/roles":                                   {"AAFFF", "ANNN"},
	"DELETE p/roles/{role}":                          {"AAFFF", "ANNN"},
	"GET p/grants":                                   {"AAFFF", "ANNN"},
	"POST p/grants":                                  {"AAFFF", "ANNN"},
	"DELETE p/grants/{grant}":                        {"AAFFF", "ANNN"},
	"GET p/audit":                                    {"AAFFF", "ANNN"},
	"GET p/audit/verify":                             {"AAFFF", "ANNN"},
	"POST /api/v1/groups":                            {"AAAFF", "AAAF"},
	"POST /api/v1/practices":                         {"AFFFF", "AFFF"},
	"GET p":                                          {"AAAAA", "ANNN"},
	"PUT p/policy":                                   {"AAFFF", "ANNN"},
	"POST p/locations":                               {"AAFFF", "ANNN"},
	"GET p/locations":                                {"AAAAA", "ANNN"},
	"GET p/locations/{location}":                     {"AAAAA", "ANNN"},
	"POST p/providers":                               {"AAFFF", "ANNN"},
	"GET p/providers":                                {"AAAAA", "ANNN"},
	"GET p/providers/{provider}":                     {"AAAAA", "ANNN"},
	"POST p/resources":                               {"AAFFF", "ANNN"},
	"GET p/resources":                                {"AAAFF", "ANNN"},
	"POST p/patients":                                {"AAAFF", "ANNN"},
	"GET p/patients":                                 {"AAAFF", "ANNN"},
	"GET p/patients/{patient}":                       {"AAAAF", "ANNN"},
	"PUT p/patients/{patient}":                       {"AAAAF", "ANNN"},
	"POST p/visit-types":                             {"AAFFF", "ANNN"},
	"GET p/visit-types":                              {"AAAAA", "ANNN"},
	"GET p/visit-types/{visit_type}":                 {"AAAAA", "ANNN"},
	"POST p/blocks":                                  {"AAFFF", "ANNN"},
	"GET p/blocks":                                   {"AAAFF", "ANNN"},
	"GET p/blocks/{block}":                           {"AAAFF", "ANNN"},
	"PUT p/blocks/{block}":                           {"AAFFF", "ANNN"},
	"DELETE p/blocks/{block}":                        {"AAFFF", "ANNN"},
	"POST p/blocks/{block}/move-appointments":        {"AAFFF", "ANNN"},
	"GET p/slots":                                    {"AAAAA", "ANNN"},
	"POST p/appointments":                            {"AAAAF", "ANNN"},
	"GET p/appointments/{appointment}":               {"AAAAF", "ANNN"},
	"GET p/appointments/{appointment}/history":       {"AAAAF", "ANNN"},
	"POST p/appointments/{appointment}/reschedule":   {"AAAAF", "ANNN"},
	"POST p/appointments/{appointment}/status":       {"AAAAF", "ANNN"},
	"GET p/requests":                                 {"AAAFF", "ANNN"},
	"GET p/calendar":                                 {"AAAFF", "ANNN"},

	"GET p/notify/settings":                                 {"AAFFF", "ANNN"},
	"PUT p/notify/settings":                                 {"AAFFF", "ANNN"},
	"GET p/notify/templates":                                {"AAFFF", "ANNN"},
	"PUT p/notify/templates/{kind}/{channel}/{language}":    {"AAFFF", "ANNN"},
	"DELETE p/notify/templates/{kind}/{channel}/{language}": {"AAFFF", "ANNN"},
	"POST p/notify/templates/preview":                       {"AAFFF", "ANNN"},
	"GET p/notify/messages":                                 {"AAFFF", "ANNN"},
	"GET p/notify/messages/{message}":                       {"AAFFF", "ANNN"},
	"POST p/notify/messages/{message}/retry":                {"AAFFF", "ANNN"},
	"GET p/notify/dead-letters":                             {"AAFFF", "ANNN"},
	"GET p/notify/usage":                                    {"AAFFF", "ANNN"},
	"POST p/notify/campaigns":                               {"AAFFF", "ANNN"},
	"GET p/inbox":                                           {"AAAFF", "ANNN"},
	"GET p/inbox/count":                                     {"AAAFF", "ANNN"},
	"POST p/inbox/{message}/read":                           {"AAAFF", "ANNN"},
	"GET p/patients/{patient}/preferences":                  {"AAAAF", "ANNN"},
	"PATCH p/patients/{patient}/preferences":                {"AAAAF", "ANNN"},
	"GET p/patients/{patient}/consent-history":              {"AAAAF", "ANNN"},
	// Files: the chart's permissions, decided by the Engine's guard. A
	// patient reads their own files and may not upload or delete; the
	// front desk sees no clinical data.
	"POST p/patients/{patient}/files": {"AAFFF", "ANNN"},
	"GET p/patients/{patient}/files":  {"AAFAF", "ANNN"},
	"GET p/files/{file}":              {"AAFAF", "ANNN"},
	"DELETE p/files/{file}":           {"AAFFF", "ANNN"},
	// The patient's rights, decided by the Engine's guard: a patient makes
	// and reads requests about their own record (patient.clinical.read);
	// deciding them, recording disclosures and the overdue lists need
	// patient.rights.manage; the front desk has neither.
	"POST p/patients/{patient}/amendments":                                  {"AAFAF", "ANNN"},
	"GET p/patients/{patient}/amendments":                                   {"AAFAF", "ANNN"},
	"POST p/patients/{patient}/amendments/{amendment}/decision":             {"AAFFF", "ANNN"},
	"POST p/patients/{patient}/amendments/{amendment}/extension":            {"AAFFF", "ANNN"},
	"POST p/patients/{patient}/amendments/{amendment}/disagreement":         {"AAFAF", "ANNN"},
	"POST p/patients/{patient}/amendments/{amendment}/rebuttal":             {"AAFFF", "ANNN"},
	"GET p/amendments/overdue":                                              {"AAFFF", "ANNN"},
	"POST p/patients/{patient}/record-requests":                             {"AAFAF", "ANNN"},
	"GET p/patients/{patient}/record-requests":                              {"AAFAF", "ANNN"},
	"POST p/patients/{patient}/record-requests/{record_request}/fulfilment": {"AAFFF", "ANNN"},
	"POST p/patients/{patient}/record-requests/{record_request}/denial":     {"AAFFF", "ANNN"},
	"POST p/patients/{patient}/record-requests/{record_request}/extension":  {"AAFFF", "ANNN"},
	"GET p/record-requests/overdue":                                         {"AAFFF", "ANNN"},
	"POST p/patients/{patient}/disclosures":                                 {"AAFFF", "ANNN"},
	"GET p/patients/{patient}/disclosures":                                  {"AAFAF", "ANNN"},
	// The FHIR export of a patient's record: the chart's read permission.
	"GET p/patients/{patient}/$everything": {"AAFAF", "ANNN"},
	// Break-glass needs patient.breakglass (administrators have it, and
	// get 409: they read the whole chart already); its review audit.read.
	"POST p/patients/{patient}/break-glass": {"AAFFF", "ANNN"},
	"GET p/break-glass":                     {"AAFFF", "ANNN"},
	// The bulk export of the practice: clinical read and rights management
	// at the practice's scope; only its requester (here the group
	// administrator) follows, cancels and downloads an export: to another
	// administrator it is not there.
	"GET p/$export":                         {"AAFFF", "ANNN"},
	"GET p/exports/{export}":                {"ANFFF", "ANNN"},
	"DELETE p/exports/{export}":             {"ANFFF", "ANNN"},
	"GET p/exports/{export}/files/{output}": {"ANFFF", "ANNN"},
	// Payments, decided by the Engine's guard: the desk takes, reads and
	// refunds them; a patient reads their own; the policies need
	// policy.manage.
	"POST p/payments":                     {"AAAFF", "ANNN"},
	"GET p/payments":                      {"AAAFF", "ANNN"},
	"GET p/payments/{payment}":            {"AAAAF", "ANNN"},
	"GET p/payments/{payment}/receipt":    {"AAAAF", "ANNN"},
	"POST p/payments/{payment}/refunds":   {"AAAFF", "ANNN"},
	"POST p/payments/{payment}/reversals": {"AAAFF", "ANNN"},
	"POST p/payments/{payment}/desk":      {"AAAFF", "ANNN"},
	"GET p/payment-policies":              {"AAFFF", "ANNN"},
	"PUT p/payment-policies":              {"AAFFF", "ANNN"},
	"GET p/verification":                  {"AAAAA", "ANNN"},
	"POST p/verification":                 {"AAFFF", "ANNN"},
	"GET p/usage":                         {"AAFFF", "ANNN"},
	"GET p/invoices":                      {"AAFFF", "ANNN"},
	"GET p/invoices/{invoice}":            {"AAFFF", "ANNN"},
	"GET p/billing/payment-method":        {"AAFFF", "ANNN"},
	"PUT p/billing/payment-method":        {"AAFFF", "ANNN"},
	"POST p/billing/payment-method/setup": {"AAFFF", "ANNN"},
	"GET p/billing/read-only":             {"AAFFF", "ANNN"},
	"POST /webhooks/payments/{provider}":  {"NNNNN", "NNNN"},
	// Signed routes ignore sessions: without a provider's signature or a
	// valid link token every role is refused alike.
	"POST /webhooks/twilio/{practice}/sms":    {"FFFFF", "FFFF"},
	"POST /webhooks/twilio/{practice}/status": {"FFFFF", "FFFF"},
	"POST /webhooks/sendgrid/events":          {"FFFFF", "FFFF"},
	"GET /l/{token}":                          {"FFFFF", "FFFF"},
	"POST /l/{token}":                         {"FFFFF", "FFFF"},
}

// matrixKey is a route's key in authzMatrix.
func matrixKey(rt refserver.Route) string {
	return rt.Method + " " + strings.Replace(rt.Pattern, refserver.PracticePrefix, "p", 1)
}

// practiceIDs are the IDs of one practice's fixture; patient and
// appointment are the patient's own, otherPatient and otherAppointment
// another patient's.
type practiceIDs struct {
	practice, location, provider, visitType, block string
	patient, appointment                           string
	otherPatient, otherAppointment                 string
	// message is a message of the practice's outbox (about the first
	// booking).
	message string
	// file is a file of the patient, otherFile one of the other patient.
	file, otherFile string
	// payment is a desk payment of the patient, otherPayment one of the
	// other patient.
	payment, otherPayment string
	// invoice is an invoice of the practice's first billing period.
	invoice string
}

// matrixEnv is an authEnv with practices A and B in one group, an account
// per role and their sessions.
type matrixEnv struct {
	*authEnv
	st       *sqlstore.Store
	a, b     practiceIDs
	emails   map[string]string  // role => email
	spare    identity.AccountID // a staff account of A with no role
	sessions map[string]signedIn
	// exports are a complete bulk export of each practice, by the group
	// administrator, made on first use (exportOf).
	exports map[string]matrixExport
}

// matrixExport is a complete bulk export's status path and one of its
// files' IDs.
type matrixExport struct{ status, output string }

// exportOf returns practice's complete export, kicking it off and running
// it on first use.
func (m *matrixEnv) exportOf(practice string) matrixExport {
	m.t.Helper()
	if x, ok := m.exports[practice]; ok {
		return x
	}
	ga := bearer(m.token("group_admin"))
	status := m.kickOff(practice, "", ga)
	if _, err := m.engine.RunExports(context.Background()); err != nil {
		m.t.Fatal(err)
	}
	res := m.do("GET", status, nil, ga)
	var man manifest
	if res.status != http.StatusOK || json.Unmarshal(res.body, &man) != nil || len(man.Output) == 0 {
		m.t.Fatalf("the matrix's export: %d %s", res.status, res.body)
	}
	u, err := url.Parse(man.Output[0].URL)
	if err != nil {
		m.t.Fatal(err)
	}
	if m.exports == nil {
		m.exports = map[string]matrixExport{}
	}
	x := matrixExport{status: status, output: path.Base(u.Path)}
	m.exports[practice] = x
	return x
}

func newMatrixEnv(t *testing.T) *matrixEnv {
	t.Helper()
	return newMatrixEnvOn(t, sqltest.SQLite(t))
}

// newMatrixEnvOn is newMatrixEnv on st, its engine opened with opts.
func newMatrixEnvOn(t *testing.T, st *sqlstore.Store, opts ...carebook.Option) *matrixEnv {
	t.Helper()
	ctx := context.Background()
	m := &matrixEnv{authEnv: newAuthEnvWith(t, st, testBucket(t), opts...), st: st, emails: map[string]string{}, sessions: map[string]signedIn{}}
	pb, err := m.engine.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: m.group, Name: "Harbor Cardiology"})
	if err != nil {
		t.Fatal(err)
	}
	// Staff accounts are made by the engine, granted only what each column
	// holds.
	staffAccount := func(email string, role rbac.RoleID, scope rbac.Scope) {
		tok, _, err := m.engine.Identity.CreateInvitation(ctx, m.practice, email, "staff", uuid.Nil)
		if err != nil {
			t.Fatal(err)
		}
		acct, _, err := m.engine.Identity.AcceptInvitation(ctx, tok, password)
		if err != nil {
			t.Fatal(err)
		}
		m.grant(acct.ID, role, scope)
	}
	m.emails["practice_admin_A"] = "admin@example.com"
	m.emails["group_admin"] = "group@example.com"
	staffAccount("group@example.com", rbac.GroupAdminID, rbac.GroupScope(m.group))
	m.emails["front_desk_A"] = "desk@example.com"
	staffAccount("desk@example.com", rbac.FrontDeskID, rbac.PracticeScope(m.group, m.practice))
	tok, _, err := m.engine.Identity.CreateInvitation(ctx, m.practice, "spare@example.com", "staff", uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	spare, _, err := m.engine.Identity.AcceptInvitation(ctx, tok, password)
	if err != nil {
		t.Fatal(err)
	}
	m.spare = spare.ID

	ga := bearer(m.token("group_admin"))
	m.a = m.fixture(m.practice.String(), ga, true)
	m.b = m.fixture(pb.ID.String(), ga, false)

	m.emails["patient_P1"] = "p1@example.com"
	acct, tok, err := m.engine.Identity.Register(ctx, identity.Registration{PracticeID: m.practice, Email: "p1@example.com", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.engine.Identity.VerifyEmail(ctx, tok); err != nil {
		t.Fatal(err)
	}
	m.grant(acct.ID, rbac.PatientRoleID, rbac.SelfScope(m.group, m.practice, uuid.MustParse(m.a.patient)))
	return m
}

func (m *matrixEnv) grant(account identity.AccountID, role rbac.RoleID, scope rbac.Scope) {
	m.t.Helper()
	if err := m.st.RBAC.CreateGrant(context.Background(), &rbac.Grant{ID: uuid.New(), AccountID: account, RoleID: role,
		Scope: scope, CreatedAt: testNow, CreatedBy: "system:test"}); err != nil {
		m.t.Fatal(err)
	}
}

// token is role's session token, signing in when it has none.
func (m *matrixEnv) token(role string) string {
	m.t.Helper()
	s, ok := m.sessions[role]
	if !ok {
		s = m.login(m.emails[role], password)
		m.sessions[role] = s
	}
	return s.token
}

// fixture sets a practice up through the API: a location, a provider, a
// visit type, a block, and two patients with an appointment each (one when
// two is false).
func (m *matrixEnv) fixture(practice string, who reqOpt, two bool) practiceIDs {
	m.t.Helper()
	base := "/api/v1/practices/" + practice
	f := practiceIDs{practice: practice}
	l := m.ok(m.do("POST", base+"/locations", map[string]any{"name": "Main street", "time_zone": "America/New_York",
		"address": map[string]any{"line1": "1 Main St", "city": "New York", "region": "NY", "country": "US"},
		"geo":     map[string]any{"lat": 40.7, "lng": -74.0}}, who), 201)
	f.location = str(l, "id")
	pr := m.ok(m.do("POST", base+"/providers", map[string]any{"npi": "1234567893", "given_name": "Ada", "family_name": "Lovelace",
		"specialties": []string{"family-medicine"}, "location_ids": []string{f.location}}, who), 201)
	f.provider = str(pr, "id")
	v := m.ok(m.do("POST", base+"/visit-types", map[string]any{"name": "Check-up", "duration_minutes": 30}, who), 201)
	f.visitType = str(v, "id")
	b := m.ok(m.do("POST", base+"/blocks", map[string]any{"provider_id": f.provider, "location_id": f.location,
		"start": "2030-03-05T09:00:00-05:00", "end": "2030-03-05T12:00:00-05:00", "rrule": "FREQ=WEEKLY;BYDAY=TU,TH"}, who), 201)
	f.block = str(b, "id")
	patientAndVisit := func(name, phone, start string) (string, string) {
		pt := m.ok(m.do("POST", base+"/patients", map[string]any{"given_name": name, "family_name": "Hopper",
			"birth_date": "1980-12-09", "phone": phone}, who), 201)
		ap := m.ok(m.do("POST", base+"/appointments", map[string]any{"patient_id": str(pt, "id"), "provider_id": f.provider,
			"visit_type_id": f.visitType, "start": start}, who), 201)
		return str(pt, "id"), str(ap, "id")
	}
	f.patient, f.appointment = patientAndVisit("Grace", "+12025550143", "2030-03-05T09:00:00-05:00")
	f.otherPatient, f.otherAppointment = f.patient, f.appointment
	if two {
		f.otherPatient, f.otherAppointment = patientAndVisit("Alan", "+12025550144", "2030-03-05T09:30:00-05:00")
	}
	upload := func(patient, name string) string {
		return str(m.ok(m.do("POST", base+"/patients/"+patient+"/files?name="+url.QueryEscape(name), raw("A scanned letter"), who,
			withHeader("Content-Type", "text/plain")), 201), "id")
	}
	f.file = upload(f.patient, "letter.txt")
	f.otherFile = f.file
	if two {
		f.otherFile = upload(f.otherPatient, "other letter.txt")
	}
	pay := func(patient string) string {
		return str(m.ok(m.do("POST", base+"/payments", map[string]any{"patient_id": patient, "amount": map[string]any{"amount": 2500, "currency": "USD"},
			"method": map[string]any{"kind": "cash"}}, who), 201), "id")
	}
	f.payment = pay(f.patient)
	f.otherPayment = f.payment
	if two {
		f.otherPayment = pay(f.otherPatient)
	}
	inv := &billing.Invoice{ID: uuid.New(), Practice: uuid.MustParse(practice), Plan: "basic", PeriodStart: testNow, PeriodEnd: testNow.AddDate(0, 1, 0),
		Lines: []billing.InvoiceLine{{Kind: billing.LineBase, Plan: "basic", Quantity: 31, Of: 31, Unit: 4900, Amount: 4900}},
		Total: billing.Money{Amount: 4900, Currency: "USD"}, Status: billing.InvoiceOpen, CreatedAt: testNow}
	if _, err := m.st.Billing.CreateInvoice(context.Background(), inv); err != nil {
		m.t.Fatal(err)
	}
	f.invoice = inv.ID.String()
	msgs, err := m.engine.Notify.Messages(context.Background(), uuid.MustParse(practice), notify.MessageFilter{Limit: 1})
	if err != nil || len(msgs) == 0 {
		m.t.Fatalf("no message in the fixture's outbox: %v", err)
	}
	f.message = msgs[0].ID.String()
	return f
}

// sessionEnding routes end the session they are sent with (or all of the
// account's): each cell signs in afresh and forgets the session after.
var sessionEnding = map[string]bool{
	"POST /api/v1/auth/logout":               true,
	"POST /api/v1/auth/logout-everywhere":    true,
	"DELETE /api/v1/auth/sessions/{session}": true,
}

// cell sends one request of the matrix: rt as role, over the IDs of f,
// acting on f's own patient unless other.
func (m *matrixEnv) cell(rt refserver.Route, role string, f practiceIDs, other bool) resp {
	m.t.Helper()
	patient, appointment := f.patient, f.appointment
	if other {
		patient, appointment = f.otherPatient, f.otherAppointment
	}
	key := matrixKey(rt)
	tok := m.token(role)
	path := rt.Pattern
	if sessionEnding[key] {
		s := m.login(m.emails[role], password)
		tok = s.token
		path = strings.Replace(path, "{session}", str(s.session, "id"), 1)
		delete(m.sessions, role)
	}
	if strings.Contains(path, "{key}") {
		_, k, err := m.engine.Identity.CreateAPIKey(context.Background(), uuid.MustParse(f.practice), "matrix", nil, m.admin)
		if err != nil {
			m.t.Fatal(err)
		}
		path = strings.Replace(path, "{key}", k.ID.String(), 1)
	}
	if strings.Contains(path, "{role}") || strings.Contains(path, "{grant}") {
		// A fresh custom role of the practice, and a grant of it to an
		// account outside the matrix, for each cell to delete.
		ctx := context.Background()
		pid := uuid.MustParse(f.practice)
		role := &rbac.Role{ID: uuid.New(), Owner: rbac.PracticeOwner(m.group, pid), Name: "matrix " + uuid.NewString()[:8],
			Permissions: []rbac.Permission{rbac.CalendarRead}, CreatedAt: testNow, CreatedBy: "system:test", UpdatedAt: testNow}
		if err := m.st.RBAC.CreateRole(ctx, role); err != nil {
			m.t.Fatal(err)
		}
		g := &rbac.Grant{ID: uuid.New(), AccountID: m.spare, RoleID: role.ID, Scope: rbac.PracticeScope(m.group, pid),
			CreatedAt: testNow, CreatedBy: "system:test"}
		if strings.Contains(path, "{grant}") {
			if err := m.st.RBAC.CreateGrant(ctx, g); err != nil {
				m.t.Fatal(err)
			}
		}
		path = strings.NewReplacer("{role}", role.ID.String(), "{grant}", g.ID.String()).Replace(path)
	}
	if strings.Contains(path, "{kind}") {
		// A template of the practice for each cell to delete.
		if _, err := m.engine.Notify.PutTemplate(context.Background(), notify.Template{PracticeID: uuid.MustParse(f.practice),
			Kind: notify.KindReminder, Channel: notify.SMS, Language: "en", Text: "See you {{.When}}"}); err != nil {
			m.t.Fatal(err)
		}
	}
	file := f.file
	if other {
		file = f.otherFile
	}
	payment := f.payment
	if other {
		payment = f.otherPayment
	}
	if rt.Method == http.MethodDelete && strings.Contains(path, "{file}") {
		// A fresh file of the patient for each cell to delete.
		nf, err := m.engine.Files.Put(context.Background(), uuid.MustParse(f.practice), uuid.MustParse(patient), "to delete.txt", "text/plain", strings.NewReader("x"))
		if err != nil {
			m.t.Fatal(err)
		}
		file = nf.ID.String()
	}
	if strings.Contains(path, "{export}") {
		x := m.exportOf(f.practice)
		if rt.Method == http.MethodDelete {
			// A fresh export for each cell to cancel.
			x.status = m.kickOff(f.practice, "", bearer(m.token("group_admin")))
		}
		path = strings.NewReplacer("{export}", strings.TrimPrefix(x.status[strings.LastIndex(x.status, "/"):], "/"), "{output}", x.output).Replace(path)
	}
	path = strings.NewReplacer("{file}", file, "{payment}", payment, "{invoice}", f.invoice, "{practice}", f.practice, "{id}", f.practice, "{location}", f.location, "{provider}", f.provider,
		"{visit_type}", f.visitType, "{block}", f.block, "{patient}", patient, "{appointment}", appointment,
		"{message}", f.message, "{amendment}", uuid.NewString(), "{record_request}", uuid.NewString(), "{kind}", "reminder", "{channel}", "sms", "{language}", "en", "{token}", "not-a-link").Replace(path)
	// Bodies carry what authorization reads and one unknown member, so that
	// an allowed request stops at the handler's 400 and changes nothing.
	var body any
	if rt.Method == http.MethodPost || rt.Method == http.MethodPut || rt.Method == http.MethodPatch {
		body = map[string]any{"patient_id": patient, "group_id": m.group.String(), "status": "canceled", "matrix": true}
	}
	if key == "POST /api/v1/auth/logout" || key == "POST /api/v1/auth/logout-everywhere" || key == "POST /api/v1/auth/mfa/totp" {
		body = nil
	}
	return m.do(rt.Method, path, body, bearer(tok))
}

func (v verdict) holds(status int) bool {
	switch v {
	case forbidden:
		return status == http.StatusForbidden
	case notfound:
		return status == http.StatusNotFound
	}
	return status < 500 && status != http.StatusUnauthorized && status != http.StatusForbidden && status != http.StatusNotFound
}

// TestAuthorizationMatrix sends every route of the route table as every
// role, to its own practice and to another, and to its own patient and to
// another, behind SessionAuth, and checks each answer's class.
func TestAuthorizationMatrix(t *testing.T) {
	m := newMatrixEnv(t)
	for _, rt := range documented(m.srv) {
		key := matrixKey(rt)
		row, ok := authzMatrix[key]
		if !ok {
			t.Errorf("%s: no row in authzMatrix", key)
			continue
		}
		if len(row.onA) != len(matrixRoles)+1 || len(row.onB) != len(matrixRoles) {
			t.Errorf("%s: malformed row %+v", key, row)
			continue
		}
		check := func(role, where string, want verdict, res resp) {
			t.Helper()
			if !want.holds(res.status) {
				t.Errorf("%s as %s on %s: status %d, want %c; body: %s", key, role, where, res.status, want, res.body)
			}
		}
		for i, role := range matrixRoles {
			record, before := logsDenials(key), 0
			if record {
				before = m.denials()
			}
			res := m.cell(rt, role, m.a, false)
			check(role, "A", verdict(row.onA[i]), res)
			if res.status == http.StatusForbidden && record && m.denials() == before {
				t.Errorf("%s as %s on A: 403 without a denied entry in the activity log", key, role)
			}
			check(role, "B", verdict(row.onB[i]), m.cell(rt, role, m.b, false))
		}
		check("patient_P1", "A/P2", verdict(row.onA[len(matrixRoles)]), m.cell(rt, "patient_P1", m.a, true))
	}
	for key := range authzMatrix {
		found := false
		for _, rt := range documented(m.srv) {
			found = found || matrixKey(rt) == key
		}
		if !found {
			t.Errorf("authzMatrix row %s names no route", key)
		}
	}
}

// logsDenials reports whether route key touches a patient's record (the
// patient's data, the chart and its rights, exports, break-glass): a
// refusal there must write a denied entry (45 CFR 164.312(b)).
func logsDenials(key string) bool {
	for _, s := range []string{"/patients/{patient}", "$export", "/exports/", "/break-glass", "/overdue", "/files/", " p/payments"} {
		if strings.Contains(key, s) {
			return true
		}
	}
	return false
}

// denials counts practice A's denied entries.
func (m *matrixEnv) denials() int {
	m.t.Helper()
	got, err := m.engine.Audit.Query(context.Background(), m.practice, audit.Filter{Outcome: audit.Denied, Limit: audit.MaxLimit})
	if err != nil {
		m.t.Fatal(err)
	}
	if len(got) == audit.MaxLimit {
		m.t.Fatal("more denied entries than one page: count them by pages")
	}
	return len(got)
}

// TestEveryRouteDeclaresAccess fails when a route is added to the table
// without a permission or a marker (refserver.CheckAccess, which New also
// enforces), and checks that SessionAuth, which reads the route table,
// refuses a request without credentials exactly on the routes that are
// neither public nor signed.
func TestEveryRouteDeclaresAccess(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	a.srv = newServer(a.engine, refserver.Options{Authenticate: refserver.SessionAuth(a.engine.Identity), RateLimit: refserver.RateLimit{PerIP: -1, PerAccount: -1}})
	for _, rt := range documented(a.srv) {
		key := rt.Method + " " + rt.Pattern
		if err := refserver.CheckAccess(rt); err != nil {
			t.Error(err)
		}
		if rt.Access.String() == "unset" {
			t.Errorf("%s declares no access", key)
		}
		path := strings.NewReplacer("{practice}", uuid.NewString(), "{session}", uuid.NewString(), "{token}", "x").Replace(rt.Pattern)
		path = regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(path, uuid.NewString())
		res := a.do(rt.Method, path, nil, as(""))
		open := rt.Access.String() == "public" || rt.Access.String() == "signed"
		if got := res.status == http.StatusUnauthorized && res.header.Get("WWW-Authenticate") != ""; got == open {
			t.Errorf("%s (%s) without credentials: %d %s", key, rt.Access, res.status, res.body)
		}
	}
}

// TestMFAEnrollmentReachesOnlySignedInRoutes: a staff session of a
// practice that requires MFA, before it has enrolled, is refused (403
// naming totp_code) on every route the table marks neither SignedInOnly
// nor Public nor Signed, and reaches the SignedInOnly ones.
func TestMFAEnrollmentReachesOnlySignedInRoutes(t *testing.T) {
	a := newAuthEnv(t, sqltest.SQLite(t))
	a.srv = newServer(a.engine, refserver.Options{Authenticate: refserver.SessionAuth(a.engine.Identity), RateLimit: refserver.RateLimit{PerIP: -1, PerAccount: -1}})
	pol := identity.DefaultSessionPolicy
	pol.RequireStaffMFA = true
	if err := a.engine.Identity.SetSessionPolicy(context.Background(), a.practice, pol); err != nil {
		t.Fatal(err)
	}
	s := a.login("admin@example.com", password)
	if s.session["needs_mfa_enrollment"] != true {
		t.Fatalf("session = %v, want one that needs MFA enrollment", s.session)
	}
	for _, rt := range documented(a.srv) {
		key, access := rt.Method+" "+rt.Pattern, rt.Access.String()
		if access == "public" || access == "signed" || sessionEnders[key] {
			continue
		}
		path := strings.NewReplacer("{practice}", a.practice.String(), "{session}", uuid.NewString()).Replace(rt.Pattern)
		path = regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(path, uuid.NewString())
		res := a.do(rt.Method, path, nil, bearer(s.token))
		refused := res.status == http.StatusForbidden && strings.Contains(string(res.body), `"field":"totp_code"`)
		if access == "operator" {
			// The support staff's routes refuse every account's session.
			refused = res.status == http.StatusForbidden
		}
		if want := access != "signed-in"; refused != want {
			t.Errorf("%s (%s) before MFA enrollment: %d %s, want refused = %v", key, access, res.status, res.body, want)
		}
	}
}

// TestPatientDataAccessIsAudited checks that reading a patient writes an
// allowed entry, and that a denied read writes a denied one.
func TestPatientDataAccessIsAudited(t *testing.T) {
	m := newMatrixEnv(t)
	base := "/api/v1/practices/" + m.a.practice
	m.ok(m.do("GET", base+"/patients/"+m.a.patient, nil, bearer(m.token("front_desk_A")), withHeader("User-Agent", "matrix-test"),
		withHeader(refserver.RequestIDHeader, "req-allowed")), 200)
	m.problem(m.do("GET", base+"/patients/"+m.a.otherPatient, nil, bearer(m.token("patient_P1")), withHeader(refserver.RequestIDHeader, "req-denied")), 403, "")

	got := m.entries("patient.read")
	if len(got) != 2 {
		t.Fatalf("patient.read entries = %d, want 2: %+v", len(got), got)
	}
	ok, denied := got[0], got[1]
	if ok.Outcome != audit.Allowed || ok.RequestID != "req-allowed" || ok.UserAgent != "matrix-test" || ok.Role != "front_desk" ||
		ok.ResourceType != "patient" || ok.ResourceID != m.a.patient || ok.PatientID == nil || ok.PatientID.String() != m.a.patient || ok.IP == "" {
		t.Errorf("allowed entry = %+v", ok)
	}
	if denied.Outcome != audit.Denied || denied.RequestID != "req-denied" || denied.Role != "patient" ||
		denied.PatientID == nil || denied.PatientID.String() != m.a.otherPatient {
		t.Errorf("denied entry = %+v", denied)
	}
	// A stranger's probe of another practice is refused as not found, and
	// logged there as denied.
	m.problem(m.do("GET", "/api/v1/practices/"+m.b.practice+"/patients/"+m.b.patient, nil, bearer(m.token("front_desk_A"))), 404, "")
	b, err := m.engine.Audit.Query(context.Background(), uuid.MustParse(m.b.practice), audit.Filter{Action: "patient.read"})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 1 || b[0].Outcome != audit.Denied {
		t.Errorf("entries in B = %+v", b)
	}
	// The group admin who set the fixture up booked through the log too.
	if n := len(m.entries("appointment.book")); n != 2 {
		t.Errorf("appointment.book entries in A = %d, want 2", n)
	}
}
