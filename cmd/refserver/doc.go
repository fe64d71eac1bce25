// Command refserver runs carebook's reference server: the JSON API of package
// refserver over an Engine on PostgreSQL or SQLite.
//
// Usage:
//
//	refserver [serve|migrate|demo|signup-code|operator-add] [flags]
//
//	serve    serve the API until SIGINT or SIGTERM (the default)
//	migrate  run the database migrations and exit
//	demo     migrate, seed the demo clinic unless it exists, and exit
//	signup-code [note]
//	         issue the operator's invitation to sign one clinic up (for
//	         -signup invite), print it once, and exit
//	operator-add -email EMAIL
//	         add a member of the operator's support staff (the /ops/ panel)
//	         and print their one-time password once
//
// Every flag falls back to an environment variable; run refserver -h for the
// list. Configuration is read here and nowhere else. With -tls-cert and
// -tls-key (CAREBOOK_TLS_CERT, CAREBOOK_TLS_KEY) serve answers HTTPS, and
// every answer carries Strict-Transport-Security.
//
// While serve serves, a gocron scheduler in UTC runs the engine's periodic
// jobs (carebook.Engine.RegisterJobs): the outbox dispatch every
// -dispatch-every (CAREBOOK_DISPATCH_EVERY, 5s), which also settles sends
// left in doubt, and the export of the activity log's closed days to
// -audit-archive (CAREBOOK_AUDIT_ARCHIVE; audit-archive beside a SQLite
// database unless set, "" for none) every -audit-export-every
// (CAREBOOK_AUDIT_EXPORT_EVERY, 15m), and the FHIR bulk exports of
// practices (GET .../$export) every 30s, the sweep of the rate limits'
// full buckets every 10m, the roll-up of each practice's active
// providers (the "active_providers" meter) every hour, the refresh of the
// public directory every 10m, the end of the trials that ran out every
// -trials-every (CAREBOOK_TRIALS_EVERY, 5m), and the billing every
// -billing-every (CAREBOOK_BILLING_EVERY, 15m): ended periods closed into
// invoices, invoices due charged and failed ones retried (dunning). Close
// stops them after the runs in progress.
//
// Each practice may make -api-rate-limit (CAREBOOK_API_RATE_LIMIT,
// 1200/1m,200: 20 a second, bursts of 200) API requests, counted in the
// database so that the limit holds across replicas; past it the API
// answers 429 with Retry-After. A practice whose billing plan sets its own
// rate (billing.Plan.APIRate) gets the plan's instead.
//
// Who may sign a clinic up is -signup (CAREBOOK_SIGNUP): open, or invite,
// with a code refserver signup-code prints. Practices are verified (their
// organisation NPI, needed for online payments) against -nppes-url
// (CAREBOOK_NPPES_URL, CMS's NPPES API unless set; empty for none).
//
// Specialties are named by a curated table of common physician specialties;
// -nucc-csv (CAREBOOK_NUCC_CSV) loads the NUCC's full taxonomy CSV, obtained
// from nucc.org, to extend it. A bad row stops the start, naming its line
// and column.
package main
