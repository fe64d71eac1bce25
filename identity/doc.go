// Package identity keeps who may sign in to carebook and how: accounts of
// staff and patients, their passwords (argon2id), second factors (TOTP and
// one-time recovery codes), sessions with idle and absolute expiry and a limit
// on devices, staff invitations, patients' self-registration with email
// verification, and API keys for integrators.
//
// Secrets never rest in the clear: session tokens, invitation and
// verification tokens, recovery codes and API key secrets are stored as
// SHA-256 hashes (they are long random strings, so a fast hash is enough),
// passwords as argon2id hashes. Plaintext tokens are returned once, to the
// caller that creates them, and never again. TOTP secrets, which must be
// read back, are sealed by Config.Keys (package keys: tink's AES256-GCM,
// in the operator's scope keys.Platform, bound to the account).
//
// Service holds the rules and works through a Store, which a storage adapter
// implements (sqlstore does, for PostgreSQL and SQLite); identitytest checks
// that an implementation keeps the Store contract. All time comes from an
// injected clock.Clock and all IDs from a clock.IDSource, so tests control
// both. Every Store and the Service are safe for concurrent use.
//
// Authorization (who may invite, who may create API keys) is not decided
// here: that is package rbac's job, and callers check it before calling.
package identity
