-- SQLite twin of the PostgreSQL migration: a plan's rate of API requests per
-- practice (package billing, Plan.APIRate); all 0 is no rate of the plan's
-- own (the server's default applies).
ALTER TABLE billing_plans ADD COLUMN api_rate INTEGER NOT NULL DEFAULT 0 CHECK (api_rate >= 0);
ALTER TABLE billing_plans ADD COLUMN api_period_ms INTEGER NOT NULL DEFAULT 0 CHECK (api_period_ms >= 0);
ALTER TABLE billing_plans ADD COLUMN api_burst INTEGER NOT NULL DEFAULT 0 CHECK (api_burst >= 0);
