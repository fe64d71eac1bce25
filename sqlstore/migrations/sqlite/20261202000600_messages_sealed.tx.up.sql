-- A message's recipient address (a patient's phone or email), subject, text
-- and HTML name the patient and the visit, so they are sealed (package
-- keys): one AEAD ciphertext per row in sealed, bound to the practice, the
-- table, the column and the row, with the ID of the key that sealed it in
-- sealed_key (for re-encryption after a rotation). No query filters or
-- searches on them, so they need no blind index. The clear columns stay
-- for rows written before this migration (sealed IS NULL) until the
-- re-encryption job seals them; new rows leave them empty.
ALTER TABLE notify_messages ADD COLUMN sealed BLOB;
ALTER TABLE notify_messages ADD COLUMN sealed_key INTEGER NOT NULL DEFAULT 0;
CREATE INDEX notify_messages_sealed_key ON notify_messages (practice_id, sealed_key);
