-- The rate limiter's state (package ratelimit): the theoretical arrival
-- time (TAT) of each key, in nanoseconds since the Unix epoch, and whether
-- its last event was allowed (what the upsert returns). Keys are built by
-- the callers ("api:practice:<id>", "signin:ip:<addr>"), so the table is
-- the platform's, not a practice's, and holds no patient data.
--
-- UNLOGGED: no WAL for a row updated on every request; after a crash the
-- table is emptied, which forgets the counts (every bucket full again),
-- and it is not replicated to standbys. No index but the key's, and a
-- fillfactor below 100, so that updates stay HOT; the sweep (DELETE of
-- the TATs past) scans the table.
CREATE UNLOGGED TABLE rate_limits (
	key     text PRIMARY KEY,
	tat     bigint NOT NULL,
	allowed boolean NOT NULL
) WITH (fillfactor = 70);
