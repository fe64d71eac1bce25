-- The patient chart (package ehr). Every write of an entry is a new row of
-- ehr_versions, which is append-only; ehr_entries points at each entry's
-- current version, for the chart's lists.
--
-- A version's body (the note's text, the problem's coding…) is its JSON,
-- sealed (package keys) in sealed, bound to the practice, the table, the
-- column and the row (entry_id/version); sealed_key is the ID of the key
-- that sealed it. What stays in clear is what the chart filters on: kind,
-- status, restricted, the encounter, who wrote and signed it, and when.
-- prev_hash and hash chain a patient's versions in seq order (ehr.Link).
CREATE TABLE ehr_versions (
	practice_id  uuid NOT NULL,
	patient_id   uuid NOT NULL,
	seq          bigint NOT NULL CHECK (seq > 0),
	entry_id     uuid NOT NULL,
	version      integer NOT NULL CHECK (version > 0),
	kind         text NOT NULL,
	status       text NOT NULL,
	restricted   boolean NOT NULL,
	encounter_id uuid,
	author_id    text NOT NULL,
	signed_by    text NOT NULL,
	signed_at    timestamptz,
	recorded_at  timestamptz NOT NULL,
	sealed       bytea NOT NULL,
	sealed_key   bigint NOT NULL,
	prev_hash    text COLLATE "C" NOT NULL,
	hash         text COLLATE "C" NOT NULL,
	PRIMARY KEY (practice_id, patient_id, seq),
	CONSTRAINT ehr_versions_entry UNIQUE (practice_id, entry_id, version),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
);
-- For re-encryption, which looks for the rows an older key sealed.
CREATE INDEX ehr_versions_sealed_key ON ehr_versions (practice_id, sealed_key);

-- Append-only: no version is updated or deleted, but for re-encryption
-- after a key rotation, which rewrites sealed and sealed_key alone (the
-- same body, sealed with the new key: the hash, over the body in clear,
-- still holds). Every other column is compared as a whole row, so that a
-- column added later is covered too.
CREATE FUNCTION ehr_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'sealed' - 'sealed_key') = (to_jsonb(OLD) - 'sealed' - 'sealed_key') THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'ehr_versions is append-only (only sealed and sealed_key may be rewritten)' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER ehr_versions_append_only BEFORE UPDATE OR DELETE ON ehr_versions
	FOR EACH ROW EXECUTE FUNCTION ehr_versions_append_only();
CREATE TRIGGER ehr_versions_no_truncate BEFORE TRUNCATE ON ehr_versions
	FOR EACH STATEMENT EXECUTE FUNCTION ehr_versions_append_only();

-- The current version of each entry, with the first version's recorded_at
-- by which the chart is ordered (newest first).
CREATE TABLE ehr_entries (
	practice_id       uuid NOT NULL,
	id                uuid NOT NULL,
	patient_id        uuid NOT NULL,
	kind              text NOT NULL,
	encounter_id      uuid,
	version           integer NOT NULL,
	status            text NOT NULL,
	restricted        boolean NOT NULL,
	first_recorded_at timestamptz NOT NULL,
	recorded_at       timestamptz NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id),
	FOREIGN KEY (practice_id, id, version) REFERENCES ehr_versions (practice_id, entry_id, version)
);
CREATE INDEX ehr_entries_chart ON ehr_entries (practice_id, patient_id, first_recorded_at DESC, id DESC);
CREATE INDEX ehr_entries_encounter ON ehr_entries (practice_id, encounter_id) WHERE encounter_id IS NOT NULL;
