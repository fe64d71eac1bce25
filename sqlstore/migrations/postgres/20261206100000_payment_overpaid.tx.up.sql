-- A payment of money a provider took for a visit's payment that the desk
-- had taken meanwhile: purpose 'overpaid', to refund.
ALTER TABLE billing_payments DROP CONSTRAINT billing_payments_purpose_check;
ALTER TABLE billing_payments ADD CONSTRAINT billing_payments_purpose_check
	CHECK (purpose IN ('visit', 'deposit', 'no_show_fee', 'late_cancel', 'other', 'overpaid'));
