DROP TABLE IF EXISTS audit_exports;
DROP TABLE IF EXISTS audit_entries;
DROP TABLE IF EXISTS audit_heads;
