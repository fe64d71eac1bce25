-- The words of each listed provider's names (directory.Provider.NameWords),
-- lower-case, space-separated with a space at each end (" ana lee "),
-- copied onto each of its locations: a search by words near a point
-- resolves each word to the specialties it names (directory.Terms) and
-- tests a location's specialties and these words alone, beside the geo
-- search, without the full-text index. Rows listed before are filled from
-- the provider's sort name until the next refresh of its practice writes
-- them exactly.
ALTER TABLE directory_locations ADD COLUMN names text NOT NULL DEFAULT ' ';
UPDATE directory_locations l SET names = ' ' || p.sort_name || ' '
	FROM directory_providers p WHERE p.practice_id = l.practice_id AND p.provider_id = l.provider_id;
