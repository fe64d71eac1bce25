-- SQLite twin of the PostgreSQL migration: the invoices of the practices'
-- billing periods, one per practice and period, with their lines and
-- charge attempts as JSON; the plan changes made within a period, with
-- their proration.
CREATE TABLE billing_invoices (
	practice_id  TEXT NOT NULL REFERENCES practices (id),
	id           TEXT NOT NULL,
	plan_id      TEXT NOT NULL,
	period_start TEXT NOT NULL,
	period_end   TEXT NOT NULL CHECK (period_end > period_start),
	currency     TEXT NOT NULL,
	total        INTEGER NOT NULL CHECK (total >= 0),
	lines        TEXT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('open', 'paid', 'failed')),
	attempts     TEXT NOT NULL,
	next_attempt TEXT,
	created_at   TEXT NOT NULL,
	paid_at      TEXT,
	PRIMARY KEY (practice_id, id),
	UNIQUE (practice_id, period_start)
) STRICT, WITHOUT ROWID;
CREATE INDEX billing_invoices_due ON billing_invoices (next_attempt) WHERE next_attempt IS NOT NULL;

CREATE TABLE billing_plan_changes (
	practice_id  TEXT NOT NULL REFERENCES practices (id),
	period_start TEXT NOT NULL,
	at           TEXT NOT NULL,
	from_plan    TEXT NOT NULL,
	to_plan      TEXT NOT NULL,
	from_fee     INTEGER NOT NULL CHECK (from_fee >= 0),
	to_fee       INTEGER NOT NULL CHECK (to_fee >= 0),
	currency     TEXT NOT NULL,
	days         INTEGER NOT NULL CHECK (days >= 0),
	period_days  INTEGER NOT NULL CHECK (period_days > 0),
	credit       INTEGER NOT NULL CHECK (credit >= 0),
	charge       INTEGER NOT NULL CHECK (charge >= 0),
	PRIMARY KEY (practice_id, period_start, at)
) STRICT, WITHOUT ROWID;
