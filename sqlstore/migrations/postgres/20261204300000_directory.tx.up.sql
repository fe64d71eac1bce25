-- The public directory (package directory): the one read model that spans
-- practices, holding only what practices publish (nothing of a practice
-- that has not opted in, no hidden provider). Rows carry practice_id, the
-- publisher, in every key. doc is the provider's published record as JSON
-- (its locations with it, so that location rows stay narrow and a geo
-- search reads few pages); the other columns are what searches filter on, the
-- provider's filters copied onto each of its locations so that a search
-- near a point filters the rows its GiST index finds without a join.
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;
CREATE TABLE directory_providers (
	practice_id   uuid NOT NULL,
	provider_id   uuid NOT NULL,
	practice_name text NOT NULL,
	sort_name     text NOT NULL,
	search        tsvector NOT NULL,
	doc           jsonb NOT NULL,
	PRIMARY KEY (practice_id, provider_id)
);
CREATE INDEX directory_providers_search ON directory_providers USING gin (search);
CREATE INDEX directory_providers_sort ON directory_providers (sort_name, practice_id, provider_id);
CREATE TABLE directory_locations (
	practice_id uuid NOT NULL,
	provider_id uuid NOT NULL,
	location_id uuid NOT NULL,
	lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
	lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
	earth       earth GENERATED ALWAYS AS (ll_to_earth(lat, lon)) STORED,
	accepting_new boolean NOT NULL,
	languages   text[] NOT NULL,
	specialties text[] NOT NULL,
	PRIMARY KEY (practice_id, provider_id, location_id),
	FOREIGN KEY (practice_id, provider_id) REFERENCES directory_providers (practice_id, provider_id) ON DELETE CASCADE
);
-- Geo search: earth_box(point, radius) @> earth uses it; earth is stored,
-- as computing ll_to_earth for each row the index finds costs more than
-- the search.
CREATE INDEX directory_locations_geo ON directory_locations USING gist (earth);
CREATE INDEX directory_locations_specialties ON directory_locations USING gin (specialties);
