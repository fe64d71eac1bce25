package sqlstore

import (
	"context"
	"errors"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

type roleRow struct {
	bun.BaseModel `bun:"table:rbac_roles,alias:r"`

	ID          uuid.UUID        `bun:"id,pk"`
	GroupID     uuid.UUID        `bun:"group_id"`
	PracticeID  *uuid.UUID       `bun:"practice_id"`
	Name        string           `bun:"name"`
	Permissions jsonList[string] `bun:"permissions"`
	CreatedAt   utcTime          `bun:"created_at"`
	CreatedBy   string           `bun:"created_by"`
	UpdatedAt   utcTime          `bun:"updated_at"`
}

func newRoleRow(r *rbac.Role) *roleRow {
	perms := make(jsonList[string], len(r.Permissions))
	for i, p := range r.Permissions {
		perms[i] = string(p)
	}
	row := &roleRow{
		ID:          r.ID,
		GroupID:     r.Owner.GroupID,
		Name:        r.Name,
		Permissions: perms,
		CreatedAt:   utc(r.CreatedAt),
		CreatedBy:   r.CreatedBy,
		UpdatedAt:   utc(r.UpdatedAt),
	}
	if r.Owner.PracticeID != nil {
		p := *r.Owner.PracticeID
		row.PracticeID = &p
	}
	return row
}

func (r *roleRow) role() *rbac.Role {
	perms := make([]rbac.Permission, len(r.Permissions))
	for i, p := range r.Permissions {
		perms[i] = rbac.Permission(p)
	}
	owner := rbac.Owner{GroupID: r.GroupID}
	if r.PracticeID != nil {
		p := *r.PracticeID
		owner.PracticeID = &p
	}
	return &rbac.Role{
		ID:          r.ID,
		Owner:       owner,
		Name:        r.Name,
		Permissions: perms,
		CreatedAt:   r.CreatedAt.Time(),
		CreatedBy:   r.CreatedBy,
		UpdatedAt:   r.UpdatedAt.Time(),
	}
}

// ownedBy narrows a query on rbac_roles to the roles of owner.
func ownedBy(q *bun.SelectQuery, owner rbac.Owner) *bun.SelectQuery {
	q = q.Where("r.group_id = ?", owner.GroupID)
	if owner.PracticeID != nil {
		return q.Where("r.practice_id = ?", *owner.PracticeID)
	}
	return q.Where("r.practice_id IS NULL")
}

// ownerWhere is ownedBy for updates and deletes, which use no alias.
func ownerWhere(owner rbac.Owner) (string, []any) {
	if owner.PracticeID != nil {
		return "group_id = ? AND practice_id = ?", []any{owner.GroupID, *owner.PracticeID}
	}
	return "group_id = ? AND practice_id IS NULL", []any{owner.GroupID}
}

// CreateRole stores the custom role r as given.
func (s *RBAC) CreateRole(ctx context.Context, r *rbac.Role) error {
	_, err := s.idb(ctx).NewInsert().Model(newRoleRow(r)).Exec(ctx)
	return failure("sqlstore.CreateRole", "role", err)
}

// GetRole returns the custom role id of owner, or KindNotFound.
func (s *RBAC) GetRole(ctx context.Context, owner rbac.Owner, id rbac.RoleID) (*rbac.Role, error) {
	var row roleRow
	if err := ownedBy(s.idb(ctx).NewSelect().Model(&row), owner).Where("r.id = ?", id).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetRole", "role", err)
	}
	return row.role(), nil
}

// ListRoles returns the custom roles of owner by name, then ID.
func (s *RBAC) ListRoles(ctx context.Context, owner rbac.Owner) ([]*rbac.Role, error) {
	var rows []roleRow
	if err := ownedBy(s.idb(ctx).NewSelect().Model(&rows), owner).OrderExpr("r.name, r.id").Scan(ctx); err != nil {
		return nil, failure("sqlstore.ListRoles", "role", err)
	}
	out := make([]*rbac.Role, len(rows))
	for i := range rows {
		out[i] = rows[i].role()
	}
	return out, nil
}

// UpdateRole replaces the name, permissions and update time of role r.ID of
// r.Owner.
func (s *RBAC) UpdateRole(ctx context.Context, r *rbac.Role) error {
	row := newRoleRow(r)
	where, args := ownerWhere(r.Owner)
	res, err := s.idb(ctx).NewUpdate().Table("rbac_roles").
		Set("name = ?", row.Name).
		Set("permissions = ?", row.Permissions).
		Set("updated_at = ?", row.UpdatedAt).
		Where("id = ?", r.ID).Where(where, args...).Exec(ctx)
	return affected("sqlstore.UpdateRole", "role", res, err)
}

// DeleteRole deletes custom role id of owner; KindConflict while granted.
func (s *RBAC) DeleteRole(ctx context.Context, owner rbac.Owner, id rbac.RoleID) error {
	const op = "sqlstore.DeleteRole"
	where, args := ownerWhere(owner)
	res, err := s.idb(ctx).NewDelete().Table("rbac_roles").Where("id = ?", id).Where(where, args...).Exec(ctx)
	if isForeignKeyViolation(err) {
		return errs.Wrap(errs.KindConflict, op, "the role is still granted", err)
	}
	return affected(op, "role", res, err)
}

// isForeignKeyViolation reports whether err is a foreign key violation.
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == pgForeignKeyViolation
	}
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

type grantRow struct {
	bun.BaseModel `bun:"table:rbac_grants,alias:gr"`

	ID           uuid.UUID  `bun:"id,pk"`
	AccountID    uuid.UUID  `bun:"account_id"`
	RoleID       uuid.UUID  `bun:"role_id"`
	CustomRoleID *uuid.UUID `bun:"custom_role_id"`
	ScopeKind    string     `bun:"scope_kind"`
	ScopeKey     string     `bun:"scope_key"`
	GroupID      uuid.UUID  `bun:"group_id"`
	PracticeID   *uuid.UUID `bun:"practice_id"`
	LocationID   *uuid.UUID `bun:"location_id"`
	PatientID    *uuid.UUID `bun:"patient_id"`
	CreatedAt    utcTime    `bun:"created_at"`
	CreatedBy    string     `bun:"created_by"`
}

// optID returns nil for the zero ID, else a pointer to a copy of id.
func optID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

func newGrantRow(g *rbac.Grant) *grantRow {
	row := &grantRow{
		ID:         g.ID,
		AccountID:  g.AccountID,
		RoleID:     g.RoleID,
		ScopeKind:  string(g.Scope.Kind),
		ScopeKey:   g.Scope.Key(),
		GroupID:    g.Scope.GroupID,
		PracticeID: optID(g.Scope.PracticeID),
		LocationID: optID(g.Scope.LocationID),
		PatientID:  optID(g.Scope.PatientID),
		CreatedAt:  utc(g.CreatedAt),
		CreatedBy:  g.CreatedBy,
	}
	if _, builtIn := rbac.BuiltInRole(g.RoleID); !builtIn {
		row.CustomRoleID = optID(g.RoleID)
	}
	return row
}

func (r *grantRow) grant() *rbac.Grant {
	sc := rbac.Scope{Kind: rbac.ScopeKind(r.ScopeKind), GroupID: r.GroupID}
	if r.PracticeID != nil {
		sc.PracticeID = *r.PracticeID
	}
	if r.LocationID != nil {
		sc.LocationID = *r.LocationID
	}
	if r.PatientID != nil {
		sc.PatientID = *r.PatientID
	}
	return &rbac.Grant{
		ID:        r.ID,
		AccountID: r.AccountID,
		RoleID:    r.RoleID,
		Scope:     sc,
		CreatedAt: r.CreatedAt.Time(),
		CreatedBy: r.CreatedBy,
	}
}

// CreateGrant stores g as given.
func (s *RBAC) CreateGrant(ctx context.Context, g *rbac.Grant) error {
	_, err := s.idb(ctx).NewInsert().Model(newGrantRow(g)).Exec(ctx)
	return failure("sqlstore.CreateGrant", "grant", err)
}

// GetGrant returns grant id of group, or KindNotFound.
func (s *RBAC) GetGrant(ctx context.Context, group tenant.GroupID, id rbac.GrantID) (*rbac.Grant, error) {
	var row grantRow
	if err := s.idb(ctx).NewSelect().Model(&row).
		Where("gr.group_id = ? AND gr.id = ?", group, id).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetGrant", "grant", err)
	}
	return row.grant(), nil
}

// listGrants runs q and converts its rows.
func (s *RBAC) listGrants(ctx context.Context, op string, where string, arg any) ([]*rbac.Grant, error) {
	var rows []grantRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where(where, arg).OrderExpr("gr.id").Scan(ctx); err != nil {
		return nil, failure(op, "grant", err)
	}
	out := make([]*rbac.Grant, len(rows))
	for i := range rows {
		out[i] = rows[i].grant()
	}
	return out, nil
}

// ListAccountGrants returns every grant of account by ID.
func (s *RBAC) ListAccountGrants(ctx context.Context, account rbac.AccountID) ([]*rbac.Grant, error) {
	return s.listGrants(ctx, "sqlstore.ListAccountGrants", "gr.account_id = ?", account)
}

// ListPracticeGrants returns the grants inside practice by ID.
func (s *RBAC) ListPracticeGrants(ctx context.Context, practice tenant.PracticeID) ([]*rbac.Grant, error) {
	return s.listGrants(ctx, "sqlstore.ListPracticeGrants", "gr.practice_id = ?", practice)
}

// ListGroupGrants returns the group-scope grants of group by ID.
func (s *RBAC) ListGroupGrants(ctx context.Context, group tenant.GroupID) ([]*rbac.Grant, error) {
	return s.listGrants(ctx, "sqlstore.ListGroupGrants", "gr.group_id = ? AND gr.practice_id IS NULL", group)
}

// DeleteGrant deletes grant id of group, or returns KindNotFound.
func (s *RBAC) DeleteGrant(ctx context.Context, group tenant.GroupID, id rbac.GrantID) error {
	res, err := s.idb(ctx).NewDelete().Table("rbac_grants").Where("group_id = ? AND id = ?", group, id).Exec(ctx)
	return affected("sqlstore.DeleteGrant", "grant", res, err)
}
