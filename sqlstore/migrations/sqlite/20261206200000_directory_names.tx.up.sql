-- SQLite twin: the words of each listed provider's names on its locations
-- (" ana lee "), filled from the sort name until the next refresh.
ALTER TABLE directory_locations ADD COLUMN names TEXT NOT NULL DEFAULT ' ';
UPDATE directory_locations SET names = ' ' || (SELECT p.sort_name FROM directory_providers p WHERE p.id = directory_locations.provider) || ' ';
