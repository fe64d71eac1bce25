-- SQLite twin of the PostgreSQL migration: the rate limiter's TAT per key
-- (package ratelimit), in nanoseconds since the Unix epoch.
CREATE TABLE rate_limits (
	key     TEXT PRIMARY KEY,
	tat     INTEGER NOT NULL,
	allowed INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
