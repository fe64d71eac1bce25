-- SQLite twin of the PostgreSQL migration: practices' identity checks and
-- the operator's sign-up invitations.
CREATE TABLE practice_verifications (
	practice_id   TEXT PRIMARY KEY REFERENCES practices (id),
	npi           TEXT NOT NULL CHECK (length(npi) = 10 AND npi NOT GLOB '*[^0-9]*'),
	registry_name TEXT NOT NULL,
	verified_at   TEXT NOT NULL,
	verified_by   TEXT NOT NULL
) STRICT;

CREATE TABLE signup_codes (
	code_hash     BLOB PRIMARY KEY,
	note          TEXT NOT NULL,
	created_at    TEXT NOT NULL,
	used_at       TEXT,
	used_practice TEXT
) STRICT;
