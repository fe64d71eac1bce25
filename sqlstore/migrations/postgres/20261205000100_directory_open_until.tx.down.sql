ALTER TABLE directory_locations DROP COLUMN next_open_until;
