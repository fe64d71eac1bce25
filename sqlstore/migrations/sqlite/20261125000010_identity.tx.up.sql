-- identity, SQLite: mirrors the PostgreSQL schema. UUIDs and instants are
-- TEXT, hashes BLOB, booleans INTEGER, durations INTEGER microseconds.

CREATE TABLE accounts (
	id                TEXT PRIMARY KEY,
	kind              TEXT NOT NULL CHECK (kind IN ('staff', 'patient')),
	practice_id       TEXT NOT NULL REFERENCES practices (id),
	email             TEXT,
	phone             TEXT,
	password_hash     TEXT NOT NULL,
	email_verified_at TEXT,
	failed_logins     INTEGER NOT NULL,
	lockouts          INTEGER NOT NULL,
	locked_until      TEXT,
	totp_secret       TEXT NOT NULL,
	totp_enabled      INTEGER NOT NULL,
	totp_last_step    INTEGER NOT NULL,
	created_at        TEXT NOT NULL,
	updated_at        TEXT NOT NULL,
	CONSTRAINT accounts_contact CHECK (email IS NOT NULL OR phone IS NOT NULL)
) STRICT;
CREATE UNIQUE INDEX accounts_email ON accounts (email);
CREATE UNIQUE INDEX accounts_phone ON accounts (phone);
CREATE INDEX accounts_practice ON accounts (practice_id, id);

CREATE TABLE sessions (
	account_id           TEXT NOT NULL REFERENCES accounts (id),
	id                   TEXT NOT NULL,
	token_hash           BLOB NOT NULL,
	kind                 TEXT NOT NULL,
	practice_id          TEXT NOT NULL,
	device               TEXT NOT NULL,
	ip                   TEXT NOT NULL,
	user_agent           TEXT NOT NULL,
	needs_mfa_enrollment INTEGER NOT NULL,
	created_at           TEXT NOT NULL,
	last_used_at         TEXT NOT NULL,
	idle_timeout_us      INTEGER NOT NULL,
	idle_expires_at      TEXT NOT NULL,
	expires_at           TEXT NOT NULL,
	revoked_at           TEXT,
	PRIMARY KEY (account_id, id)
) STRICT;
CREATE UNIQUE INDEX sessions_token ON sessions (token_hash);
CREATE INDEX sessions_live ON sessions (account_id, last_used_at, id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE recovery_codes (
	account_id TEXT NOT NULL REFERENCES accounts (id),
	code_hash  BLOB NOT NULL,
	created_at TEXT NOT NULL,
	used_at    TEXT,
	PRIMARY KEY (account_id, code_hash)
) STRICT;

CREATE TABLE email_verifications (
	token_hash BLOB PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	used_at    TEXT
) STRICT;
CREATE INDEX email_verifications_account ON email_verifications (account_id);

CREATE TABLE session_policies (
	practice_id         TEXT PRIMARY KEY REFERENCES practices (id),
	staff_idle_us       INTEGER NOT NULL,
	staff_absolute_us   INTEGER NOT NULL,
	staff_devices       INTEGER NOT NULL,
	staff_on_limit      TEXT NOT NULL,
	patient_idle_us     INTEGER NOT NULL,
	patient_absolute_us INTEGER NOT NULL,
	patient_devices     INTEGER NOT NULL,
	patient_on_limit    TEXT NOT NULL,
	require_staff_mfa   INTEGER NOT NULL,
	updated_at          TEXT NOT NULL
) STRICT;

CREATE TABLE invitations (
	practice_id TEXT NOT NULL REFERENCES practices (id),
	id          TEXT NOT NULL,
	email       TEXT NOT NULL,
	role        TEXT NOT NULL,
	invited_by  TEXT NOT NULL,
	token_hash  BLOB NOT NULL,
	created_at  TEXT NOT NULL,
	expires_at  TEXT NOT NULL,
	accepted_at TEXT,
	account_id  TEXT,
	PRIMARY KEY (practice_id, id)
) STRICT;
CREATE UNIQUE INDEX invitations_token ON invitations (token_hash);
CREATE INDEX invitations_email ON invitations (practice_id, email);

CREATE TABLE api_keys (
	practice_id TEXT NOT NULL REFERENCES practices (id),
	id          TEXT NOT NULL,
	name        TEXT NOT NULL,
	permissions TEXT NOT NULL,
	secret_hash BLOB NOT NULL,
	created_by  TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	revoked_at  TEXT,
	PRIMARY KEY (practice_id, id)
) STRICT;
CREATE UNIQUE INDEX api_keys_id ON api_keys (id);
CREATE INDEX api_keys_created ON api_keys (practice_id, created_at, id);
