-- Back to the purposes before 'overpaid'; such payments are kept as
-- 'other' (a payment is never deleted).
ALTER TABLE billing_payments DROP CONSTRAINT billing_payments_purpose_check;
UPDATE billing_payments SET purpose = 'other' WHERE purpose = 'overpaid';
ALTER TABLE billing_payments ADD CONSTRAINT billing_payments_purpose_check
	CHECK (purpose IN ('visit', 'deposit', 'no_show_fee', 'late_cancel', 'other'));
