-- The practices' keysets (package keys): tink keysets wrapped by the master
-- key, one per practice and purpose, with a version for optimistic
-- concurrency on rotation. A shredded practice keeps one 'shredded' row, with
-- no keyset, so that its keys are never made again. No foreign key to
-- practices: the mark must outlive a deleted practice.
CREATE TABLE keysets (
	practice_id UUID NOT NULL,
	purpose     TEXT NOT NULL CHECK (purpose IN ('seal', 'index', 'shredded')),
	master_id   TEXT NOT NULL,
	keyset      BYTEA NOT NULL,
	version     BIGINT NOT NULL CHECK (version > 0),
	PRIMARY KEY (practice_id, purpose)
);
