-- A third keyset per practice: streaming AEAD for its files. SQLite cannot
-- change a CHECK in place: the table is made again.

CREATE TABLE keysets_new (
	practice_id TEXT NOT NULL,
	purpose     TEXT NOT NULL CHECK (purpose IN ('seal', 'index', 'stream', 'shredded')),
	master_id   TEXT NOT NULL,
	keyset      BLOB NOT NULL,
	version     INTEGER NOT NULL CHECK (version > 0),
	PRIMARY KEY (practice_id, purpose)
) STRICT;
INSERT INTO keysets_new SELECT practice_id, purpose, master_id, keyset, version FROM keysets;
DROP TABLE keysets;
ALTER TABLE keysets_new RENAME TO keysets;
