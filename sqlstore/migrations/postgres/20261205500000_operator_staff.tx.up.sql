-- The operator's support staff (carebook.AddOperator): principals of their
-- own, outside every practice, who see practices' accounts and billing
-- and never their patients. Their sessions are kept like accounts'
-- (sessions): only the SHA-256 hash of the token.
CREATE TABLE operator_staff (
	id            uuid PRIMARY KEY,
	email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email <> ''),
	password_hash text NOT NULL,
	created_at    timestamptz NOT NULL,
	disabled_at   timestamptz
);
CREATE TABLE operator_sessions (
	id              uuid PRIMARY KEY,
	staff_id        uuid NOT NULL REFERENCES operator_staff (id),
	token_hash      bytea NOT NULL UNIQUE,
	created_at      timestamptz NOT NULL,
	last_used_at    timestamptz NOT NULL,
	idle_expires_at timestamptz NOT NULL,
	expires_at      timestamptz NOT NULL,
	revoked_at      timestamptz
);
CREATE INDEX operator_sessions_staff ON operator_sessions (staff_id);
-- Every support action (carebook.ExtendTrial, ChangePlan,
-- SupportLiftReadOnly) with the reason its staff member gave, written in
-- the transaction of its effect and of its activity-log entry.
CREATE TABLE support_actions (
	practice_id uuid NOT NULL REFERENCES practices (id),
	id          uuid NOT NULL,
	staff_email text NOT NULL,
	action      text NOT NULL,
	detail      text NOT NULL,
	reason      text NOT NULL CHECK (reason <> ''),
	at          timestamptz NOT NULL,
	PRIMARY KEY (practice_id, id)
);
