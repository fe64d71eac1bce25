DROP TABLE IF EXISTS audit_exports;
DROP TABLE IF EXISTS audit_entries;
DROP FUNCTION IF EXISTS audit_entries_append_only();
DROP TABLE IF EXISTS audit_heads;
