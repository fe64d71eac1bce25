-- Notifications (package notify), SQLite twin of the PostgreSQL schema: the
-- outbox of messages and what they are made from. Claim runs in an IMMEDIATE
-- transaction, which serializes dispatchers.

CREATE TABLE notify_messages (
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
CREATE INDEX notify_messages_practice ON notify_messages (practice_id, id);
CREATE INDEX notify_messages_status ON notify_messages (practice_id, status, id);
CREATE INDEX notify_messages_appointment ON notify_messages (practice_id, appointment_id) WHERE appointment_id IS NOT NULL;
CREATE INDEX notify_messages_patient ON notify_messages (practice_id, patient_id) WHERE patient_id IS NOT NULL;
CREATE INDEX notify_messages_sent ON notify_messages (practice_id, sent_at) WHERE sent_at IS NOT NULL;
-- The dispatcher's: waiting messages of every practice by due time.
CREATE INDEX notify_messages_due ON notify_messages (due_at) WHERE status IN ('pending', 'claimed');
-- ExpireSending's: sends in progress by lease.
CREATE INDEX notify_messages_sending ON notify_messages (lease_until) WHERE status = 'sending';
-- Status callbacks name the provider's message ID.
CREATE INDEX notify_messages_provider ON notify_messages (channel, provider_id) WHERE provider_id <> '';

CREATE TABLE notify_settings (
	practice_id         TEXT PRIMARY KEY REFERENCES practices (id),
	reminder_offsets_us TEXT NOT NULL,
	quiet_start         INTEGER NOT NULL,
	quiet_end           INTEGER NOT NULL,
	sms_from            TEXT NOT NULL,
	email_from          TEXT NOT NULL,
	email_from_name     TEXT NOT NULL,
	updated_at          TEXT NOT NULL
) STRICT;

CREATE TABLE notify_templates (
	practice_id TEXT NOT NULL REFERENCES practices (id),
	kind        TEXT NOT NULL,
	channel     TEXT NOT NULL,
	language    TEXT NOT NULL,
	subject     TEXT NOT NULL,
	text        TEXT NOT NULL,
	html        TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	updated_by  TEXT NOT NULL,
	PRIMARY KEY (practice_id, kind, channel, language)
) STRICT;

CREATE TABLE notify_preferences (
	practice_id TEXT NOT NULL,
	patient_id  TEXT NOT NULL,
	sms         INTEGER NOT NULL,
	email       INTEGER NOT NULL,
	sms_opt_out INTEGER NOT NULL,
	language    TEXT NOT NULL,
	marketing   INTEGER NOT NULL,
	updated_at  TEXT NOT NULL,
	PRIMARY KEY (practice_id, patient_id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
) STRICT;
CREATE INDEX notify_preferences_marketing ON notify_preferences (practice_id, patient_id) WHERE marketing;

CREATE TABLE notify_consent_changes (
	practice_id TEXT NOT NULL,
	id          TEXT NOT NULL,
	patient_id  TEXT NOT NULL,
	field       TEXT NOT NULL,
	value       TEXT NOT NULL,
	source      TEXT NOT NULL,
	at          TEXT NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
) STRICT;
CREATE INDEX notify_consent_changes_patient ON notify_consent_changes (practice_id, patient_id, at, id);

-- Processed provider webhooks, for replay detection; not tenant-owned.
CREATE TABLE notify_webhooks (
	source TEXT NOT NULL,
	key    TEXT NOT NULL,
	at     TEXT NOT NULL,
	PRIMARY KEY (source, key)
) STRICT;
CREATE INDEX notify_webhooks_at ON notify_webhooks (at);

-- Nonces of signed links (reschedule or cancel from a message) used once.
CREATE TABLE notify_link_uses (
	practice_id TEXT NOT NULL REFERENCES practices (id),
	nonce       TEXT NOT NULL,
	at          TEXT NOT NULL,
	PRIMARY KEY (practice_id, nonce)
) STRICT;
