package rbac

import (
	"context"

	"github.com/carebook/carebook/tenant"
)

// Store keeps custom roles and grants. Built-in roles are not stored: they
// live in code under fixed IDs (see BuiltInRoles). rbac/rbactest checks
// every implementation.
//
// The contract every implementation keeps:
//   - It is safe for concurrent use, also by several processes on one database.
//   - Roles are scoped by their Owner and grants by their group: a role of
//     another owner, or a grant of another group, is never returned, changed
//     or deleted, and reads as not found (KindNotFound).
//   - Create methods store the value as given (IDs, timestamps and CreatedBy
//     are set by the Service). Validation and authorization are the Service's
//     job; a Store enforces only what its schema can.
//   - Slices come back non-nil (empty when none) and in the documented order;
//     a role's Permissions come back in the order stored.
//   - Times come back in UTC with at least microsecond precision.
type Store interface {
	// CreateRole stores the custom role r. It returns KindConflict when r's
	// owner already has a role of that name, and KindNotFound when the
	// owner's group or practice does not exist.
	CreateRole(ctx context.Context, r *Role) error
	// GetRole returns the custom role id of owner, or KindNotFound.
	GetRole(ctx context.Context, owner Owner, id RoleID) (*Role, error)
	// ListRoles returns the custom roles of owner, by name then ID. A group's
	// list holds the group's own roles, not those of its practices.
	ListRoles(ctx context.Context, owner Owner) ([]*Role, error)
	// UpdateRole replaces Name, Permissions and UpdatedAt of the stored role
	// r.ID of r.Owner. It returns KindNotFound for an unknown role and
	// KindConflict when the new name is taken within the owner.
	UpdateRole(ctx context.Context, r *Role) error
	// DeleteRole deletes the custom role id of owner. It returns KindNotFound
	// for an unknown role and KindConflict while any grant refers to it.
	DeleteRole(ctx context.Context, owner Owner, id RoleID) error

	// CreateGrant stores g. It returns KindConflict when the account already
	// holds that role at that scope, and KindNotFound when the scope's group,
	// practice or location, or a custom role, does not exist. Its Scope must
	// have GroupID set.
	CreateGrant(ctx context.Context, g *Grant) error
	// GetGrant returns grant id of group (a grant at any scope inside the
	// group), or KindNotFound.
	GetGrant(ctx context.Context, group tenant.GroupID, id GrantID) (*Grant, error)
	// ListAccountGrants returns every grant of account, in every tenant, by
	// ID. It is how a Principal is built.
	ListAccountGrants(ctx context.Context, account AccountID) ([]*Grant, error)
	// ListPracticeGrants returns the grants whose scope lies inside practice
	// (practice, location and self scopes; not the group's), by ID.
	ListPracticeGrants(ctx context.Context, practice tenant.PracticeID) ([]*Grant, error)
	// ListGroupGrants returns the grants at group scope of group, by ID.
	ListGroupGrants(ctx context.Context, group tenant.GroupID) ([]*Grant, error)
	// DeleteGrant deletes grant id of group, or returns KindNotFound.
	DeleteGrant(ctx context.Context, group tenant.GroupID, id GrantID) error
}
