-- SQLite twin of the PostgreSQL migration: the patient chart. ehr_versions
-- is append-only (a version's body sealed in sealed, bound to its
-- entry_id/version); ehr_entries points at each entry's current version.
CREATE TABLE ehr_versions (
	practice_id  TEXT NOT NULL,
	patient_id   TEXT NOT NULL,
	seq          INTEGER NOT NULL CHECK (seq > 0),
	entry_id     TEXT NOT NULL,
	version      INTEGER NOT NULL CHECK (version > 0),
	kind         TEXT NOT NULL,
	status       TEXT NOT NULL,
	restricted   INTEGER NOT NULL,
	encounter_id TEXT,
	author_id    TEXT NOT NULL,
	signed_by    TEXT NOT NULL,
	signed_at    TEXT,
	recorded_at  TEXT NOT NULL,
	sealed       BLOB NOT NULL,
	sealed_key   INTEGER NOT NULL,
	prev_hash    TEXT NOT NULL,
	hash         TEXT NOT NULL,
	PRIMARY KEY (practice_id, patient_id, seq),
	CONSTRAINT ehr_versions_entry UNIQUE (practice_id, entry_id, version),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
) STRICT;
CREATE INDEX ehr_versions_sealed_key ON ehr_versions (practice_id, sealed_key);

-- Append-only, but for re-encryption, which rewrites sealed and sealed_key
-- alone (see the PostgreSQL migration). A column added to the table must
-- be added to this list.
CREATE TRIGGER ehr_versions_no_update BEFORE UPDATE ON ehr_versions
WHEN OLD.practice_id IS NOT NEW.practice_id OR OLD.patient_id IS NOT NEW.patient_id OR OLD.seq IS NOT NEW.seq
	OR OLD.entry_id IS NOT NEW.entry_id OR OLD.version IS NOT NEW.version OR OLD.kind IS NOT NEW.kind
	OR OLD.status IS NOT NEW.status OR OLD.restricted IS NOT NEW.restricted OR OLD.encounter_id IS NOT NEW.encounter_id
	OR OLD.author_id IS NOT NEW.author_id OR OLD.signed_by IS NOT NEW.signed_by OR OLD.signed_at IS NOT NEW.signed_at
	OR OLD.recorded_at IS NOT NEW.recorded_at OR OLD.prev_hash IS NOT NEW.prev_hash OR OLD.hash IS NOT NEW.hash
BEGIN
	SELECT RAISE(ABORT, 'ehr_versions is append-only (only sealed and sealed_key may be rewritten)');
END;
CREATE TRIGGER ehr_versions_no_delete BEFORE DELETE ON ehr_versions
BEGIN
	SELECT RAISE(ABORT, 'ehr_versions is append-only');
END;

CREATE TABLE ehr_entries (
	practice_id       TEXT NOT NULL,
	id                TEXT NOT NULL,
	patient_id        TEXT NOT NULL,
	kind              TEXT NOT NULL,
	encounter_id      TEXT,
	version           INTEGER NOT NULL,
	status            TEXT NOT NULL,
	restricted        INTEGER NOT NULL,
	first_recorded_at TEXT NOT NULL,
	recorded_at       TEXT NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id),
	FOREIGN KEY (practice_id, id, version) REFERENCES ehr_versions (practice_id, entry_id, version)
) STRICT;
CREATE INDEX ehr_entries_chart ON ehr_entries (practice_id, patient_id, first_recorded_at DESC, id DESC);
CREATE INDEX ehr_entries_encounter ON ehr_entries (practice_id, encounter_id) WHERE encounter_id IS NOT NULL;
