-- SQLite twin of the PostgreSQL migration. Visit payments (package billing): each payment with its append-only
-- ledger, the providers' webhook events applied, the practices' payment
-- policies and the patients' cards on file. No card number is ever kept:
-- method_token and billing_cards.token are the provider's handles. A
-- payment is never deleted and an entry never changed; a mistake is a
-- reversal entry.
CREATE TABLE billing_payments (
	practice_id      TEXT NOT NULL REFERENCES practices (id),
	id               TEXT NOT NULL,
	provider         TEXT NOT NULL,
	ref              TEXT NOT NULL DEFAULT '',
	amount           INTEGER NOT NULL CHECK (amount > 0),
	currency         TEXT NOT NULL,
	method_kind      TEXT NOT NULL,
	method_token     TEXT NOT NULL DEFAULT '',
	method_reference TEXT NOT NULL DEFAULT '',
	off_session      INTEGER NOT NULL DEFAULT 0,
	purpose          TEXT NOT NULL CHECK (purpose IN ('visit', 'deposit', 'no_show_fee', 'late_cancel', 'other')),
	patient_id       TEXT,
	appointment_id   TEXT,
	declines         INTEGER NOT NULL DEFAULT 0,
	created_at       TEXT NOT NULL,
	created_by       TEXT NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
) STRICT;
-- A fee is charged at most once per appointment and purpose.
CREATE UNIQUE INDEX billing_payments_one_fee ON billing_payments (practice_id, appointment_id, purpose)
	WHERE purpose IN ('no_show_fee', 'late_cancel');
CREATE INDEX billing_payments_appointment ON billing_payments (practice_id, appointment_id) WHERE appointment_id IS NOT NULL;
CREATE INDEX billing_payments_patient ON billing_payments (practice_id, patient_id, created_at) WHERE patient_id IS NOT NULL;
CREATE INDEX billing_payments_created ON billing_payments (practice_id, created_at);
-- A provider's webhook finds its payment by the provider's reference.
CREATE INDEX billing_payments_ref ON billing_payments (provider, ref) WHERE ref <> '';

CREATE TABLE billing_entries (
	practice_id TEXT NOT NULL,
	payment_id  TEXT NOT NULL,
	seq         INTEGER NOT NULL CHECK (seq > 0),
	kind        TEXT NOT NULL CHECK (kind IN ('authorized', 'charged', 'captured', 'canceled', 'refunded', 'reversed')),
	amount      INTEGER NOT NULL CHECK (amount > 0),
	at          TEXT NOT NULL,
	by_actor    TEXT NOT NULL,
	idem_key    TEXT NOT NULL DEFAULT '',
	provider_tx TEXT NOT NULL DEFAULT '',
	reverses    INTEGER NOT NULL DEFAULT 0,
	reason      TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (practice_id, payment_id, seq),
	FOREIGN KEY (practice_id, payment_id) REFERENCES billing_payments (practice_id, id)
) STRICT;
-- A key is used once per payment: the idempotency of a step.
CREATE UNIQUE INDEX billing_entries_key ON billing_entries (practice_id, payment_id, idem_key) WHERE idem_key <> '';

-- The providers' webhook events, remembered in the transaction of their
-- effect; an event whose effect must wait for an earlier one waits here.
CREATE TABLE billing_events (
	provider    TEXT NOT NULL,
	event_id    TEXT NOT NULL,
	type        TEXT NOT NULL,
	ref         TEXT NOT NULL DEFAULT '',
	practice_id TEXT,
	payment_id  TEXT,
	state       TEXT NOT NULL CHECK (state IN ('applied', 'waiting')),
	effect      TEXT NOT NULL DEFAULT '',
	arrived_at  TEXT NOT NULL,
	settled_at  TEXT,
	PRIMARY KEY (provider, event_id)
) STRICT;
CREATE INDEX billing_events_waiting ON billing_events (practice_id, payment_id, arrived_at) WHERE state = 'waiting';

-- A practice's payment policies: its default (visit_type_id the nil UUID)
-- and each visit type's own.
CREATE TABLE billing_policies (
	practice_id   TEXT NOT NULL REFERENCES practices (id),
	visit_type_id TEXT NOT NULL,
	collect       TEXT NOT NULL CHECK (collect IN ('desk', 'deposit', 'prepay', 'card_on_file')),
	first_visit   TEXT NOT NULL DEFAULT '',
	currency      TEXT NOT NULL DEFAULT '',
	price         INTEGER NOT NULL DEFAULT 0,
	deposit       INTEGER NOT NULL DEFAULT 0,
	no_show_fixed     INTEGER NOT NULL DEFAULT 0,
	no_show_percent   INTEGER NOT NULL DEFAULT 0,
	late_cancel_fixed   INTEGER NOT NULL DEFAULT 0,
	late_cancel_percent INTEGER NOT NULL DEFAULT 0,
	updated_at    TEXT NOT NULL,
	updated_by    TEXT NOT NULL,
	PRIMARY KEY (practice_id, visit_type_id)
) STRICT;

-- A patient's card on file at a provider, for fees charged off-session.
CREATE TABLE billing_cards (
	practice_id TEXT NOT NULL,
	patient_id  TEXT NOT NULL,
	provider    TEXT NOT NULL,
	token       TEXT NOT NULL,
	label       TEXT NOT NULL DEFAULT '',
	saved_at    TEXT NOT NULL,
	PRIMARY KEY (practice_id, patient_id, provider),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
) STRICT;
