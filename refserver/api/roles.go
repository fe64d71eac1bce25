package api

import (
	"context"
	"net/http"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
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
func (s *server) actingIn(req *refserver.Request) *acting {
	pid, c := req.Practice(), req.SignedIn()
	if req.Err != nil {
		return nil
	}
	ctx := actor.With(req.HTTP().Context(), c.Actor())
	p, err := s.engine.Tenants.Practice(ctx, pid)
	if err != nil {
		req.Fail(err)
		return nil
	}
	pr, err := s.srv.Principal(req.HTTP(), c)
	req.Fail(err)
	return &acting{ctx: ctx, pr: pr, practice: p}
}

func (a *acting) owner() rbac.Owner { return rbac.PracticeOwner(a.practice.GroupID, a.practice.ID) }

type roleRequest struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

func (s *server) listRoles(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	a := s.actingIn(req)
	if req.Err != nil {
		return req.Err
	}
	custom, err := s.engine.RBAC.ListRoles(a.ctx, a.pr, a.owner())
	if err != nil {
		return err
	}
	out := append(rbac.BuiltInRoles(), custom...)
	return refserver.Reply(w, http.StatusOK, map[string]any{"items": out})
}

func (s *server) createRole(w http.ResponseWriter, r *http.Request) error {
	const op = "refserver.createRole"
	req := s.srv.Request(w, r)
	pid := req.Practice()
	var in roleRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
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
	return refserver.Reply(w, http.StatusCreated, role)
}

func (s *server) deleteRole(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("role")
	if req.Err != nil {
		return req.Err
	}
	return req.NoContent(s.engine.DeleteRole(r.Context(), pid, id))
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

func (s *server) listGrants(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	a := s.actingIn(req)
	if req.Err != nil {
		return req.Err
	}
	gs, err := s.engine.RBAC.ListPracticeGrants(a.ctx, a.pr, a.practice.ID)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, map[string]any{"items": gs})
}

func (s *server) createGrant(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	var in grantRequest
	req.Body(&in)
	g := carebook.GrantRequest{Role: in.Role, Scope: rbac.ScopeKind(in.Scope), AccountID: req.BodyID("account_id", in.AccountID)}
	for _, f := range []struct {
		name, text string
		dst        *uuid.UUID
	}{{"role_id", in.RoleID, &g.RoleID}, {"location_id", in.LocationID, &g.LocationID}, {"patient_id", in.PatientID, &g.PatientID}} {
		if id := req.BodyOptID(f.name, f.text); id != nil {
			*f.dst = *id
		}
	}
	if req.Err != nil {
		return req.Err
	}
	grant, err := s.engine.GrantRole(r.Context(), pid, g)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusCreated, grant)
}

func (s *server) deleteGrant(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("grant")
	if req.Err != nil {
		return req.Err
	}
	return req.NoContent(s.engine.RevokeGrant(r.Context(), pid, id))
}
