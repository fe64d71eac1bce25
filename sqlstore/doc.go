// Package sqlstore keeps carebook's records in PostgreSQL or SQLite through
// github.com/uptrace/bun: one small store per domain (Tenants, Scheduling,
// Identity, RBAC, Audit, Notify, the dispatcher's Outbox, Files, Keys and
// EHR), each implementing its domain's Store interface, all over one
// connection pool and composed in a Store.
//
// Transactions travel in the context. InTx (on the Store or on any domain
// store: they share it) begins one and hands its function a context that
// carries it, under a key private to this package; every method of every
// domain store called with that context, or one derived from it, runs in
// the transaction. So work spanning domains (a booking, its outbox messages
// and its activity-log entry) commits together, with no store bound to a
// transaction and no type assertion. HasTx tells whether a context carries
// one, so that caches above can keep out of transactions.
//
// Open picks the database from the DSN: "postgres://..." runs on PostgreSQL
// 15+ through pgx (database/sql), "sqlite:<path>", "file:<path>" or
// "<path>.db" on SQLite through modernc.org/sqlite, pure Go. Migrate applies
// the embedded schema of that dialect (MigrationsFS).
//
// The rules it keeps on both databases:
//
//   - Every tenant-owned table leads its keys and indexes with practice_id,
//     and every query filters by it: a record of another practice reads as
//     not found.
//   - Instants are stored in UTC with microsecond precision (timestamptz on
//     PostgreSQL, fixed-width RFC 3339 text on SQLite) and come back in UTC.
//     Durations are integer microseconds; lists are JSON arrays.
//   - No double booking. On PostgreSQL exclusion constraints (btree_gist)
//     reject an active appointment whose hold overlaps another of the same
//     provider and seat, or of a resource. On SQLite every transaction begins
//     IMMEDIATE, which serializes writers across connections and processes,
//     and InsertAppointment and UpdateAppointment check for overlapping holds
//     in the transaction that writes. Holds are at most MaxHold long.
//   - The activity log (audit_entries) and the chart's versions
//     (ehr_versions) are append-only in the database itself: triggers
//     refuse UPDATE and DELETE, but for re-encryption's rewrite of a
//     version's sealed body and key ID alone.
//   - Errors are *errs.Error, chosen by SQLSTATE or SQLite's extended result
//     code, never by message text: KindConflict for a unique or exclusion
//     violation, KindNotFound for a missing row; anything else is wrapped.
//
// A Store holds no global state; any number of them may be open in one
// process. Tests open isolated databases with package sqlstore/sqltest.
package sqlstore
