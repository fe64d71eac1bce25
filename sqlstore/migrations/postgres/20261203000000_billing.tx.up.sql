-- Visit payments (package billing): each payment with its append-only
-- ledger, the providers' webhook events applied, the practices' payment
-- policies and the patients' cards on file. No card number is ever kept:
-- method_token and billing_cards.token are the provider's handles. A
-- payment is never deleted and an entry never changed; a mistake is a
-- reversal entry.
CREATE TABLE billing_payments (
	practice_id      uuid NOT NULL REFERENCES practices (id),
	id               uuid NOT NULL,
	provider         text NOT NULL,
	ref              text NOT NULL DEFAULT '',
	amount           bigint NOT NULL CHECK (amount > 0),
	currency         text NOT NULL,
	method_kind      text NOT NULL,
	method_token     text NOT NULL DEFAULT '',
	method_reference text NOT NULL DEFAULT '',
	off_session      boolean NOT NULL DEFAULT false,
	purpose          text NOT NULL CHECK (purpose IN ('visit', 'deposit', 'no_show_fee', 'late_cancel', 'other')),
	patient_id       uuid,
	appointment_id   uuid,
	declines         integer NOT NULL DEFAULT 0,
	created_at       timestamptz NOT NULL,
	created_by       text NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
);
-- A fee is charged at most once per appointment and purpose.
CREATE UNIQUE INDEX billing_payments_one_fee ON billing_payments (practice_id, appointment_id, purpose)
	WHERE purpose IN ('no_show_fee', 'late_cancel');
CREATE INDEX billing_payments_appointment ON billing_payments (practice_id, appointment_id) WHERE appointment_id IS NOT NULL;
CREATE INDEX billing_payments_patient ON billing_payments (practice_id, patient_id, created_at) WHERE patient_id IS NOT NULL;
CREATE INDEX billing_payments_created ON billing_payments (practice_id, created_at);
-- A provider's webhook finds its payment by the provider's reference.
CREATE INDEX billing_payments_ref ON billing_payments (provider, ref) WHERE ref <> '';

CREATE TABLE billing_entries (
	practice_id uuid NOT NULL,
	payment_id  uuid NOT NULL,
	seq         integer NOT NULL CHECK (seq > 0),
	kind        text NOT NULL CHECK (kind IN ('authorized', 'charged', 'captured', 'canceled', 'refunded', 'reversed')),
	amount      bigint NOT NULL CHECK (amount > 0),
	at          timestamptz NOT NULL,
	by_actor    text NOT NULL,
	idem_key    text NOT NULL DEFAULT '',
	provider_tx text NOT NULL DEFAULT '',
	reverses    integer NOT NULL DEFAULT 0,
	reason      text NOT NULL DEFAULT '',
	PRIMARY KEY (practice_id, payment_id, seq),
	FOREIGN KEY (practice_id, payment_id) REFERENCES billing_payments (practice_id, id)
);
-- A key is used once per payment: the idempotency of a step.
CREATE UNIQUE INDEX billing_entries_key ON billing_entries (practice_id, payment_id, idem_key) WHERE idem_key <> '';

-- The providers' webhook events, remembered in the transaction of their
-- effect; an event whose effect must wait for an earlier one waits here.
CREATE TABLE billing_events (
	provider    text NOT NULL,
	event_id    text NOT NULL,
	type        text NOT NULL,
	ref         text NOT NULL DEFAULT '',
	practice_id uuid,
	payment_id  uuid,
	state       text NOT NULL CHECK (state IN ('applied', 'waiting')),
	effect      text NOT NULL DEFAULT '',
	arrived_at  timestamptz NOT NULL,
	settled_at  timestamptz,
	PRIMARY KEY (provider, event_id)
);
CREATE INDEX billing_events_waiting ON billing_events (practice_id, payment_id, arrived_at) WHERE state = 'waiting';

-- A practice's payment policies: its default (visit_type_id the nil UUID)
-- and each visit type's own.
CREATE TABLE billing_policies (
	practice_id   uuid NOT NULL REFERENCES practices (id),
	visit_type_id uuid NOT NULL,
	collect       text NOT NULL CHECK (collect IN ('desk', 'deposit', 'prepay', 'card_on_file')),
	first_visit   text NOT NULL DEFAULT '',
	currency      text NOT NULL DEFAULT '',
	price         bigint NOT NULL DEFAULT 0,
	deposit       bigint NOT NULL DEFAULT 0,
	no_show_fixed     bigint NOT NULL DEFAULT 0,
	no_show_percent   integer NOT NULL DEFAULT 0,
	late_cancel_fixed   bigint NOT NULL DEFAULT 0,
	late_cancel_percent integer NOT NULL DEFAULT 0,
	updated_at    timestamptz NOT NULL,
	updated_by    text NOT NULL,
	PRIMARY KEY (practice_id, visit_type_id)
);

-- A patient's card on file at a provider, for fees charged off-session.
CREATE TABLE billing_cards (
	practice_id uuid NOT NULL,
	patient_id  uuid NOT NULL,
	provider    text NOT NULL,
	token       text NOT NULL,
	label       text NOT NULL DEFAULT '',
	saved_at    timestamptz NOT NULL,
	PRIMARY KEY (practice_id, patient_id, provider),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
);
