-- SQLite twin of the PostgreSQL migration: the operator's support staff
-- and their sessions (token hashes only).
CREATE TABLE operator_staff (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE CHECK (email = lower(email) AND email <> ''),
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL,
	disabled_at   TEXT
) STRICT;
CREATE TABLE operator_sessions (
	id              TEXT PRIMARY KEY,
	staff_id        TEXT NOT NULL REFERENCES operator_staff (id),
	token_hash      BLOB NOT NULL UNIQUE,
	created_at      TEXT NOT NULL,
	last_used_at    TEXT NOT NULL,
	idle_expires_at TEXT NOT NULL,
	expires_at      TEXT NOT NULL,
	revoked_at      TEXT
) STRICT;
CREATE INDEX operator_sessions_staff ON operator_sessions (staff_id);
-- Every support action with the reason its staff member gave.
CREATE TABLE support_actions (
	practice_id TEXT NOT NULL REFERENCES practices (id),
	id          TEXT NOT NULL,
	staff_email TEXT NOT NULL,
	action      TEXT NOT NULL,
	detail      TEXT NOT NULL,
	reason      TEXT NOT NULL CHECK (reason <> ''),
	at          TEXT NOT NULL,
	PRIMARY KEY (practice_id, id)
) STRICT;
