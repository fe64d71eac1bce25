DROP TABLE directory_locations;
DROP TABLE directory_providers;
