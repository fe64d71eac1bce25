-- Trials and the read-only state (package billing): a practice's payment
-- method on file for the operator's invoices (one a practice: a provider's
-- token, never a card number), and why a practice is read-only, one row a
-- reason (a trial ended without a payment method, payments kept failing):
-- the practice is read-only while it has a row.
CREATE TABLE billing_payment_methods (
	practice_id uuid PRIMARY KEY REFERENCES practices (id),
	provider    text NOT NULL,
	setup_ref   text NOT NULL,
	token       text NOT NULL,
	label       text NOT NULL,
	saved_at    timestamptz NOT NULL,
	saved_by    text NOT NULL
);

CREATE TABLE practice_read_only (
	practice_id uuid NOT NULL REFERENCES practices (id),
	reason      text NOT NULL CHECK (reason IN ('trial_ended', 'payment_failed')),
	since       timestamptz NOT NULL,
	PRIMARY KEY (practice_id, reason)
);
