-- The operator's plans, each practice's subscription, the usage events it
-- is billed for and the quota counters (package billing). An event is
-- counted once: its idempotency key is unique per practice and meter.
CREATE TABLE billing_plans (
	id         text PRIMARY KEY,
	name       text NOT NULL,
	currency   text NOT NULL,
	base_fee   bigint NOT NULL CHECK (base_fee >= 0),
	trial_days integer NOT NULL CHECK (trial_days BETWEEN 0 AND 366),
	meters     jsonb NOT NULL,
	updated_at timestamptz NOT NULL
);

CREATE TABLE billing_subscriptions (
	practice_id  uuid PRIMARY KEY REFERENCES practices (id),
	plan_id      text NOT NULL REFERENCES billing_plans (id),
	status       text NOT NULL CHECK (status IN ('trialing', 'active', 'past_due', 'read_only', 'canceled')),
	trial_end    timestamptz,
	period_start timestamptz NOT NULL,
	updated_at   timestamptz NOT NULL
);

CREATE TABLE usage_events (
	practice_id uuid NOT NULL REFERENCES practices (id),
	meter       text NOT NULL,
	idem_key    text NOT NULL,
	units       bigint NOT NULL CHECK (units > 0),
	at          timestamptz NOT NULL,
	PRIMARY KEY (practice_id, meter, idem_key)
);
-- A practice's totals over a period read this index alone.
CREATE INDEX usage_events_at ON usage_events (practice_id, at) INCLUDE (meter, units);

CREATE TABLE usage_counters (
	practice_id  uuid NOT NULL REFERENCES practices (id),
	meter        text NOT NULL,
	period_start timestamptz NOT NULL,
	used         bigint NOT NULL CHECK (used >= 0),
	PRIMARY KEY (practice_id, meter, period_start)
);
