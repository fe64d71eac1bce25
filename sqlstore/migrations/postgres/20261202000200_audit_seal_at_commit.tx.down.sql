DROP TABLE IF EXISTS audit_pending;
DROP FUNCTION IF EXISTS audit_pending_seal();
DROP FUNCTION IF EXISTS carebook_audit_hash(uuid, uuid, bigint, timestamptz, text, text, text, text, text, uuid, text, text, text, text, text);
DROP FUNCTION IF EXISTS carebook_audit_field(text);
