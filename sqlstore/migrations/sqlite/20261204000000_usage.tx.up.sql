-- SQLite twin of the PostgreSQL migration: the operator's plans, each
-- practice's subscription, the usage events it is billed for and the quota
-- counters (package billing). An event is counted once: its idempotency
-- key is unique per practice and meter.
CREATE TABLE billing_plans (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	currency   TEXT NOT NULL,
	base_fee   INTEGER NOT NULL CHECK (base_fee >= 0),
	trial_days INTEGER NOT NULL CHECK (trial_days BETWEEN 0 AND 366),
	meters     TEXT NOT NULL,
	updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE billing_subscriptions (
	practice_id  TEXT PRIMARY KEY REFERENCES practices (id),
	plan_id      TEXT NOT NULL REFERENCES billing_plans (id),
	status       TEXT NOT NULL CHECK (status IN ('trialing', 'active', 'past_due', 'read_only', 'canceled')),
	trial_end    TEXT,
	period_start TEXT NOT NULL,
	updated_at   TEXT NOT NULL
) STRICT;

CREATE TABLE usage_events (
	practice_id TEXT NOT NULL REFERENCES practices (id),
	meter       TEXT NOT NULL,
	idem_key    TEXT NOT NULL,
	units       INTEGER NOT NULL CHECK (units > 0),
	at          TEXT NOT NULL,
	PRIMARY KEY (practice_id, meter, idem_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX usage_events_at ON usage_events (practice_id, at, meter, units);

CREATE TABLE usage_counters (
	practice_id  TEXT NOT NULL REFERENCES practices (id),
	meter        TEXT NOT NULL,
	period_start TEXT NOT NULL,
	used         INTEGER NOT NULL CHECK (used >= 0),
	PRIMARY KEY (practice_id, meter, period_start)
) STRICT, WITHOUT ROWID;
