// Package audit keeps carebook's activity log: who did what to which record of
// which practice, when, from where, and whether it was allowed.
//
// The log is append-only and tamper-evident. Each practice has its own chain
// of entries numbered 1, 2, 3… without gaps; each entry carries the hash of
// the one before it (PrevHash) and a SHA-256 over a canonical, versioned
// encoding of all its other fields (Hash). Verify walks a chain and reports
// the first broken link: an edited entry (its hash no longer matches), a
// deleted one (a gap in the numbers) or a reordered or inserted one (its
// PrevHash is not its predecessor's Hash).
//
// An entry commits with the change it records: a Store bound to a
// transaction appends in that transaction, and an adapter that implements
// several domains' Stores on one type (as sqlstore does) binds them all, so
// the Store handed to a scheduling transaction function also appends audit
// entries in that transaction.
//
// Closed periods (UTC days) are shipped to cold storage by an Exporter, one
// gzip-compressed JSON Lines file and one manifest per practice and day, to
// an Archive: an object store in production, a local directory (DirArchive)
// in tests and on one machine. NewScheduler runs the Exporter on gocron.
//
// Every Store must be safe for concurrent use and scope every query by
// practice. The package imports no storage or HTTP code; audittest is the
// conformance suite of its Store.
package audit
