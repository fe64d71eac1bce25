-- Back to the purposes before 'overpaid'; such payments are kept as
-- 'other' (a payment is never deleted).
PRAGMA defer_foreign_keys = ON;
CREATE TABLE billing_payments_new (
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
INSERT INTO billing_payments_new (practice_id, id, provider, ref, amount, currency, method_kind, method_token, method_reference, off_session, purpose, patient_id, appointment_id, declines, created_at, created_by)
SELECT practice_id, id, provider, ref, amount, currency, method_kind, method_token, method_reference, off_session, CASE purpose WHEN 'overpaid' THEN 'other' ELSE purpose END, patient_id, appointment_id, declines, created_at, created_by FROM billing_payments;
DROP TABLE billing_payments;
ALTER TABLE billing_payments_new RENAME TO billing_payments;
-- A fee is charged at most once per appointment and purpose.
CREATE UNIQUE INDEX billing_payments_one_fee ON billing_payments (practice_id, appointment_id, purpose)
	WHERE purpose IN ('no_show_fee', 'late_cancel');
CREATE INDEX billing_payments_appointment ON billing_payments (practice_id, appointment_id) WHERE appointment_id IS NOT NULL;
CREATE INDEX billing_payments_patient ON billing_payments (practice_id, patient_id, created_at) WHERE patient_id IS NOT NULL;
CREATE INDEX billing_payments_created ON billing_payments (practice_id, created_at);
-- A provider's webhook finds its payment by the provider's reference.
CREATE INDEX billing_payments_ref ON billing_payments (provider, ref) WHERE ref <> '';
