-- SQLite twin of the PostgreSQL migration: the public directory. Words are
-- searched in an FTS5 table (directory_fts, rowid = directory_providers.id)
-- and points in an R*Tree (directory_geo, id = directory_locations.id),
-- both written with their rows by the store. The provider's filters are
-- copied onto each of its locations. languages and specialties are
-- space-separated codes with a space at each end (" en es ").
CREATE TABLE directory_providers (
	id            INTEGER PRIMARY KEY,
	practice_id   TEXT NOT NULL,
	provider_id   TEXT NOT NULL,
	practice_name TEXT NOT NULL,
	sort_name     TEXT NOT NULL,
	doc           TEXT NOT NULL,
	UNIQUE (practice_id, provider_id)
) STRICT;
CREATE INDEX directory_providers_sort ON directory_providers (sort_name, practice_id, provider_id);
CREATE TABLE directory_locations (
	id          INTEGER PRIMARY KEY,
	provider    INTEGER NOT NULL REFERENCES directory_providers (id) ON DELETE CASCADE,
	practice_id TEXT NOT NULL,
	location_id TEXT NOT NULL,
	lat         REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
	lon         REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
	-- The point on earthdistance's sphere (radius 6378.168 km), in km from
	-- its centre, for distances by arithmetic alone.
	x           REAL NOT NULL,
	y           REAL NOT NULL,
	z           REAL NOT NULL,
	accepting_new INTEGER NOT NULL,
	languages   TEXT NOT NULL,
	specialties TEXT NOT NULL,
	UNIQUE (provider, location_id)
) STRICT;
CREATE INDEX directory_locations_practice ON directory_locations (practice_id);
-- prefix: indexes of the 2- and 3-character prefixes, for prefix queries.
CREATE VIRTUAL TABLE directory_fts USING fts5 (doc, tokenize = 'unicode61', prefix = '2 3');
CREATE VIRTUAL TABLE directory_geo USING rtree (id, min_lat, max_lat, min_lon, max_lon);
