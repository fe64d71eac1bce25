-- identity: accounts (global), their sessions, recovery codes and email
-- verifications (keyed by account), and the practice-scoped session
-- policies, invitations and API keys (keyed by practice_id first). Tokens,
-- codes and secrets are stored as SHA-256 hashes; passwords as argon2id.

CREATE TABLE accounts (
	id                uuid PRIMARY KEY,
	kind              text NOT NULL CHECK (kind IN ('staff', 'patient')),
	practice_id       uuid NOT NULL REFERENCES practices (id),
	email             text,
	phone             text,
	password_hash     text NOT NULL,
	email_verified_at timestamptz,
	failed_logins     integer NOT NULL,
	lockouts          integer NOT NULL,
	locked_until      timestamptz,
	totp_secret       text NOT NULL,
	totp_enabled      boolean NOT NULL,
	totp_last_step    bigint NOT NULL,
	created_at        timestamptz NOT NULL,
	updated_at        timestamptz NOT NULL,
	CONSTRAINT accounts_contact CHECK (email IS NOT NULL OR phone IS NOT NULL)
);
CREATE UNIQUE INDEX accounts_email ON accounts (email);
CREATE UNIQUE INDEX accounts_phone ON accounts (phone);
CREATE INDEX accounts_practice ON accounts (practice_id, id);

CREATE TABLE sessions (
	account_id           uuid NOT NULL REFERENCES accounts (id),
	id                   uuid NOT NULL,
	token_hash           bytea NOT NULL,
	kind                 text NOT NULL,
	practice_id          uuid NOT NULL,
	device               text NOT NULL,
	ip                   text NOT NULL,
	user_agent           text NOT NULL,
	needs_mfa_enrollment boolean NOT NULL,
	created_at           timestamptz NOT NULL,
	last_used_at         timestamptz NOT NULL,
	idle_timeout_us      bigint NOT NULL,
	idle_expires_at      timestamptz NOT NULL,
	expires_at           timestamptz NOT NULL,
	revoked_at           timestamptz,
	PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX sessions_token ON sessions (token_hash);
CREATE INDEX sessions_live ON sessions (account_id, last_used_at, id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE recovery_codes (
	account_id uuid NOT NULL REFERENCES accounts (id),
	code_hash  bytea NOT NULL,
	created_at timestamptz NOT NULL,
	used_at    timestamptz,
	PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE email_verifications (
	token_hash bytea PRIMARY KEY,
	account_id uuid NOT NULL REFERENCES accounts (id),
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	used_at    timestamptz
);
CREATE INDEX email_verifications_account ON email_verifications (account_id);

CREATE TABLE session_policies (
	practice_id         uuid PRIMARY KEY REFERENCES practices (id),
	staff_idle_us       bigint NOT NULL,
	staff_absolute_us   bigint NOT NULL,
	staff_devices       integer NOT NULL,
	staff_on_limit      text NOT NULL,
	patient_idle_us     bigint NOT NULL,
	patient_absolute_us bigint NOT NULL,
	patient_devices     integer NOT NULL,
	patient_on_limit    text NOT NULL,
	require_staff_mfa   boolean NOT NULL,
	updated_at          timestamptz NOT NULL
);

CREATE TABLE invitations (
	practice_id uuid NOT NULL REFERENCES practices (id),
	id          uuid NOT NULL,
	email       text NOT NULL,
	role        text NOT NULL,
	invited_by  uuid NOT NULL,
	token_hash  bytea NOT NULL,
	created_at  timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL,
	accepted_at timestamptz,
	account_id  uuid,
	PRIMARY KEY (practice_id, id)
);
CREATE UNIQUE INDEX invitations_token ON invitations (token_hash);
CREATE INDEX invitations_email ON invitations (practice_id, email);

CREATE TABLE api_keys (
	practice_id uuid NOT NULL REFERENCES practices (id),
	id          uuid NOT NULL,
	name        text NOT NULL,
	permissions jsonb NOT NULL,
	secret_hash bytea NOT NULL,
	created_by  uuid NOT NULL,
	created_at  timestamptz NOT NULL,
	revoked_at  timestamptz,
	PRIMARY KEY (practice_id, id)
);
-- Keys are presented without their practice, so they are found by ID alone.
CREATE UNIQUE INDEX api_keys_id ON api_keys (id);
CREATE INDEX api_keys_created ON api_keys (practice_id, created_at, id);
