ALTER TABLE directory_locations DROP COLUMN names;
