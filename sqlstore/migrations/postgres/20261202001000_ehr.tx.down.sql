DROP TABLE IF EXISTS ehr_entries;
DROP TABLE IF EXISTS ehr_versions;
DROP FUNCTION IF EXISTS ehr_versions_append_only();
