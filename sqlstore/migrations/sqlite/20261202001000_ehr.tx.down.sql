DROP TABLE IF EXISTS ehr_entries;
DROP TABLE IF EXISTS ehr_versions;
