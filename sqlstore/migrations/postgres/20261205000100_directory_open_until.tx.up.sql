-- Until when each location's next open time may still be booked: the
-- time less the practice's minimum notice. After it the time is stale
-- (booking would refuse it) and searches count it as none.
ALTER TABLE directory_locations ADD COLUMN next_open_until timestamptz;
