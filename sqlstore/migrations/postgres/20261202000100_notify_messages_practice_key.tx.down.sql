CREATE INDEX notify_messages_practice ON notify_messages (practice_id, id);
ALTER TABLE notify_messages DROP CONSTRAINT notify_messages_pkey;
ALTER TABLE notify_messages ADD CONSTRAINT notify_messages_pkey PRIMARY KEY (id);
DROP INDEX notify_messages_id;
