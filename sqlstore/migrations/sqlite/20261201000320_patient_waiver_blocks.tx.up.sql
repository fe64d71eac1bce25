-- PostgreSQL adds carebook_patient_free here; on SQLite the write
-- transaction's own check (sqlstore checkOverlap) keeps the same rule.
SELECT 1;
