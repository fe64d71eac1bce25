DROP TABLE IF EXISTS api_keys;
DROP TABLE IF EXISTS invitations;
DROP TABLE IF EXISTS session_policies;
DROP TABLE IF EXISTS email_verifications;
DROP TABLE IF EXISTS recovery_codes;
DROP TABLE IF EXISTS sessions;
DROP TABLE IF EXISTS accounts;
