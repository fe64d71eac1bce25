-- The invoices of the practices' billing periods, one per practice and
-- period (the unique key makes two replicas closing one period write one),
-- with their lines and charge attempts as JSON; the plan changes made
-- within a period, with their proration (package billing).
CREATE TABLE billing_invoices (
	practice_id  uuid NOT NULL REFERENCES practices (id),
	id           uuid NOT NULL,
	plan_id      text NOT NULL,
	period_start timestamptz NOT NULL,
	period_end   timestamptz NOT NULL CHECK (period_end > period_start),
	currency     text NOT NULL,
	total        bigint NOT NULL CHECK (total >= 0),
	lines        jsonb NOT NULL,
	status       text NOT NULL CHECK (status IN ('open', 'paid', 'failed')),
	attempts     jsonb NOT NULL,
	next_attempt timestamptz,
	created_at   timestamptz NOT NULL,
	paid_at      timestamptz,
	PRIMARY KEY (practice_id, id),
	UNIQUE (practice_id, period_start)
);
-- The billing job's scan of what is due.
CREATE INDEX billing_invoices_due ON billing_invoices (next_attempt) WHERE next_attempt IS NOT NULL;

CREATE TABLE billing_plan_changes (
	practice_id  uuid NOT NULL REFERENCES practices (id),
	period_start timestamptz NOT NULL,
	at           timestamptz NOT NULL,
	from_plan    text NOT NULL,
	to_plan      text NOT NULL,
	from_fee     bigint NOT NULL CHECK (from_fee >= 0),
	to_fee       bigint NOT NULL CHECK (to_fee >= 0),
	currency     text NOT NULL,
	days         bigint NOT NULL CHECK (days >= 0),
	period_days  bigint NOT NULL CHECK (period_days > 0),
	credit       bigint NOT NULL CHECK (credit >= 0),
	charge       bigint NOT NULL CHECK (charge >= 0),
	PRIMARY KEY (practice_id, period_start, at)
);
