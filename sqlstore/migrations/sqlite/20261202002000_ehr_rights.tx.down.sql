DROP TABLE IF EXISTS ehr_disclosures;
DROP TABLE IF EXISTS ehr_record_requests;
DROP TABLE IF EXISTS ehr_amendment_entries;
DROP TABLE IF EXISTS ehr_amendments;
