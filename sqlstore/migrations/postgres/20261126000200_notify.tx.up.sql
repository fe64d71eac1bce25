-- Notifications (package notify): the outbox of messages and what they are
-- made from. Every tenant-owned table leads its keys and indexes with
-- practice_id. Two indexes serve every practice at once: the dispatcher's
-- (due messages, across practices) and the providers' status callbacks (by
-- the provider's message ID).

CREATE TABLE notify_messages (
	id             uuid PRIMARY KEY,
	practice_id    uuid NOT NULL REFERENCES practices (id),
	key            text NOT NULL,
	kind           text NOT NULL,
	channel        text NOT NULL CHECK (channel IN ('sms', 'email', 'inapp')),
	patient_id     uuid,
	appointment_id uuid,
	to_addr        text NOT NULL,
	subject        text NOT NULL,
	text           text NOT NULL,
	html           text NOT NULL,
	language       text NOT NULL,
	status         text NOT NULL CHECK (status IN ('pending', 'claimed', 'sending', 'sent', 'delivered',
		'undelivered', 'dead', 'dropped', 'unread', 'read')),
	due_at         timestamptz NOT NULL,
	attempts       integer NOT NULL,
	lease_until    timestamptz,
	claim_token    uuid,
	provider_id    text NOT NULL,
	last_error     text NOT NULL,
	sent_at        timestamptz,
	created_at     timestamptz NOT NULL,
	updated_at     timestamptz NOT NULL,
	CONSTRAINT notify_messages_key UNIQUE (practice_id, key)
);
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
	practice_id         uuid PRIMARY KEY REFERENCES practices (id),
	reminder_offsets_us jsonb NOT NULL,
	quiet_start         integer NOT NULL,
	quiet_end           integer NOT NULL,
	sms_from            text NOT NULL,
	email_from          text NOT NULL,
	email_from_name     text NOT NULL,
	updated_at          timestamptz NOT NULL
);

CREATE TABLE notify_templates (
	practice_id uuid NOT NULL REFERENCES practices (id),
	kind        text COLLATE "C" NOT NULL,
	channel     text COLLATE "C" NOT NULL,
	language    text COLLATE "C" NOT NULL,
	subject     text NOT NULL,
	text        text NOT NULL,
	html        text NOT NULL,
	updated_at  timestamptz NOT NULL,
	updated_by  text NOT NULL,
	PRIMARY KEY (practice_id, kind, channel, language)
);

CREATE TABLE notify_preferences (
	practice_id uuid NOT NULL,
	patient_id  uuid NOT NULL,
	sms         boolean NOT NULL,
	email       boolean NOT NULL,
	sms_opt_out boolean NOT NULL,
	language    text NOT NULL,
	marketing   boolean NOT NULL,
	updated_at  timestamptz NOT NULL,
	PRIMARY KEY (practice_id, patient_id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
);
CREATE INDEX notify_preferences_marketing ON notify_preferences (practice_id, patient_id) WHERE marketing;

CREATE TABLE notify_consent_changes (
	practice_id uuid NOT NULL,
	id          uuid NOT NULL,
	patient_id  uuid NOT NULL,
	field       text NOT NULL,
	value       text NOT NULL,
	source      text NOT NULL,
	at          timestamptz NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
);
CREATE INDEX notify_consent_changes_patient ON notify_consent_changes (practice_id, patient_id, at, id);

-- Processed provider webhooks, for replay detection; not tenant-owned.
CREATE TABLE notify_webhooks (
	source text NOT NULL,
	key    text NOT NULL,
	at     timestamptz NOT NULL,
	PRIMARY KEY (source, key)
);
CREATE INDEX notify_webhooks_at ON notify_webhooks (at);

-- Nonces of signed links (reschedule or cancel from a message) used once.
CREATE TABLE notify_link_uses (
	practice_id uuid NOT NULL REFERENCES practices (id),
	nonce       uuid NOT NULL,
	at          timestamptz NOT NULL,
	PRIMARY KEY (practice_id, nonce)
);
