-- A message's primary key leads with practice_id, as every tenant table's
-- does, so that notify_messages can be distributed on practice_id (a Citus
-- primary key must include the distribution column). The index on id alone
-- stays, not unique, for the dispatcher's and the status callbacks' lookups
-- by message ID across practices; the old (practice_id, id) index is now the
-- primary key.
CREATE INDEX notify_messages_id ON notify_messages (id);
ALTER TABLE notify_messages DROP CONSTRAINT notify_messages_pkey;
ALTER TABLE notify_messages ADD CONSTRAINT notify_messages_pkey PRIMARY KEY (practice_id, id);
DROP INDEX notify_messages_practice;
