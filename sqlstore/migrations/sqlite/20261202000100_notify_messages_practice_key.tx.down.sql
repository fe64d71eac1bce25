CREATE TABLE notify_messages_rekeyed (
	id             TEXT PRIMARY KEY,
	practice_id    TEXT NOT NULL REFERENCES practices (id),
	key            TEXT NOT NULL,
	kind           TEXT NOT NULL,
	channel        TEXT NOT NULL CHECK (channel IN ('sms', 'email', 'inapp')),
	patient_id     TEXT,
	appointment_id TEXT,
	to_addr        TEXT NOT NULL,
	subject        TEXT NOT NULL,
	text           TEXT NOT NULL,
	html           TEXT NOT NULL,
	language       TEXT NOT NULL,
	status         TEXT NOT NULL CHECK (status IN ('pending', 'claimed', 'sending', 'sent', 'delivered',
		'undelivered', 'dead', 'dropped', 'unread', 'read')),
	due_at         TEXT NOT NULL,
	attempts       INTEGER NOT NULL,
	lease_until    TEXT,
	claim_token    TEXT,
	provider_id    TEXT NOT NULL,
	last_error     TEXT NOT NULL,
	sent_at        TEXT,
	created_at     TEXT NOT NULL,
	updated_at     TEXT NOT NULL,
	CONSTRAINT notify_messages_key UNIQUE (practice_id, key)
) STRICT;
INSERT INTO notify_messages_rekeyed (id, practice_id, key, kind, channel, patient_id, appointment_id, to_addr, subject, text, html, language,
	status, due_at, attempts, lease_until, claim_token, provider_id, last_error, sent_at, created_at, updated_at)
SELECT id, practice_id, key, kind, channel, patient_id, appointment_id, to_addr, subject, text, html, language,
	status, due_at, attempts, lease_until, claim_token, provider_id, last_error, sent_at, created_at, updated_at
FROM notify_messages;
DROP TABLE notify_messages;
ALTER TABLE notify_messages_rekeyed RENAME TO notify_messages;
CREATE INDEX notify_messages_practice ON notify_messages (practice_id, id);
CREATE INDEX notify_messages_status ON notify_messages (practice_id, status, id);
CREATE INDEX notify_messages_appointment ON notify_messages (practice_id, appointment_id) WHERE appointment_id IS NOT NULL;
CREATE INDEX notify_messages_patient ON notify_messages (practice_id, patient_id) WHERE patient_id IS NOT NULL;
CREATE INDEX notify_messages_sent ON notify_messages (practice_id, sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX notify_messages_due ON notify_messages (due_at) WHERE status IN ('pending', 'claimed');
CREATE INDEX notify_messages_sending ON notify_messages (lease_until) WHERE status = 'sending';
CREATE INDEX notify_messages_provider ON notify_messages (channel, provider_id) WHERE provider_id <> '';
