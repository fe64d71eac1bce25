-- Patients' names, birth date, phone and email are sealed (package keys):
-- one AEAD ciphertext per row in sealed, bound to the practice, the table,
-- the column and the row, with the ID of the key that sealed it in
-- sealed_key (for re-encryption after a rotation). Lookups go through blind
-- indexes: keyed PRF tokens of the normalised phone, email, family name with
-- birth date, and 2-byte tokens of the first 2 and 3 letters of each name
-- (their false positives are filtered after opening). The clear columns stay
-- for rows written before this migration (sealed IS NULL) until the
-- re-encryption job seals them; new rows leave them empty.
ALTER TABLE patients ADD COLUMN sealed bytea;
ALTER TABLE patients ADD COLUMN sealed_key BIGINT NOT NULL DEFAULT 0;
ALTER TABLE patients ADD COLUMN phone_index bytea;
ALTER TABLE patients ADD COLUMN email_index bytea;
ALTER TABLE patients ADD COLUMN family_birth_index bytea;
ALTER TABLE patients ADD COLUMN given_prefix2 bytea;
ALTER TABLE patients ADD COLUMN given_prefix3 bytea;
ALTER TABLE patients ADD COLUMN family_prefix2 bytea;
ALTER TABLE patients ADD COLUMN family_prefix3 bytea;
DROP INDEX patients_name;
DROP INDEX patients_family_key;
DROP INDEX patients_given_key;
DROP INDEX patients_phone;
DROP INDEX patients_email;
CREATE INDEX patients_phone_index ON patients (practice_id, phone_index);
CREATE INDEX patients_email_index ON patients (practice_id, email_index);
CREATE INDEX patients_family_birth_index ON patients (practice_id, family_birth_index);
CREATE INDEX patients_given_prefix2 ON patients (practice_id, given_prefix2);
CREATE INDEX patients_given_prefix3 ON patients (practice_id, given_prefix3);
CREATE INDEX patients_family_prefix2 ON patients (practice_id, family_prefix2);
CREATE INDEX patients_family_prefix3 ON patients (practice_id, family_prefix3);
CREATE INDEX patients_sealed_key ON patients (practice_id, sealed_key);
