DROP TABLE directory_geo;
DROP TABLE directory_fts;
DROP TABLE directory_locations;
DROP TABLE directory_providers;
