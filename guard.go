package carebook

import (
	"context"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The access guard: the one place that decides whether the caller in a
// context may do an operation on a practice's data and writes the
// activity-log entry of that decision, the "allowed" one in the
// transaction of the operation itself. The reference server goes through
// it for every route that declares a permission; an embedder goes through
// it with Guard, or with the guarded reads below (Patient), so that
// patient data is never read or written through the Engine without an
// entry.

// Caller is who asks the Engine for an operation: set it on the context
// with WithCaller.
type Caller struct {
	// Actor names the caller in the activity log and in what services
	// record (an appointment's history, a grant's CreatedBy).
	Actor actor.Actor
	// Principal is what the caller may do: the grants of an account
	// (RBAC.Principal) or an API key's permissions
	// (rbac.PrincipalForAPIKey).
	Principal rbac.Principal
	// Home is the practice of the caller's own account, if any: an account
	// of the practice that holds no grant there yet (a patient who just
	// registered) is refused with 403, where a stranger gets 404.
	Home tenant.PracticeID
}

// Request says where a call came from, for the activity log: set it on the
// context with WithRequest. Its fields may be empty.
type Request struct {
	IP        string
	UserAgent string
	ID        string // the request's ID, as logged
}

type (
	callerKey  struct{} // keys a context's *Caller
	requestKey struct{} // keys a context's *Request
)

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, &r)
}

// RequestFrom returns the Request ctx carries, or the zero Request.
func RequestFrom(ctx context.Context) Request {
	if r, ok := ctx.Value(requestKey{}).(*Request); ok {
		return *r
	}
	return Request{}
}

// Entry returns an activity-log entry of practice by actor with the
// request's IP, user agent and ID filled in from ctx (see WithRequest),
// for the caller to complete.
func Entry(ctx context.Context, practice tenant.PracticeID, actor, action, resourceType, resourceID string, out audit.Outcome) audit.Entry {
	r := RequestFrom(ctx)
	return audit.Entry{PracticeID: practice, Actor: actor, Action: action, ResourceType: resourceType,
		ResourceID: clip(resourceID, 100), Outcome: out, IP: r.IP, UserAgent: clip(r.UserAgent, 500), RequestID: r.ID}
}

// WithCaller returns ctx carrying c, and c.Actor as its actor.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(actor.With(ctx, c.Actor), callerKey{}, &c)
}

// CallerFrom returns the Caller ctx carries.
func CallerFrom(ctx context.Context) (*Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(*Caller)
	return c, ok
}

// Access is one operation asked for: a permission over a practice (or a
// patient of it), and how the activity log names it.
type Access struct {
	// Permission is what the operation needs; empty asks only that the
	// caller hold some grant in the practice (a member).
	Permission rbac.Permission
	// PracticeID is the practice the operation acts in. When it is the
	// nil ID, the target is GroupID itself (creating a practice in a
	// group).
	PracticeID tenant.PracticeID
	GroupID    tenant.GroupID
	// PatientID, when set, is the patient the operation acts on, so that a
	// patient's self grant covers only their own record.
	PatientID *uuid.UUID
	// AppointmentID, when set and PatientID is not, names the appointment
	// whose patient the operation acts on. It is looked up only once the
	// caller is known to be of the practice, so a stranger learns nothing
	// of its IDs; an unknown one is KindNotFound.
	AppointmentID *uuid.UUID
	// FileID, when set and neither PatientID nor AppointmentID is, names
	// the patient's file the operation acts on, looked up the same way.
	FileID *uuid.UUID
	// Action (such as "patient.read"), ResourceType and ResourceID name the
	// operation in the activity log; an empty Action logs nothing.
	Action, ResourceType, ResourceID string
	// Effect says whether the operation writes, for a read-only practice
	// (see readonly.go): the zero value decides by Permission.
	Effect Effect
}

// Permit is an access the guard allowed and has not logged yet: Do runs
// the operation and logs it.
type Permit struct {
	e      *Engine
	entry  audit.Entry
	logged bool
	// principal and target are whom and what the access was decided over,
	// for a further question about the same target (holds).
	principal rbac.Principal
	target    rbac.Target
	// file is the file Access.FileID named, as Authorize read it.
	file *files.File
	// glass is whether a break-glass access of the caller to the target's
	// patient is in force: it lends the permissions of glassLends.
	glass bool
}

// glassLends are the permissions a break-glass access lends its holder
// over its patient: the chart, restricted entries included, and who the
// patient is.
var glassLends = map[rbac.Permission]bool{
	rbac.PatientClinicalRead: true, rbac.PatientRestrictedRead: true, rbac.PatientContactRead: true,
}

// holds reports whether the caller also holds perm over the access's
// target (patient.restricted.read beside patient.clinical.read), without
// reading the practice or the caller's grants again.
func (pm *Permit) holds(perm rbac.Permission) bool {
	return pm.principal.Can(perm, pm.target) || pm.glass && glassLends[perm]
}

// Authorize decides a for the caller in ctx. Without a caller it is
// KindUnauthenticated. A write of a read-only practice is KindReadOnly
// (see readonly.go), decided once the caller is known to hold the access. A practice that is unknown, or that the caller is
// no member of (and not at home in), is KindNotFound, so that another
// tenant's IDs do not leak; a permission the caller lacks is
// KindForbidden. Both denials are logged (when a has an Action) before
// Authorize returns. An allowed access is logged by the Permit's Do, in the
// operation's transaction.
func (e *Engine) Authorize(ctx context.Context, a Access) (*Permit, error) {
	const op = "carebook.Authorize"
	c, ok := CallerFrom(ctx)
	if !ok {
		return nil, errs.E(errs.KindUnauthenticated, op, "no caller: the context carries no principal (carebook.WithCaller)")
	}
	if a.PracticeID == uuid.Nil {
		if a.GroupID == uuid.Nil {
			return nil, errs.Invalid(op, "practice_id", "the access names no practice or group")
		}
		if _, err := e.store.Tenants.GetGroup(ctx, a.GroupID); err != nil {
			return nil, err
		}
		if err := e.RBAC.Authorize(ctx, c.Principal, a.Permission, rbac.Target{GroupID: a.GroupID}); err != nil {
			return nil, err
		}
		return &Permit{e: e, logged: true}, nil
	}
	p, err := e.Tenants.Practice(ctx, a.PracticeID)
	if err != nil {
		return nil, err
	}
	t := rbac.Target{GroupID: p.GroupID, PracticeID: p.ID, PatientID: a.PatientID}
	pm := &Permit{e: e, logged: a.Action == "",
		entry: Entry(ctx, p.ID, c.Actor.ID, a.Action, a.ResourceType, a.ResourceID, audit.Allowed)}
	pm.entry.Role, pm.entry.PatientID = c.Principal.RoleNames(t), a.PatientID
	member := rbac.Member(c.Principal, p.ID, p.GroupID)
	if !member && c.Home != p.ID {
		pm.deny(ctx)
		return nil, errs.NotFound(op, "practice")
	}
	pm.principal, pm.target = c.Principal, t
	if a.Permission == "" {
		if !member {
			return nil, errs.E(errs.KindForbidden, op, "you hold no role in this practice yet")
		}
		return pm, nil
	}
	if a.AppointmentID != nil && a.PatientID == nil {
		ap, err := e.Scheduling.Appointment(ctx, p.ID, *a.AppointmentID)
		if err != nil {
			return nil, err
		}
		t.PatientID, pm.entry.PatientID = &ap.PatientID, &ap.PatientID
	}
	if a.FileID != nil && a.PatientID == nil && a.AppointmentID == nil {
		if e.Files == nil {
			return nil, errs.NotFound(op, "file")
		}
		f, err := e.Files.Get(ctx, p.ID, *a.FileID)
		if err != nil {
			return nil, err
		}
		t.PatientID, pm.entry.PatientID, pm.file = &f.PatientID, &f.PatientID, f
	}
	if err := e.RBAC.Authorize(ctx, c.Principal, a.Permission, t); err != nil {
		if !errs.Is(err, errs.KindForbidden) || !glassLends[a.Permission] || !e.glassOpen(ctx, c, t) {
			pm.deny(ctx)
			return nil, err
		}
		pm.glass = true
	}
	pm.principal, pm.target = c.Principal, t
	if !pm.glass && a.Permission == rbac.PatientClinicalRead && !c.Principal.Can(rbac.PatientRestrictedRead, t) {
		// The chart's restricted entries too may be open by break-glass.
		pm.glass = e.glassOpen(ctx, c, t)
	}
	if pm.glass {
		pm.entry.Role = glassRole(pm.entry.Role)
	}
	if err := e.writable(ctx, c, &a, p.ID); err != nil {
		// Not a denial of the caller: the practice's state refuses the
		// write, which writes nothing, not even an entry.
		pm.logged = true
		return nil, err
	}
	return pm, nil
}

// glassOpen reports whether the caller, an account that still holds
// patient.breakglass in t's practice, holds a break-glass access to t's
// patient in force now: a grant revoked ends the access with it, and a
// caller who can never break the glass (a patient, the front desk) costs
// no lookup. A store that cannot answer denies (the failure is logged).
func (e *Engine) glassOpen(ctx context.Context, c *Caller, t rbac.Target) bool {
	if t.PatientID == nil || c.Principal.Account() == uuid.Nil ||
		!rbac.HoldsIn(c.Principal, rbac.PatientBreakGlass, t.PracticeID, t.GroupID) {
		return false
	}
	ok, err := e.store.EHR.BreakGlassActive(ctx, t.PracticeID, *t.PatientID, c.Principal.Account(), e.Clock.Now())
	if err != nil {
		e.Logger.ErrorContext(ctx, "cannot look up break-glass accesses", "error", err)
		return false
	}
	return ok
}

// glassRole is the activity log's role of an access made by break-glass:
// the caller's roles and "break_glass".
func glassRole(roles string) string {
	if roles == "" || roles == "none" {
		return glassRoleName
	}
	return roles + "," + glassRoleName
}

// Deny refuses a to the caller in ctx whatever it holds, where the
// embedder's own rule refuses it (the reference server's staff chart pages
// to a patient's session, whose record is the portal's): the denial is
// logged as Authorize logs its own, and the error is Authorize's for a
// caller without access (KindNotFound outside the practice, else
// KindForbidden).
func (e *Engine) Deny(ctx context.Context, a Access, why string) error {
	pm, err := e.Authorize(ctx, a)
	if err != nil {
		return err
	}
	pm.deny(ctx)
	return errs.E(errs.KindForbidden, "carebook.Deny", why)
}

// Refuse decides a for the caller in ctx and, when it is allowed, logs it
// as a failed attempt and returns bad: the refusal of a request whose
// input was bad, so that a caller who may not do the operation learns
// that first (403 or 404, logged as denied) rather than what was wrong
// with the input.
func (e *Engine) Refuse(ctx context.Context, a Access, bad error) error {
	pm, err := e.Authorize(ctx, a)
	if err != nil {
		return err
	}
	pm.Fail(ctx)
	return bad
}

// Guard authorizes a for the caller in ctx (see Authorize) and runs fn in
// one transaction with the access's "allowed" entry (see Permit.Do).
func (e *Engine) Guard(ctx context.Context, a Access, fn func(ctx context.Context) (resourceID string, err error)) error {
	pm, err := e.Authorize(ctx, a)
	if err != nil {
		return err
	}
	return pm.Do(ctx, fn)
}

// Do runs fn, the allowed operation, and appends the access's "allowed"
// entry in one transaction: if either fails, both roll back. fn returns
// the ID of what it wrote, which becomes the entry's ResourceID when the
// access named none (a new appointment). When fn fails, the attempt is
// logged as "failed" on its own and fn's error returned. A Permit logs
// once: a second Do runs fn without an entry.
func (pm *Permit) Do(ctx context.Context, fn func(ctx context.Context) (resourceID string, err error)) error {
	if pm.logged {
		_, err := fn(ctx)
		return err
	}
	pm.logged = true
	var fnErr error
	err := pm.e.InTx(ctx, func(ctx context.Context) error {
		id, err := fn(ctx)
		if err != nil {
			fnErr = err
			return err
		}
		entry := pm.entry
		if entry.ResourceID == "" {
			entry.ResourceID = clip(id, 100)
		}
		if _, err := pm.e.Audit.Record(ctx, entry); err != nil {
			return errs.Wrap(errs.KindInternal, "carebook.Permit.Do", "cannot record the access in the activity log", err)
		}
		return nil
	})
	if fnErr != nil {
		pm.record(ctx, audit.Failed)
	}
	return err
}

// Fail logs the access as a failed attempt, unless it was logged: the
// operation was refused before it ran (bad input).
func (pm *Permit) Fail(ctx context.Context) {
	if !pm.logged {
		pm.logged = true
		pm.record(ctx, audit.Failed)
	}
}

// deny logs the access as denied (when it has an Action).
func (pm *Permit) deny(ctx context.Context) {
	if !pm.logged {
		pm.logged = true
		pm.record(ctx, audit.Denied)
	}
}

// record appends the entry with outcome out, on its own: a denial or a
// failure stands even if its entry cannot be written, which is logged.
// Decided inside a transaction (the reference server runs a write request
// in one), the entry is written once that has ended, so that the rollback
// which follows a denial or a failure does not take it back.
func (pm *Permit) record(ctx context.Context, out audit.Outcome) {
	e := pm.entry
	e.Outcome = out
	if pm.e.store.AfterTx(ctx, func(ctx context.Context) { pm.write(ctx, e) }) {
		return
	}
	pm.write(ctx, e)
}

// write appends e on its own, logging a failure.
func (pm *Permit) write(ctx context.Context, e audit.Entry) {
	if _, err := pm.e.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		pm.e.Logger.ErrorContext(ctx, "cannot record an access in the activity log",
			"request_id", e.RequestID, "action", e.Action, "outcome", string(e.Outcome), "error", err)
	}
}

// Patient returns a patient of practice for the caller in ctx, who needs
// patient.contact.read over that patient; the read and its "patient.read"
// entry commit together (see Guard).
func (e *Engine) Patient(ctx context.Context, practice tenant.PracticeID, id scheduling.PatientID) (*scheduling.Patient, error) {
	var p *scheduling.Patient
	err := e.Guard(ctx, Access{Permission: rbac.PatientContactRead, PracticeID: practice, PatientID: &id,
		Action: "patient.read", ResourceType: "patient", ResourceID: id.String()},
		func(ctx context.Context) (string, error) {
			var err error
			p, err = e.Scheduling.Patient(ctx, practice, id)
			return id.String(), err
		})
	return p, err
}

// Book books a visit in practice for the caller in ctx, who needs
// appointment.book over the patient; the booking, its outbox messages and
// its "appointment.book" entry commit together (see Guard).
func (e *Engine) Book(ctx context.Context, practice tenant.PracticeID, in scheduling.BookRequest) (*scheduling.Appointment, error) {
	var a *scheduling.Appointment
	patient := in.PatientID
	if !e.store.HasTx(ctx) {
		// The transaction is the guard's, and nothing is written in it
		// before the booking: the policy, visit type and provider may come
		// from the booking cache.
		ctx = scheduling.CacheInTx(ctx)
	}
	err := e.Guard(ctx, Access{Permission: rbac.AppointmentBook, PracticeID: practice, PatientID: &patient,
		Action: "appointment.book", ResourceType: "appointment"},
		func(ctx context.Context) (string, error) {
			var err error
			if a, err = e.Scheduling.Book(ctx, practice, in); err != nil {
				return "", err
			}
			return a.ID.String(), nil
		})
	return a, err
}

// clip returns s cut to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
