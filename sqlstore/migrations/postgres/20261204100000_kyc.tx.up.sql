-- A practice's identity check (package kyc): its organisation NPI (an
-- NPI-2, active in the NPPES registry when checked), the registry's name
-- of it, when and by whom. One row per verified practice; a practice
-- without one cannot take online payments.
CREATE TABLE practice_verifications (
	practice_id   uuid PRIMARY KEY REFERENCES practices (id),
	npi           text NOT NULL CHECK (npi ~ '^[0-9]{10}$'),
	registry_name text NOT NULL,
	verified_at   timestamptz NOT NULL,
	verified_by   text NOT NULL
);

-- The operator's invitations to sign a clinic up, when sign-up is by
-- invitation (carebook.WithSignUp): the SHA-256 of each code, used once.
-- The platform's, not a practice's: used_practice is the practice the
-- sign-up made.
CREATE TABLE signup_codes (
	code_hash     bytea PRIMARY KEY,
	note          text NOT NULL,
	created_at    timestamptz NOT NULL,
	used_at       timestamptz,
	used_practice uuid
);
