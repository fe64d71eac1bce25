-- Down drops the sealed columns: messages written since the up migration
-- lose their recipient, subject, text and HTML, and their providers' errors
-- (they were only sealed).
DROP INDEX notify_messages_sealed_key;
ALTER TABLE notify_messages DROP COLUMN last_error_sealed;
ALTER TABLE notify_messages DROP COLUMN sealed_key;
ALTER TABLE notify_messages DROP COLUMN sealed;
