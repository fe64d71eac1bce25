-- The directory's side of the practices (package directory): what each
-- practice decided to publish, kept per tenant (directory_settings,
-- directory_profiles, directory_visit_settings), and in the read model that
-- spans practices the listed practices (for their pages and the sitemap),
-- when each provider's published record last changed, each location's
-- visit kinds and its next open time.
CREATE TABLE directory_settings (
	practice_id uuid PRIMARY KEY REFERENCES practices (id),
	published   boolean NOT NULL,
	updated_at  timestamptz NOT NULL
);
CREATE INDEX directory_settings_published ON directory_settings (practice_id) WHERE published;
CREATE TABLE directory_profiles (
	practice_id   uuid NOT NULL,
	provider_id   uuid NOT NULL,
	taxonomies    jsonb NOT NULL,
	languages     jsonb NOT NULL,
	accepting_new boolean NOT NULL,
	hidden        boolean NOT NULL,
	updated_at    timestamptz NOT NULL,
	PRIMARY KEY (practice_id, provider_id),
	FOREIGN KEY (practice_id, provider_id) REFERENCES providers (practice_id, id)
);
CREATE TABLE directory_visit_settings (
	practice_id   uuid NOT NULL,
	visit_type_id uuid NOT NULL,
	kind          text NOT NULL CHECK (kind IN ('new-patient', 'problem', 'preventive', 'follow-up')),
	hidden        boolean NOT NULL,
	updated_at    timestamptz NOT NULL,
	PRIMARY KEY (practice_id, visit_type_id),
	FOREIGN KEY (practice_id, visit_type_id) REFERENCES visit_types (practice_id, id)
);
CREATE TABLE directory_practices (
	practice_id   uuid PRIMARY KEY,
	practice_name text NOT NULL,
	updated_at    timestamptz NOT NULL
);
ALTER TABLE directory_providers ADD COLUMN updated_at timestamptz NOT NULL DEFAULT '1970-01-01T00:00:00Z';
CREATE INDEX directory_providers_id ON directory_providers (provider_id);
ALTER TABLE directory_locations
	ADD COLUMN kinds text[] NOT NULL DEFAULT '{}',
	ADD COLUMN next_open timestamptz,
	ADD COLUMN next_open_visit_type uuid;
CREATE INDEX directory_locations_provider ON directory_locations (provider_id);
CREATE INDEX directory_locations_next_open ON directory_locations (next_open);
