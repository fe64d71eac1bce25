-- The practices' keysets (package keys), SQLite twin of the PostgreSQL
-- schema.
CREATE TABLE keysets (
	practice_id TEXT NOT NULL,
	purpose     TEXT NOT NULL CHECK (purpose IN ('seal', 'index', 'shredded')),
	master_id   TEXT NOT NULL,
	keyset      BLOB NOT NULL,
	version     INTEGER NOT NULL CHECK (version > 0),
	PRIMARY KEY (practice_id, purpose)
) STRICT;
