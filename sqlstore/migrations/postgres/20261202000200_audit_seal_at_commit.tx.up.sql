-- An activity-log entry appended inside a transaction is sealed onto its
-- practice's chain when that transaction commits, by the database, so that
-- the practice's head row is locked only from then until the commit ends,
-- with no round trip to the application under the lock. The entry waits in
-- audit_pending, which a deferred constraint trigger empties at commit: it
-- locks the head (FOR UPDATE), links the entry (audit.Entry.Seal's rules,
-- with carebook_audit_hash for Hash), inserts it into audit_entries, moves
-- the head and deletes the pending row. audit_pending is empty outside the
-- transactions that write it. A rolled-back transaction leaves no entry.

CREATE TABLE audit_pending (
	practice_id   uuid NOT NULL REFERENCES practices (id),
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
	PRIMARY KEY (practice_id, id)
);

-- carebook_audit_field is one field of an entry's canonical encoding: its
-- length in bytes as a big-endian uint32, then its UTF-8 bytes.
CREATE FUNCTION carebook_audit_field(s text) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT int4send(octet_length(convert_to(s, 'UTF8'))) || convert_to(s, 'UTF8')
$$;

-- carebook_audit_hash is audit.Entry.ComputeHash, HashVersion 1: the hex
-- SHA-256 of the version as a big-endian uint32 and then every field but
-- Hash, in the order of the struct. UUIDs in canonical text (an absent
-- patient is empty), seq in decimal, at in RFC 3339 UTC with six fractional
-- digits.
CREATE FUNCTION carebook_audit_hash(id uuid, practice_id uuid, seq bigint, at timestamptz, actor text, role text,
	action text, resource_type text, resource_id text, patient_id uuid, outcome text, ip text, user_agent text,
	request_id text, prev_hash text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT encode(sha256(int4send(1)
	|| carebook_audit_field(id::text)
	|| carebook_audit_field(practice_id::text)
	|| carebook_audit_field(seq::text)
	|| carebook_audit_field(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
	|| carebook_audit_field(actor)
	|| carebook_audit_field(role)
	|| carebook_audit_field(action)
	|| carebook_audit_field(resource_type)
	|| carebook_audit_field(resource_id)
	|| carebook_audit_field(COALESCE(patient_id::text, ''))
	|| carebook_audit_field(outcome)
	|| carebook_audit_field(ip)
	|| carebook_audit_field(user_agent)
	|| carebook_audit_field(request_id)
	|| carebook_audit_field(prev_hash)), 'hex')
$$;

CREATE FUNCTION audit_pending_seal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	head audit_heads%ROWTYPE;
	next_seq bigint;
	next_at timestamptz;
	next_hash text;
BEGIN
	SELECT * INTO head FROM audit_heads WHERE practice_id = NEW.practice_id FOR UPDATE;
	IF NOT FOUND THEN
		INSERT INTO audit_heads (practice_id, seq, hash, at)
		VALUES (NEW.practice_id, 0, repeat('00', 32), '0001-01-01T00:00:00Z')
		ON CONFLICT (practice_id) DO NOTHING;
		SELECT * INTO STRICT head FROM audit_heads WHERE practice_id = NEW.practice_id FOR UPDATE;
	END IF;
	next_seq := head.seq + 1;
	next_at := GREATEST(NEW.at, head.at);
	next_hash := carebook_audit_hash(NEW.id, NEW.practice_id, next_seq, next_at, NEW.actor, NEW.role, NEW.action,
		NEW.resource_type, NEW.resource_id, NEW.patient_id, NEW.outcome, NEW.ip, NEW.user_agent, NEW.request_id, head.hash);
	INSERT INTO audit_entries (practice_id, seq, id, at, actor, role, action, resource_type, resource_id, patient_id,
		outcome, ip, user_agent, request_id, prev_hash, hash)
	VALUES (NEW.practice_id, next_seq, NEW.id, next_at, NEW.actor, NEW.role, NEW.action, NEW.resource_type,
		NEW.resource_id, NEW.patient_id, NEW.outcome, NEW.ip, NEW.user_agent, NEW.request_id, head.hash, next_hash);
	UPDATE audit_heads SET seq = next_seq, hash = next_hash, at = next_at WHERE practice_id = NEW.practice_id;
	DELETE FROM audit_pending WHERE practice_id = NEW.practice_id AND id = NEW.id;
	RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER audit_pending_seal AFTER INSERT ON audit_pending
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_pending_seal();
