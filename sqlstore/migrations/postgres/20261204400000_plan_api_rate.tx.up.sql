-- A plan's rate of API requests per practice (package billing, Plan.APIRate):
-- api_rate requests per api_period_ms with bursts of api_burst; all 0 is no
-- rate of the plan's own (the server's default applies).
ALTER TABLE billing_plans ADD COLUMN api_rate integer NOT NULL DEFAULT 0 CHECK (api_rate >= 0);
ALTER TABLE billing_plans ADD COLUMN api_period_ms bigint NOT NULL DEFAULT 0 CHECK (api_period_ms >= 0);
ALTER TABLE billing_plans ADD COLUMN api_burst integer NOT NULL DEFAULT 0 CHECK (api_burst >= 0);
