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

func (s *Server) actingIn(r *http.Request) (*acting, error) {
	pid, err := practiceID(r)
	if err != nil {
		return nil, err
	}
	c, err := s.signedIn(r)
	if err != nil {
		return nil, err
	}
	ctx := actor.With(r.Context(), c.actor())
	p, err := s.engine.Tenants.Practice(ctx, pid)
	if err != nil {
		return nil, err
	}
	pr, err := s.principal(r, c)
	if err != nil {
		return nil, err
	}
	return &acting{ctx: ctx, pr: pr, practice: p}, nil
}

func (a *acting) owner() rbac.Owner { return rbac.PracticeOwner(a.practice.GroupID, a.practice.ID) }

type roleRequest struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request) error {
	a, err := s.actingIn(r)
	if err != nil {
		return err
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
	pid, err := practiceID(r)
	if err != nil {
		return err
	}
	var in roleRequest
	if err := s.decode(w, r, &in); err != nil {
		return err
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
	pid, err := practiceID(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "role")
	if err != nil {
		return err
	}
	if err := s.engine.DeleteRole(r.Context(), pid, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
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
	a, err := s.actingIn(r)
	if err != nil {
		return err
	}
	gs, err := s.engine.RBAC.ListPracticeGrants(a.ctx, a.pr, a.practice.ID)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, map[string]any{"items": gs})
}

func (s *Server) createGrant(w http.ResponseWriter, r *http.Request) error {
	pid, err := practiceID(r)
	if err != nil {
		return err
	}
	var in grantRequest
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	req := carebook.GrantRequest{Role: in.Role, Scope: rbac.ScopeKind(in.Scope)}
	if req.AccountID, err = parseID("account_id", in.AccountID); err != nil {
		return err
	}
	for _, f := range []struct {
		name, text string
		dst        *uuid.UUID
	}{{"role_id", in.RoleID, &req.RoleID}, {"location_id", in.LocationID, &req.LocationID}, {"patient_id", in.PatientID, &req.PatientID}} {
		if f.text != "" {
			if *f.dst, err = parseID(f.name, f.text); err != nil {
				return err
			}
		}
	}
	g, err := s.engine.GrantRole(r.Context(), pid, req)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, g)
}

func (s *Server) deleteGrant(w http.ResponseWriter, r *http.Request) error {
	pid, err := practiceID(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "grant")
	if err != nil {
		return err
	}
	if err := s.engine.RevokeGrant(r.Context(), pid, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
