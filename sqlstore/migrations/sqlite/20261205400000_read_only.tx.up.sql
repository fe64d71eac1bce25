-- SQLite twin of the PostgreSQL migration: a practice's payment method on
-- file for the operator's invoices, and why a practice is read-only, one
-- row a reason (package billing).
CREATE TABLE billing_payment_methods (
	practice_id TEXT PRIMARY KEY REFERENCES practices (id),
	provider    TEXT NOT NULL,
	setup_ref   TEXT NOT NULL,
	token       TEXT NOT NULL,
	label       TEXT NOT NULL,
	saved_at    TEXT NOT NULL,
	saved_by    TEXT NOT NULL
) STRICT;

CREATE TABLE practice_read_only (
	practice_id TEXT NOT NULL REFERENCES practices (id),
	reason      TEXT NOT NULL CHECK (reason IN ('trial_ended', 'payment_failed')),
	since       TEXT NOT NULL,
	PRIMARY KEY (practice_id, reason)
) STRICT, WITHOUT ROWID;
