-- The activity log (package audit). Each practice has one hash chain of
-- entries numbered 1, 2, 3…; audit_heads holds each chain's end, and its row
-- is what appends of one practice lock (FOR UPDATE) to run one at a time.
-- Entries are append-only: a trigger refuses UPDATE, DELETE and TRUNCATE.

CREATE TABLE audit_heads (
	practice_id uuid PRIMARY KEY REFERENCES practices (id),
	seq         bigint NOT NULL,
	hash        text NOT NULL,
	at          timestamptz NOT NULL
);

CREATE TABLE audit_entries (
	practice_id   uuid NOT NULL REFERENCES practices (id),
	seq           bigint NOT NULL CHECK (seq > 0),
	id            uuid NOT NULL,
	at            timestamptz NOT NULL,
	actor         text COLLATE "C" NOT NULL,
	role          text NOT NULL,
	action        text COLLATE "C" NOT NULL,
	resource_type text NOT NULL,
	resource_id   text NOT NULL,
	patient_id    uuid,
	outcome       text NOT NULL CHECK (outcome IN ('allowed', 'denied', 'failed')),
	ip            text NOT NULL,
	user_agent    text NOT NULL,
	request_id    text NOT NULL,
	prev_hash     text NOT NULL,
	hash          text NOT NULL,
	PRIMARY KEY (practice_id, seq),
	CONSTRAINT audit_entries_id UNIQUE (practice_id, id)
);
CREATE INDEX audit_entries_actor ON audit_entries (practice_id, actor, seq);
CREATE INDEX audit_entries_action ON audit_entries (practice_id, action, seq);
CREATE INDEX audit_entries_patient ON audit_entries (practice_id, patient_id, seq) WHERE patient_id IS NOT NULL;
CREATE INDEX audit_entries_at ON audit_entries (practice_id, at);

CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_entries is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
	FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
	FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only();

-- One row per practice and exported UTC day: claimed first (done_at null),
-- then completed with what was written to the archive.
CREATE TABLE audit_exports (
	practice_id      uuid NOT NULL REFERENCES practices (id),
	period           timestamptz NOT NULL,
	claimed_at       timestamptz NOT NULL,
	done_at          timestamptz,
	file             text NOT NULL DEFAULT '',
	manifest_file    text NOT NULL DEFAULT '',
	first_seq        bigint NOT NULL DEFAULT 0,
	last_seq         bigint NOT NULL DEFAULT 0,
	count            bigint NOT NULL DEFAULT 0,
	file_sha256      text NOT NULL DEFAULT '',
	lines_sha256     text NOT NULL DEFAULT '',
	exporter_version text NOT NULL DEFAULT '',
	PRIMARY KEY (practice_id, period)
);
