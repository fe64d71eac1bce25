-- The activity log (package audit), SQLite twin of the PostgreSQL schema.
-- Appends serialize on the IMMEDIATE transaction. Triggers refuse UPDATE and
-- DELETE on audit_entries.

CREATE TABLE audit_heads (
	practice_id TEXT PRIMARY KEY REFERENCES practices (id),
	seq         INTEGER NOT NULL,
	hash        TEXT NOT NULL,
	at          TEXT NOT NULL
) STRICT;

CREATE TABLE audit_entries (
	practice_id   TEXT NOT NULL REFERENCES practices (id),
	seq           INTEGER NOT NULL CHECK (seq > 0),
	id            TEXT NOT NULL,
	at            TEXT NOT NULL,
	actor         TEXT NOT NULL,
	role          TEXT NOT NULL,
	action        TEXT NOT NULL,
	resource_type TEXT NOT NULL,
	resource_id   TEXT NOT NULL,
	patient_id    TEXT,
	outcome       TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied', 'failed')),
	ip            TEXT NOT NULL,
	user_agent    TEXT NOT NULL,
	request_id    TEXT NOT NULL,
	prev_hash     TEXT NOT NULL,
	hash          TEXT NOT NULL,
	PRIMARY KEY (practice_id, seq),
	CONSTRAINT audit_entries_id UNIQUE (practice_id, id)
) STRICT;
CREATE INDEX audit_entries_actor ON audit_entries (practice_id, actor, seq);
CREATE INDEX audit_entries_action ON audit_entries (practice_id, action, seq);
CREATE INDEX audit_entries_patient ON audit_entries (practice_id, patient_id, seq) WHERE patient_id IS NOT NULL;
CREATE INDEX audit_entries_at ON audit_entries (practice_id, at);

CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN
	SELECT RAISE(ABORT, 'audit_entries is append-only');
END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN
	SELECT RAISE(ABORT, 'audit_entries is append-only');
END;

CREATE TABLE audit_exports (
	practice_id      TEXT NOT NULL REFERENCES practices (id),
	period           TEXT NOT NULL,
	claimed_at       TEXT NOT NULL,
	done_at          TEXT,
	file             TEXT NOT NULL DEFAULT '',
	manifest_file    TEXT NOT NULL DEFAULT '',
	first_seq        INTEGER NOT NULL DEFAULT 0,
	last_seq         INTEGER NOT NULL DEFAULT 0,
	count            INTEGER NOT NULL DEFAULT 0,
	file_sha256      TEXT NOT NULL DEFAULT '',
	lines_sha256     TEXT NOT NULL DEFAULT '',
	exporter_version TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (practice_id, period)
) STRICT;
