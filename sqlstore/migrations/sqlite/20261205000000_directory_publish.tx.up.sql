-- SQLite twin of the PostgreSQL migration: the practices' directory
-- settings and profiles, the listed practices, and the providers' change
-- times and the locations' kinds (space-separated, a space at each end,
-- " new-patient problem ") and next open times.
CREATE TABLE directory_settings (
	practice_id TEXT PRIMARY KEY REFERENCES practices (id),
	published   INTEGER NOT NULL,
	updated_at  TEXT NOT NULL
) STRICT;
CREATE TABLE directory_profiles (
	practice_id   TEXT NOT NULL,
	provider_id   TEXT NOT NULL,
	taxonomies    TEXT NOT NULL,
	languages     TEXT NOT NULL,
	accepting_new INTEGER NOT NULL,
	hidden        INTEGER NOT NULL,
	updated_at    TEXT NOT NULL,
	PRIMARY KEY (practice_id, provider_id),
	FOREIGN KEY (practice_id, provider_id) REFERENCES providers (practice_id, id)
) STRICT;
CREATE TABLE directory_visit_settings (
	practice_id   TEXT NOT NULL,
	visit_type_id TEXT NOT NULL,
	kind          TEXT NOT NULL CHECK (kind IN ('new-patient', 'problem', 'preventive', 'follow-up')),
	hidden        INTEGER NOT NULL,
	updated_at    TEXT NOT NULL,
	PRIMARY KEY (practice_id, visit_type_id),
	FOREIGN KEY (practice_id, visit_type_id) REFERENCES visit_types (practice_id, id)
) STRICT;
CREATE TABLE directory_practices (
	practice_id   TEXT PRIMARY KEY,
	practice_name TEXT NOT NULL,
	updated_at    TEXT NOT NULL
) STRICT;
ALTER TABLE directory_providers ADD COLUMN updated_at TEXT NOT NULL DEFAULT '1970-01-01T00:00:00.000000Z';
CREATE INDEX directory_providers_id ON directory_providers (provider_id);
ALTER TABLE directory_locations ADD COLUMN kinds TEXT NOT NULL DEFAULT ' ';
ALTER TABLE directory_locations ADD COLUMN next_open TEXT;
ALTER TABLE directory_locations ADD COLUMN next_open_visit_type TEXT;
CREATE INDEX directory_locations_next_open ON directory_locations (next_open);
