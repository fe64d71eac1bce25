ALTER TABLE billing_plans DROP COLUMN api_burst;
ALTER TABLE billing_plans DROP COLUMN api_period_ms;
ALTER TABLE billing_plans DROP COLUMN api_rate;
