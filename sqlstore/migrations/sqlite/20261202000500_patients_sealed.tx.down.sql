-- Down drops the sealed columns: rows written since the up migration lose
-- their names and contact details (they were only in sealed).
DROP INDEX patients_sealed_key;
DROP INDEX patients_family_prefix3;
DROP INDEX patients_family_prefix2;
DROP INDEX patients_given_prefix3;
DROP INDEX patients_given_prefix2;
DROP INDEX patients_family_birth_index;
DROP INDEX patients_email_index;
DROP INDEX patients_phone_index;
ALTER TABLE patients DROP COLUMN family_prefix3;
ALTER TABLE patients DROP COLUMN family_prefix2;
ALTER TABLE patients DROP COLUMN given_prefix3;
ALTER TABLE patients DROP COLUMN given_prefix2;
ALTER TABLE patients DROP COLUMN family_birth_index;
ALTER TABLE patients DROP COLUMN email_index;
ALTER TABLE patients DROP COLUMN phone_index;
ALTER TABLE patients DROP COLUMN sealed_key;
ALTER TABLE patients DROP COLUMN sealed;
CREATE INDEX patients_name ON patients (practice_id, family_name, given_name, id);
CREATE INDEX patients_family_key ON patients (practice_id, family_key);
CREATE INDEX patients_given_key ON patients (practice_id, given_key);
CREATE INDEX patients_phone ON patients (practice_id, phone);
CREATE INDEX patients_email ON patients (practice_id, email);
