package refserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/google/uuid"
)

// Per-route authorization. Every entry of the route table says what it
// needs in its access field, and authorized enforces it in front of the
// handler, so that no handler has to remember. A route without an access
// kind does not start (New panics) and fails TestEveryRouteDeclaresAccess.
//
// Authorization is enforced for requests that SessionAuth authenticated.
// Behind the default Options.Authenticate, ActorFromHeader, nobody is
// authenticated, so Options.SkipAuthorization is on and every route is
// open to anyone who names an actor: DEVELOPMENT AND TESTS ONLY.

// accessKind is what kind of check a route needs.
type accessKind int

const (
	// accessUnset is the zero value: a route nobody classified.
	accessUnset accessKind = iota
	// accessPublic routes need no credentials (health, metrics, the
	// document, and the auth endpoints that come before a session).
	accessPublic
	// accessSignedIn routes need a session and no permission: they act on
	// the signed-in account itself (logout, sessions, MFA).
	accessSignedIn
	// accessBootstrap routes need a signed-in staff account and no grant:
	// creating a group, whose creator becomes its group administrator.
	accessBootstrap
	// accessMember routes need any grant in the practice: what every
	// member, patients included, may see (the practice, its locations,
	// providers, visit types and open slots).
	accessMember
	// accessPermission routes need perm over the target.
	accessPermission
	// accessSigned routes take no session: the request proves itself by a
	// signature the handler checks (the providers' webhooks) or by a signed
	// token in its path (the links of emails). A session grants nothing
	// there.
	accessSigned
	// accessGuarded routes need credentials and nothing else of the route:
	// their handler calls a guarded Engine operation (carebook.Engine.Guard),
	// which decides the access in the route's {practice} and logs it.
	accessGuarded
	// accessOperator routes are the operator's support panel (/ops/): an
	// account's session grants nothing there, and the support staff
	// member's own session (OperatorCookie) is required (see operator.go).
	accessOperator
)

// PatientSource tells where a route names the patient it acts on, which
// becomes the PatientID of the rbac.Target, so that a patient's self grant
// covers only their own record.
type PatientSource int

const (
	noPatient            PatientSource = iota
	PatientInPath                      // the {patient} path value
	PatientOfAppointment               // the patient of the {appointment} path value
	PatientInBody                      // the "patient_id" member of the JSON body
)

// Access is what one route needs, declared in its route table entry by
// one of the constructors below (the zero value is a route nobody
// classified, which New refuses).
type Access struct {
	kind    accessKind
	perm    rbac.Permission
	patient PatientSource
	// groupInBody: the target is the group named by the body's "group_id"
	// (the route has no {practice}).
	groupInBody bool
	// byStatus: the permission depends on the body's "status": canceled
	// needs appointment.cancel, confirmed appointment.confirm, any other
	// perm (appointment.status).
	byStatus bool
	// action, when set, is the activity log action recorded for every
	// authorization decision on the route (routes that touch patient data),
	// with the resource type and the path value naming the resource.
	action, resourceType, resourceParam string
	// writes: the audited route writes patient data (its method is not
	// GET), so its "allowed" entry is recorded by the handler, in the
	// transaction of the write (see Server.WritePatientData); a read's is
	// recorded before the handler runs.
	writes bool
}

// Public routes need no credentials (health, metrics, the document, and
// the auth endpoints that come before a session).
func Public() Access { return Access{kind: accessPublic} }

// SignedInOnly routes need a session and no permission: they act on the
// signed-in account itself (logout, sessions, MFA, password).
func SignedInOnly() Access { return Access{kind: accessSignedIn} }

// Bootstrap routes need a signed-in staff account and no grant (creating a
// group).
func Bootstrap() Access { return Access{kind: accessBootstrap} }

// Member routes need any grant in the route's {practice}.
func Member() Access { return Access{kind: accessMember} }

// Signed routes take no session: the request proves itself by a signature
// the handler checks, or by a signed token in its path.
func Signed() Access { return Access{kind: accessSigned} }

// Guarded routes are decided by the Engine: the handler calls a guarded
// operation (one that runs carebook.Engine.Guard, such as Engine.PutFile),
// which authorizes the caller in the route's {practice} and writes the
// activity-log entry of the decision, allowed or denied (a stranger to the
// practice gets 404, logged there, as on an Audited route). The route
// itself only asks for credentials and puts the caller in the context, so
// that the access is decided and logged once.
func Guarded() Access { return Access{kind: accessGuarded} }

// Operator routes are the support panel's: they need a support staff
// member's session (OperatorCookie), never an account's.
func Operator() Access { return Access{kind: accessOperator} }

// Needs is a route that needs perm over its practice (or group).
func Needs(perm rbac.Permission) Access { return Access{kind: accessPermission, perm: perm} }

// PracticeCreation is creating a practice: practice.manage over the group
// named by the body's "group_id", which the group administrator holds.
func PracticeCreation() Access {
	return Access{kind: accessPermission, perm: rbac.PracticeManage, groupInBody: true}
}

// StatusChange is changing an appointment's status: the permission follows
// the new status (see access.byStatus), over the appointment's patient.
func StatusChange() Access {
	return Access{kind: accessPermission, perm: rbac.AppointmentStatus, byStatus: true, patient: PatientOfAppointment}
}

// Of names the patient the route acts on.
func (a Access) Of(src PatientSource) Access { a.patient = src; return a }

// Audited records every decision on the route in the activity log.
func (a Access) Audited(action, resourceType, resourceParam string) Access {
	a.action, a.resourceType, a.resourceParam = action, resourceType, resourceParam
	return a
}

// String names the access for test messages.
func (a Access) String() string {
	switch a.kind {
	case accessPublic:
		return "public"
	case accessSignedIn:
		return "signed-in"
	case accessBootstrap:
		return "bootstrap"
	case accessMember:
		return "member"
	case accessPermission:
		return string(a.perm)
	case accessSigned:
		return "signed"
	case accessGuarded:
		return "guarded"
	case accessOperator:
		return "operator"
	}
	return "unset"
}

// CheckAccess says what is wrong with rt's access, or nil: a route must
// declare one (a permission or a marker), a permission must be known, and
// a route that needs a permission or membership must name the {practice}
// it is checked in (or, creating a practice, take the group from its
// body). New panics on a route CheckAccess refuses.
func CheckAccess(rt Route) error {
	a, key := rt.Access, rt.Method+" "+rt.Pattern
	switch {
	case a.kind == accessUnset:
		return errors.New(key + " declares no access: give it a permission (Needs) or a marker")
	case a.kind == accessPermission && !a.perm.Valid():
		return errors.New(key + " needs an unknown permission " + strconv.Quote(string(a.perm)))
	case (a.kind == accessPermission || a.kind == accessMember || a.kind == accessGuarded) && !a.groupInBody && !slices.Contains(wildcards(rt.Pattern), "practice"):
		return errors.New(key + " needs " + a.String() + " but names no {practice}")
	}
	return nil
}

// authorized wraps rt's handler with the check rt.Access asks for.
func (s *Server) authorized(rt Route) func(http.ResponseWriter, *http.Request) error {
	a, next := rt.Access, rt.Handle
	if err := CheckAccess(rt); err != nil {
		panic("refserver: route " + err.Error())
	}
	a.writes = a.action != "" && rt.Method != http.MethodGet
	if a.kind == accessPublic || a.kind == accessSigned {
		return next
	}
	if a.kind == accessOperator {
		return s.operatorOnly(next)
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		const op = "refserver.authorize"
		c := CredentialsFrom(r.Context())
		if c == nil {
			if s.opts.SkipAuthorization {
				return next(w, r)
			}
			return errs.E(errs.KindUnauthenticated, op, "sign in, or send a session token or API key")
		}
		switch a.kind {
		case accessSignedIn:
			return next(w, r)
		case accessBootstrap:
			if c.Session == nil || c.Session.Kind != identity.Staff {
				return errs.E(errs.KindForbidden, op, "only a signed-in staff account may do this")
			}
			return next(w, r)
		case accessGuarded:
			ctx, err := s.withCaller(r, c)
			if err != nil {
				return err
			}
			return next(w, r.WithContext(ctx))
		}
		if a.writes {
			return s.authorizedWrite(w, r, a, c, next)
		}
		ctx, _, err := s.authorize(w, r, a, c)
		if err != nil {
			return err
		}
		return next(w, r.WithContext(ctx))
	}
}

// authorizedWrite serves a route that writes patient data in one database
// transaction, so that such a request (a booking) commits once: the reads
// of its authorization (the caller's grants, the practice, an
// appointment's patient), the handler's write and its "allowed"
// activity-log entry commit together or not at all. The handler's answer
// is held until the commit; a failed commit answers its error instead. The
// entries of a denial or of a failed attempt are written once the
// transaction has ended (see carebook.Permit), so that its rollback does
// not take them back. Only the session's lookup (SessionAuth) comes
// before, on its own.
func (s *Server) authorizedWrite(w http.ResponseWriter, r *http.Request, a Access, c *Credentials, next func(http.ResponseWriter, *http.Request) error) error {
	held := &heldResponse{header: w.Header().Clone()}
	// These routes write patient data (appointments, patients), never a
	// policy, visit type, provider or resource: a booking in the
	// transaction may take those from the booking cache.
	err := s.engine.InTx(scheduling.CacheInTx(r.Context()), func(ctx context.Context) error {
		// authorize may put the body it peeked at back on the request: the
		// handler gets that request.
		r := r.WithContext(ctx)
		ctx, permit, err := s.authorize(held, r, a, c)
		if err != nil {
			return err
		}
		err = next(held, r.WithContext(context.WithValue(ctx, permitKey{}, permit)))
		// A handler that failed before it wrote (bad input) leaves the
		// attempt logged as failed.
		permit.Fail(ctx)
		return err
	})
	if err != nil {
		return err
	}
	held.send(w)
	return nil
}

// heldResponse holds a handler's answer (status, headers and body) while
// its request's transaction is open, so that nothing reaches the client
// before the commit.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// Header returns the held headers.
func (h *heldResponse) Header() http.Header { return h.header }

// WriteHeader holds the first status written.
func (h *heldResponse) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

// Write holds b, after a 200 if no status was written.
func (h *heldResponse) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.body.Write(b)
}

// send passes the held answer to w; an answer never written stays so.
func (h *heldResponse) send(w http.ResponseWriter) {
	dst := w.Header()
	for k := range dst {
		if _, ok := h.header[k]; !ok {
			delete(dst, k)
		}
	}
	for k, v := range h.header {
		dst[k] = v
	}
	if h.status == 0 {
		return
	}
	w.WriteHeader(h.status)
	_, _ = w.Write(h.body.Bytes())
}

// permitKey keys, in a request's context, the carebook.Permit of a route
// that writes patient data, until WritePatientData runs the write and logs
// it.
type permitKey struct{}

// WritePatientData runs write, the handler's service calls on a route that
// writes patient data, through the route's Permit: the write and its
// "allowed" activity-log entry commit together, or neither does (see
// carebook.Permit.Do). It returns write's identification of the record
// written (a new appointment's or patient's ID) which, when the route's
// path names none, becomes the entry's ResourceID. When write fails, a
// "failed" entry is recorded on its own. Without a Permit (authorization
// skipped: header mode, development and tests only) write runs on the
// engine itself, outside a transaction of the handler's.
func (s *Server) WritePatientData(r *http.Request, write func(ctx context.Context) (resourceID string, err error)) error {
	ctx := r.Context()
	permit, ok := ctx.Value(permitKey{}).(*carebook.Permit)
	if !ok {
		_, err := write(ctx)
		return err
	}
	return permit.Do(ctx, write)
}

// authorize decides a member or permission route for c through the
// engine's guard (carebook.Engine.Authorize): 404 when the target practice
// (or group) is not one c belongs to, 403 when c lacks the permission
// there, each logged when the route is audited. It returns the request's
// context carrying c as the caller.
//
// On an audited route that reads, the "allowed" entry is written here,
// before the handler runs. On one that writes patient data (a.writes) it
// returns the Permit, whose entry the handler writes in the write's
// transaction (see WritePatientData); otherwise the Permit is nil.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, a Access, c *Credentials) (context.Context, *carebook.Permit, error) {
	ctx, err := s.withCaller(r, c)
	if err != nil {
		return r.Context(), nil, err
	}
	body := s.peekBody(w, r, a)
	acc := carebook.Access{Permission: a.perm, Action: a.action, ResourceType: a.resourceType, Effect: carebook.EffectWrite}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		// A read of a read-only practice goes on, whatever it needs.
		acc.Effect = carebook.EffectRead
	}
	if a.kind == accessMember {
		acc.Permission, acc.Action = "", ""
	}
	if a.byStatus {
		switch body.Status {
		case "canceled":
			acc.Permission = rbac.AppointmentCancel
		case "confirmed":
			acc.Permission = rbac.AppointmentConfirm
		}
	}
	if a.groupInBody {
		if acc.GroupID, err = ParseID("group_id", body.GroupID); err != nil {
			return ctx, nil, err
		}
		acc.Action = ""
		_, err := s.engine.Authorize(ctx, acc)
		return ctx, nil, err
	}
	if acc.PracticeID, err = practiceID(r); err != nil {
		return ctx, nil, err
	}
	if a.resourceParam != "" {
		acc.ResourceID = r.PathValue(a.resourceParam)
	}
	switch a.patient {
	case PatientInPath:
		id, err := pathID(r, "patient")
		if err != nil {
			return ctx, nil, err
		}
		acc.PatientID = &id
	case PatientOfAppointment:
		id, err := pathID(r, "appointment")
		if err != nil {
			return ctx, nil, err
		}
		acc.AppointmentID = &id
	case PatientInBody:
		if id, err := uuid.Parse(body.PatientID); err == nil {
			acc.PatientID = &id
		}
	}
	permit, err := s.engine.Authorize(ctx, acc)
	if err != nil {
		return ctx, nil, err
	}
	switch {
	case a.action == "" || a.kind == accessMember:
		return ctx, nil, nil
	case a.writes:
		return ctx, permit, nil
	}
	err = permit.Do(ctx, func(context.Context) (string, error) { return "", nil })
	return ctx, nil, err
}

// withCaller returns r's context carrying c as the carebook.Caller, for
// the engine's guard.
func (s *Server) withCaller(r *http.Request, c *Credentials) (context.Context, error) {
	pr, err := s.Principal(r, c)
	if err != nil {
		return r.Context(), err
	}
	caller := carebook.Caller{Actor: c.Actor(), Principal: pr}
	if c.Session != nil {
		caller.Home = c.Session.PracticeID
	}
	return carebook.WithCaller(r.Context(), caller), nil
}

// Principal is who c may act as: the grants of a session's account, or the
// permissions of an API key over its practice. It is read once per request.
func (s *Server) Principal(r *http.Request, c *Credentials) (rbac.Principal, error) {
	if c.principal != nil {
		return *c.principal, nil
	}
	pr, err := s.readPrincipal(r, c)
	if err == nil {
		c.principal = &pr
	}
	return pr, err
}

func (s *Server) readPrincipal(r *http.Request, c *Credentials) (rbac.Principal, error) {
	if c.Key == nil {
		return s.engine.RBAC.Principal(r.Context(), c.Session.AccountID)
	}
	perms := make([]rbac.Permission, 0, len(c.Key.Permissions))
	for _, name := range c.Key.Permissions {
		p, err := rbac.ParsePermission(name)
		if err != nil {
			return rbac.Principal{}, errs.Wrap(errs.KindInternal, "refserver.principal", "API key "+c.Key.ID.String()+" holds an unknown permission", err)
		}
		perms = append(perms, p)
	}
	return rbac.PrincipalForAPIKey(c.Key.PracticeID, perms)
}

// peekedBody is what authorization reads of a request body.
type peekedBody struct {
	PatientID string `json:"patient_id"`
	GroupID   string `json:"group_id"`
	Status    string `json:"status"`
}

// peekBody reads the members of r's JSON body that authorization needs, and puts the
// body back for the handler, which validates it in full. A body that is
// not JSON reads as empty here: the handler refuses it.
func (s *Server) peekBody(w http.ResponseWriter, r *http.Request, a Access) peekedBody {
	var out peekedBody
	if (a.patient != PatientInBody && !a.groupInBody && !a.byStatus) || r.Body == nil {
		return out
	}
	if isForm(r) {
		// A page's form: the handler reads the same parsed form.
		return peekedBody{PatientID: r.PostFormValue("patient_id"), GroupID: r.PostFormValue("group_id"), Status: r.PostFormValue("status")}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxBodyBytes+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	if err == nil {
		_ = json.Unmarshal(b, &out)
	}
	return out
}
