DROP INDEX directory_locations_next_open;
DROP INDEX directory_locations_provider;
ALTER TABLE directory_locations DROP COLUMN kinds, DROP COLUMN next_open, DROP COLUMN next_open_visit_type;
DROP INDEX directory_providers_id;
ALTER TABLE directory_providers DROP COLUMN updated_at;
DROP TABLE directory_practices;
DROP TABLE directory_visit_settings;
DROP TABLE directory_profiles;
DROP TABLE directory_settings;
