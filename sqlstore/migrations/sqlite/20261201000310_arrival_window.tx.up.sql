-- When the front desk may record a patient's arrival; see the PostgreSQL
-- migration.
ALTER TABLE practices ADD COLUMN arrival_early_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE practices ADD COLUMN arrival_late_us INTEGER NOT NULL DEFAULT 0;
