// Package refserver is the core of carebook's reference HTTP server over a
// carebook.Engine: the Server, its middleware (request IDs, access logs,
// security headers, panics, client addresses), authentication
// (SessionAuth), per-route authorization through the engine's guard, the
// route and access table types, one error renderer, and typed readers of
// a request's input (Request). It serves /healthz, /readyz and Prometheus
// metrics at /metrics itself; modules add the rest:
//
//	srv := refserver.New(engine, opts, api.Module, web.Module)
//
// where package refserver/api is the JSON API under /api/v1 (with its
// webhooks and its OpenAPI 3.1 document at /api/openapi.json) and package
// refserver/web the pages (for now those of email links). A Module adds its
// routes through the Router New hands it, so that neither imports the
// other and the core imports neither; New without modules serves only the
// operational routes.
//
// Every route is an entry of a route table (Route: method, pattern,
// handler, summary and Access), added as an API route or a page route. Handlers return an error; one renderer (render.go)
// answers it: on an API route as an RFC 9457 problem document
// (application/problem+json), on a page route (the pages of email links)
// as an HTML page on the shared layout (templates/), and on a route that
// serves both, or a request that matches no route, by Accept (HTML only to
// a client that prefers text/html to JSON). One table maps each errs.Kind
// to its HTTP status:
//
//	invalid 400, unauthenticated 401, practice_read_only 402,
//	forbidden 403, not_found 404,
//	conflict 409, too_large 413, unsupported_media_type 415,
//	precondition_failed 422, rate_limited 429, internal 500
//
// A 401 carries the challenge WWW-Authenticate: Bearer realm="carebook".
// A page answers a failure of ours with 503 and Retry-After instead of
// 500; a PageError words an error for people and may name a status no kind
// does (410 for an expired link).
//
// The problem's extension members are field (the input at fault), kind (the
// errs.Kind name), details (errs.Error.Details) and request_id. Internal
// errors are logged and never shown.
//
// Request bodies must be application/json (else 415), at most 1 MiB,
// exactly one JSON value, and hold no unknown field and no member twice
// (names compared without regard to case). No string input, in a body, a
// path or a query, may hold NUL or invalid UTF-8 (see text.go). Durations
// are whole minutes (duration_minutes, min_notice_minutes, ...), times are
// RFC 3339, IDs are UUIDs in canonical form.
//
// The acting actor.Actor is set by one middleware in front of every route,
// Options.Authenticate. The default, ActorFromHeader, trusts the
// X-Carebook-Actor header ("staff:<id>" or "patient:<id>"); it is meant for
// development and tests only. SessionAuth is the real authentication.
//
// Authorization is declared per route in the route table (Access: a
// permission, or a marker: Public, SignedInOnly, Member, Bootstrap, Signed,
// Guarded (the handler's guarded Engine operation decides and logs);
// SessionAuth reads the same table to know which routes are open) and
// enforced in one wrapper (authz.go) for requests SessionAuth authenticated:
// a {practice} the caller holds no grant in answers 404, a missing
// permission 403; a patient's self grant covers only its own patient record
// and appointments. Routes on patient data record every decision, allowed
// or denied, in the practice's activity log. Behind ActorFromHeader
// (Options.SkipAuthorization) NOTHING IS AUTHORIZED: development only.
// Sign-in and password-change attempts are rate limited per client address
// and per account (Options.RateLimit, Server.CheckAttempt); the client
// address is read from X-Forwarded-For only behind Options.TrustedProxies.
// Every API route of a practice counts against the practice's API limit
// (carebook.PracticeLimits), answering the RateLimit-Limit,
// RateLimit-Remaining and RateLimit-Reset fields, and past it 429 with
// Retry-After. Both limits are counted by the engine's limiter in the
// database (package ratelimit), so they hold across replicas.
//
// A Server is safe for concurrent use and keeps no state between requests
// beyond its metrics, so any number of replicas may serve one database.
package refserver
