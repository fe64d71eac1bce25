-- SQLite twin of the PostgreSQL migration: a practice's FHIR bulk export
-- jobs (package ehr, export.go).
CREATE TABLE fhir_exports (
	practice_id  TEXT NOT NULL,
	id           TEXT NOT NULL,
	state        TEXT NOT NULL CHECK (state IN ('accepted', 'in-progress', 'complete', 'failed', 'canceled')),
	requested_by TEXT NOT NULL,
	request      TEXT NOT NULL,
	types        TEXT NOT NULL,
	since        TEXT,
	restricted   INTEGER NOT NULL,
	file_url     TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	started_at   TEXT,
	finished_at  TEXT,
	expires_at   TEXT,
	expired      INTEGER NOT NULL DEFAULT 0,
	progress     TEXT NOT NULL DEFAULT '',
	outputs      TEXT NOT NULL,
	error        TEXT NOT NULL DEFAULT '',
	claim_token  TEXT,
	lease_until  TEXT,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id) REFERENCES practices (id)
) STRICT;
CREATE INDEX fhir_exports_due ON fhir_exports (created_at) WHERE state IN ('accepted', 'in-progress');
CREATE INDEX fhir_exports_expiring ON fhir_exports (expires_at) WHERE state = 'complete' AND expired = 0;
