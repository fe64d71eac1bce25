-- Down drops the stream keysets: files encrypted with them can no longer be read.
DELETE FROM keysets WHERE purpose = 'stream';
CREATE TABLE keysets_new (
	practice_id TEXT NOT NULL,
	purpose     TEXT NOT NULL CHECK (purpose IN ('seal', 'index', 'shredded')),
	master_id   TEXT NOT NULL,
	keyset      BLOB NOT NULL,
	version     INTEGER NOT NULL CHECK (version > 0),
	PRIMARY KEY (practice_id, purpose)
) STRICT;
INSERT INTO keysets_new SELECT practice_id, purpose, master_id, keyset, version FROM keysets;
DROP TABLE keysets;
ALTER TABLE keysets_new RENAME TO keysets;
