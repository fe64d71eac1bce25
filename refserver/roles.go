package refserver

import (
	"context"
	"net/http"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Roles and grants of one practice. Every change goes through the
// engine's staff operations (Engine.CreateRole, GrantRole, ...) on behalf
// of the signed-in account, the caller authorization put in the context;
// rbac.Service refuses privilege escalation, and each change is written to
// the practice's activity log in its transaction. The handlers decode,
// call and encode.

// acting is the signed-in account of r as an rbac principal, with the
// practice of the path and its owner of custom roles.
type acting struct {
	ctx      context.Context
	pr       rbac.Principal
	practice *tenant.Practice
}

// actingIn reads the request's {practice} and signed-in account, keeping
// the first error.
func (q *request) actingIn() *acting {
	pid, c := q.practice(), q.signedIn()
	if q.err != nil {
		return nil
	}
	ctx := actor.With(q.r.Context(), c.actor())
	p, err := q.s.engine.Tenants.Practice(ctx, pid)
	if err != nil {
		q.fail(err)
		return nil
	}
	pr, err := q.s.principal(q.r, c)
	q.fail(err)
	return &acting{ctx: ctx, pr: pr, practice: p}
}

func (a *acting) owner() rbac.Owner { return rbac.PracticeOwner(a.practice.GroupID, a.practice.ID) }

type roleRequest struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	a := req.actingIn()
	if req.err != nil {
		return req.err
	}
	custom, err := s.engine.RBAC.ListRoles(a.ctx, a.pr, a.owner())
	if err != nil {
		return err
	}
	out := append(rbac.BuiltInRoles(), custom...)
	return reply(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request) error {
	const op = "refserver.createRole"
	req := s.request(w, r)
	pid := req.practice()
	var in roleRequest
	if req.body(&in); req.err != nil {
		return req.err
	}
	perms := make([]rbac.Permission, 0, len(in.Permissions))
	for _, name := range in.Permissions {
		p, err := rbac.ParsePermission(name)
		if err != nil {
			return errs.Invalid(op, "permissions", "unknown permission "+name)
		}
		perms = append(perms, p)
	}
	role, err := s.engine.CreateRole(r.Context(), pid, in.Name, perms)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, role)
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("role")
	if req.err != nil {
		return req.err
	}
	return req.noContent(s.engine.DeleteRole(r.Context(), pid, id))
}

// grantRequest grants a role (by ID, or by name: a built-in name or a
// custom role of the practice) to an account at a scope of the practice:
// "practice", "location" (with location_id) or "self" (with patient_id, a
// patient of the practice; only the patient role).
type grantRequest struct {
	AccountID  string `json:"account_id"`
	RoleID     string `json:"role_id"`
	Role       string `json:"role"`
	Scope      string `json:"scope"`
	LocationID string `json:"location_id"`
	PatientID  string `json:"patient_id"`
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	a := req.actingIn()
	if req.err != nil {
		return req.err
	}
	gs, err := s.engine.RBAC.ListPracticeGrants(a.ctx, a.pr, a.practice.ID)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, map[string]any{"items": gs})
}

func (s *Server) createGrant(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.practice()
	var in grantRequest
	req.body(&in)
	g := carebook.GrantRequest{Role: in.Role, Scope: rbac.ScopeKind(in.Scope), AccountID: req.bodyID("account_id", in.AccountID)}
	for _, f := range []struct {
		name, text string
		dst        *uuid.UUID
	}{{"role_id", in.RoleID, &g.RoleID}, {"location_id", in.LocationID, &g.LocationID}, {"patient_id", in.PatientID, &g.PatientID}} {
		if id := req.bodyOptID(f.name, f.text); id != nil {
			*f.dst = *id
		}
	}
	if req.err != nil {
		return req.err
	}
	grant, err := s.engine.GrantRole(r.Context(), pid, g)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, grant)
}

func (s *Server) deleteGrant(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("grant")
	if req.err != nil {
		return req.err
	}
	return req.noContent(s.engine.RevokeGrant(r.Context(), pid, id))
}
