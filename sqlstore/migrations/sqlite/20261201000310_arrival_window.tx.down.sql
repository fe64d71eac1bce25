ALTER TABLE practices DROP COLUMN arrival_late_us;
ALTER TABLE practices DROP COLUMN arrival_early_us;
