ALTER TABLE practices DROP COLUMN IF EXISTS arrival_late_us;
ALTER TABLE practices DROP COLUMN IF EXISTS arrival_early_us;
