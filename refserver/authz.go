package refserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
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
)

// patientSource tells where a route names the patient it acts on, which
// becomes the PatientID of the rbac.Target, so that a patient's self grant
// covers only their own record.
type patientSource int

const (
	noPatient            patientSource = iota
	patientInPath                      // the {patient} path value
	patientOfAppointment               // the patient of the {appointment} path value
	patientInBody                      // the "patient_id" member of the JSON body
)

// access is what one route needs.
type access struct {
	kind    accessKind
	perm    rbac.Permission
	patient patientSource
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
	// transaction of the write (see Server.writePatientData); a read's is
	// recorded before the handler runs.
	writes bool
}

func public() access       { return access{kind: accessPublic} }
func signedInOnly() access { return access{kind: accessSignedIn} }
func bootstrap() access    { return access{kind: accessBootstrap} }
func member() access       { return access{kind: accessMember} }
func signed() access       { return access{kind: accessSigned} }

// needs is a route that needs perm over its practice (or group).
func needs(perm rbac.Permission) access { return access{kind: accessPermission, perm: perm} }

// practiceCreation is creating a practice: practice.manage over the group
// named by the body's "group_id", which the group administrator holds.
func practiceCreation() access {
	return access{kind: accessPermission, perm: rbac.PracticeManage, groupInBody: true}
}

// statusChange is changing an appointment's status: the permission follows
// the new status (see access.byStatus), over the appointment's patient.
func statusChange() access {
	return access{kind: accessPermission, perm: rbac.AppointmentStatus, byStatus: true, patient: patientOfAppointment}
}

// of names the patient the route acts on.
func (a access) of(src patientSource) access { a.patient = src; return a }

// audited records every decision on the route in the activity log.
func (a access) audited(action, resourceType, resourceParam string) access {
	a.action, a.resourceType, a.resourceParam = action, resourceType, resourceParam
	return a
}

// String names the access for test messages.
func (a access) String() string {
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
	}
	return "unset"
}

// authorized wraps rt's handler with the check rt.access asks for.
func (s *Server) authorized(rt route) func(http.ResponseWriter, *http.Request) error {
	a, next := rt.access, rt.handle
	if a.kind == accessUnset || (a.kind == accessPermission && !a.perm.Valid()) {
		panic("refserver: route " + rt.method + " " + rt.pattern + " declares no valid access")
	}
	a.writes = a.action != "" && rt.method != http.MethodGet
	if a.kind == accessPublic || a.kind == accessSigned {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		const op = "refserver.authorize"
		c := credentialsFrom(r.Context())
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
			if c.session == nil || c.session.Kind != identity.Staff {
				return errs.E(errs.KindForbidden, op, "only a signed-in staff account may do this")
			}
			return next(w, r)
		}
		pending, err := s.authorize(w, r, a, c)
		if err != nil {
			return err
		}
		if pending == nil {
			return next(w, r)
		}
		r = r.WithContext(context.WithValue(r.Context(), pendingEntryKey{}, pending))
		err = next(w, r)
		if !pending.taken {
			// The handler failed before it wrote (bad input): the
			// attempt is recorded as failed.
			s.recordFailed(r, pending.entry)
		}
		return err
	}
}

// pendingEntry is the "allowed" activity log entry of a route that writes
// patient data, in its request's context (under pendingEntryKey) until
// writePatientData takes it.
type pendingEntry struct {
	entry audit.Entry
	taken bool
}

// pendingEntryKey keys a request's *pendingEntry.
type pendingEntryKey struct{}

// recordFailed records e as a failed attempt, on its own; a failure to
// record it is logged.
func (s *Server) recordFailed(r *http.Request, e audit.Entry) {
	e.Outcome = audit.Failed
	if _, err := s.engine.Audit.Record(r.Context(), e); err != nil {
		s.log.ErrorContext(r.Context(), "cannot record an access in the activity log",
			"request_id", e.RequestID, "action", e.Action, "outcome", string(e.Outcome), "error", err)
	}
}

// writePatientData runs write, the handler's service calls on a route that
// writes patient data, and appends the route's "allowed" activity log entry
// through tx.Audit, in one transaction: if either fails, both roll back. It
// returns write's identification of the record written (a new
// appointment's or patient's ID) which, when the route's path names none,
// becomes the entry's ResourceID. When write fails, a "failed" entry is
// recorded on its own (and its own failure only logged), so that the log
// keeps the attempt. Without an entry pending (authorization skipped:
// header mode, development and tests only) write runs on the engine
// itself, outside a transaction of the handler's.
func (s *Server) writePatientData(r *http.Request, write func(ctx context.Context, tx *carebook.Engine) (resourceID string, err error)) error {
	const op = "refserver.writePatientData"
	ctx := r.Context()
	pending, ok := ctx.Value(pendingEntryKey{}).(*pendingEntry)
	if !ok || pending.taken {
		_, err := write(ctx, s.engine)
		return err
	}
	pending.taken = true
	var writeErr error
	err := s.engine.InTx(ctx, func(ctx context.Context, tx *carebook.Engine) error {
		id, err := write(ctx, tx)
		if err != nil {
			writeErr = err
			return err
		}
		e := pending.entry
		if e.ResourceID == "" {
			e.ResourceID = clipString(id, 100)
		}
		if _, err := tx.Audit.Record(ctx, e); err != nil {
			return errs.Wrap(errs.KindInternal, op, "cannot record the access in the activity log", err)
		}
		return nil
	})
	if writeErr != nil {
		s.recordFailed(r, pending.entry)
	}
	return err
}

// authorize decides a member or permission route for c: 404 when the
// target practice (or group) is not one c belongs to, 403 when c lacks the
// permission there, and records the decision when the route is audited.
//
// On a route that writes patient data (a.writes) it records nothing when it
// allows: it returns the "allowed" entry for the handler to record in the
// write's transaction (see writePatientData). Otherwise the entry it
// returns is nil.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, a access, c *credentials) (*pendingEntry, error) {
	const op = "refserver.authorize"
	ctx := r.Context()
	pr, err := s.principal(r, c)
	if err != nil {
		return nil, err
	}
	body := s.peekBody(w, r, a)
	perm := a.perm
	if a.byStatus {
		switch body.Status {
		case "canceled":
			perm = rbac.AppointmentCancel
		case "confirmed":
			perm = rbac.AppointmentConfirm
		}
	}
	if a.groupInBody {
		gid, err := parseID("group_id", body.GroupID)
		if err != nil {
			return nil, err
		}
		if _, err := s.engine.Store().GetGroup(ctx, gid); err != nil {
			return nil, err
		}
		return nil, s.engine.RBAC.Authorize(ctx, pr, perm, rbac.Target{GroupID: gid})
	}
	pid, err := practiceID(r)
	if err != nil {
		return nil, err
	}
	p, err := s.engine.Tenants.Practice(ctx, pid)
	if err != nil {
		return nil, err
	}
	t := rbac.Target{GroupID: p.GroupID, PracticeID: pid}
	home := c.session != nil && c.session.PracticeID == pid
	if !rbac.Member(pr, pid, p.GroupID) && !home {
		// Another tenant's practice reads as unknown. An account of the
		// practice without a grant there yet (a patient just registered, a
		// staff member just invited) is no stranger: it gets 403.
		s.recordDecision(r, c, a, t, audit.Denied)
		return nil, errs.NotFound(op, "practice")
	}
	if a.kind == accessMember {
		if !rbac.Member(pr, pid, p.GroupID) {
			return nil, errs.E(errs.KindForbidden, op, "you hold no role in this practice yet")
		}
		return nil, nil
	}
	switch a.patient {
	case patientInPath:
		id, err := pathID(r, "patient")
		if err != nil {
			return nil, err
		}
		t.PatientID = &id
	case patientOfAppointment:
		id, err := pathID(r, "appointment")
		if err != nil {
			return nil, err
		}
		ap, err := s.engine.Scheduling.Appointment(ctx, pid, id)
		if err != nil {
			return nil, err
		}
		t.PatientID = &ap.PatientID
	case patientInBody:
		if id, err := uuid.Parse(body.PatientID); err == nil {
			t.PatientID = &id
		}
	}
	if err := s.engine.RBAC.Authorize(ctx, pr, perm, t); err != nil {
		s.recordDecision(r, c, a, t, audit.Denied)
		return nil, err
	}
	switch {
	case a.action == "":
	case a.writes:
		return &pendingEntry{entry: s.accessEntry(r, c, a, t, audit.Allowed)}, nil
	default:
		if err := s.recordAccess(r, c, a, t, audit.Allowed); err != nil {
			return nil, errs.Wrap(errs.KindInternal, op, "cannot record the access in the activity log", err)
		}
	}
	return nil, nil
}

// principal is who c may act as: the grants of a session's account, or the
// permissions of an API key over its practice. It is read once per request.
func (s *Server) principal(r *http.Request, c *credentials) (rbac.Principal, error) {
	if c.principal != nil {
		return *c.principal, nil
	}
	pr, err := s.readPrincipal(r, c)
	if err == nil {
		c.principal = &pr
	}
	return pr, err
}

func (s *Server) readPrincipal(r *http.Request, c *credentials) (rbac.Principal, error) {
	if c.key == nil {
		return s.engine.RBAC.Principal(r.Context(), c.session.AccountID)
	}
	perms := make([]rbac.Permission, 0, len(c.key.Permissions))
	for _, name := range c.key.Permissions {
		p, err := rbac.ParsePermission(name)
		if err != nil {
			return rbac.Principal{}, errs.Wrap(errs.KindInternal, "refserver.principal", "API key "+c.key.ID.String()+" holds an unknown permission", err)
		}
		perms = append(perms, p)
	}
	return rbac.PrincipalForAPIKey(c.key.PracticeID, perms)
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
func (s *Server) peekBody(w http.ResponseWriter, r *http.Request, a access) peekedBody {
	var out peekedBody
	if (a.patient != patientInBody && !a.groupInBody && !a.byStatus) || r.Body == nil {
		return out
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

// recordDecision records a decision on an audited route; a failure to
// record a denial is logged, the denial stands.
func (s *Server) recordDecision(r *http.Request, c *credentials, a access, t rbac.Target, out audit.Outcome) {
	if a.action == "" {
		return
	}
	if err := s.recordAccess(r, c, a, t, out); err != nil {
		s.log.ErrorContext(r.Context(), "cannot record an access in the activity log",
			"request_id", requestIDFrom(r.Context()), "action", a.action, "outcome", string(out), "error", err)
	}
}

// recordAccess appends the activity log entry of one decision on an
// audited route, in the target practice's log.
func (s *Server) recordAccess(r *http.Request, c *credentials, a access, t rbac.Target, out audit.Outcome) error {
	_, err := s.engine.Audit.Record(r.Context(), s.accessEntry(r, c, a, t, out))
	return err
}

// accessEntry is the activity log entry of one decision on an audited
// route, in the target practice's log.
func (s *Server) accessEntry(r *http.Request, c *credentials, a access, t rbac.Target, out audit.Outcome) audit.Entry {
	e := audit.Entry{PracticeID: t.PracticeID, Actor: c.actor().ID, Role: s.roleOf(r, c, t), Action: a.action,
		ResourceType: a.resourceType, PatientID: t.PatientID, Outcome: out,
		IP: clientIP(r), UserAgent: clipString(r.UserAgent(), 500), RequestID: requestIDFrom(r.Context())}
	if a.resourceParam != "" {
		e.ResourceID = clipString(r.PathValue(a.resourceParam), 100)
	}
	return e
}

// roleOf names the roles c acts in at t's practice, for the activity log:
// "api_key", the built-in role names (or custom role IDs) of the account's
// grants over the practice or its group, or "none".
func (s *Server) roleOf(r *http.Request, c *credentials, t rbac.Target) string {
	if c.key != nil {
		return "api_key"
	}
	grants, err := s.engine.Store().ListAccountGrants(r.Context(), c.session.AccountID)
	if err != nil {
		return "unknown"
	}
	var names []string
	for _, g := range grants {
		in := g.Scope.PracticeID == t.PracticeID
		if g.Scope.Kind == rbac.ScopeGroup {
			in = g.Scope.GroupID == t.GroupID
		}
		if !in {
			continue
		}
		if b, ok := rbac.BuiltInRole(g.RoleID); ok {
			names = append(names, b.Name)
		} else {
			names = append(names, g.RoleID.String())
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}
