// Package rbac decides who may do what, where: permissions (one per action),
// roles (named sets of permissions), grants (an account holds a role over a
// scope) and the Authorizer that answers every request.
//
// Authorization denies by default. A Principal is the set of grants of one
// account (or the permission list of one API key); Authorize returns nil only
// if some grant whose Scope covers the Target holds the permission:
//
//   - a group scope covers every practice of that group;
//   - a practice scope covers that practice: any location, any patient;
//   - a location scope covers targets of its practice at that location only
//     (a target that names no location is not covered: minimum necessary);
//   - a self scope covers only targets naming its patient, in its practice.
//
// Five roles are built in and cannot be changed: group_admin, practice_admin,
// front_desk, patient and clinician (see BuiltInRoles). Practices and groups add their own
// roles at run time through the Service, which refuses any role or grant that
// would give away a permission its author does not hold there (no privilege
// escalation), and records who made it.
//
// A denial is an *errs.Error of KindForbidden. A record of another practice
// must read as not found to callers: handlers ask Member first and answer
// KindNotFound for a practice the principal has no grant in.
//
// Storage is behind Store, whose contract rbac/rbactest checks for every
// adapter. Every Store must be safe for concurrent use and scope every query
// by its tenant.
package rbac
