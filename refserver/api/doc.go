// Package api is carebook's JSON API under /api/v1, a module of the
// reference server (refserver.New(engine, opts, api.Module, web.Module)):
// its route table (routes.go) and handlers, the providers' webhooks
// (Twilio, SendGrid), and the OpenAPI 3.1 document that describes every
// route of the composed server, served at /api/openapi.json. Tests check
// that the document and the route table agree, walk every operation of the
// document with mutated input, and send every route as every role.
//
// Handlers only decode, call the engine and encode: each reads its input
// through a refserver.Request (path IDs, query, body, each error naming
// the input at fault) and returns an error, which the core answers as a
// problem document.
//
// Roles and grants of a practice are managed under /roles and /grants
// through the engine's staff operations and rbac.Service, which refuses
// privilege escalation; accepting a staff invitation grants its role
// (front_desk, clinician, practice_admin or a custom role of the practice) at
// practice scope, on behalf of the inviter. Each change, like each
// sign-in, sign-out and change of credentials, is written to the
// practice's activity log in the change's own transaction: if the entry
// cannot be appended, nothing changes. Creating a group is a bootstrap:
// any signed-in staff account may, and becomes the group's administrator
// in the same transaction.
//
// The operator's support staff have routes of their own under
// /api/v1/ops (ops.go): a support session's token, from POST
// /api/v1/ops/login, as the bearer token; an account's credentials are
// refused there, whatever their grants.
package api
