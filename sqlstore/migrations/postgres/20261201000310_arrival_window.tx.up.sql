-- When the front desk may record a patient's arrival (tenant.BookingPolicy):
-- from arrival_early_us before the visit's start, or from the start of the
-- visit's local day when 0; until arrival_late_us after its end, or the end
-- of its local day when 0. Existing practices get the default, 0 and 0.
ALTER TABLE practices ADD COLUMN arrival_early_us bigint NOT NULL DEFAULT 0;
ALTER TABLE practices ADD COLUMN arrival_late_us bigint NOT NULL DEFAULT 0;
