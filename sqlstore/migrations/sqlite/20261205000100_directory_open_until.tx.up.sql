-- SQLite twin: until when each location's next open time may be booked.
ALTER TABLE directory_locations ADD COLUMN next_open_until TEXT;
