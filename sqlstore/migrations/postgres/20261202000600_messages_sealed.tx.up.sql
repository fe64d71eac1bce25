-- A message's recipient address (a patient's phone or email), subject, text
-- and HTML name the patient and the visit, so they are sealed (package
-- keys): one AEAD ciphertext per row in sealed, bound to the practice, the
-- table, the column and the row, with the ID of the key that sealed it in
-- sealed_key (for re-encryption after a rotation). No query filters or
-- searches on them, so they need no blind index. The clear columns stay
-- for rows written before this migration (sealed IS NULL) until the
-- re-encryption job seals them; new rows leave them empty.
--
-- The errors of sends and of delivery reports (last_error) may quote the
-- recipient (a provider refusing an invalid number, a bounce naming the
-- address): they are sealed apart, in last_error_sealed, since they are
-- written after the message by statements that do not hold its content.
-- The reasons the engine writes itself when it drops a message or cannot
-- open one name no one and stay in last_error. An error is sealed after
-- its message, with the primary key of then, never with an older key than
-- sealed_key names: re-encryption that finds a row by sealed_key reseals
-- both.
ALTER TABLE notify_messages ADD COLUMN sealed bytea;
ALTER TABLE notify_messages ADD COLUMN sealed_key BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notify_messages ADD COLUMN last_error_sealed bytea;
CREATE INDEX notify_messages_sealed_key ON notify_messages (practice_id, sealed_key);
