-- A practice's FHIR bulk export jobs (package ehr, export.go): the
-- asynchronous $export of the Bulk Data Access IG. A job is claimed by one
-- runner at a time with a conditional update (state, claim_token,
-- lease_until); its output files are objects of the files bucket, sealed
-- with the practice's stream key, listed in outputs (type, count, object
-- key, size) as JSON. Nothing here is protected health information: the
-- request's parameters, who asked, the states and times, and an error
-- message that names no patient.
CREATE TABLE fhir_exports (
	practice_id  uuid NOT NULL,
	id           uuid NOT NULL,
	state        text NOT NULL CHECK (state IN ('accepted', 'in-progress', 'complete', 'failed', 'canceled')),
	requested_by text NOT NULL,
	request      text NOT NULL,
	types        text NOT NULL,
	since        timestamptz,
	restricted   boolean NOT NULL,
	file_url     text NOT NULL,
	created_at   timestamptz NOT NULL,
	started_at   timestamptz,
	finished_at  timestamptz,
	expires_at   timestamptz,
	expired      boolean NOT NULL DEFAULT false,
	progress     text NOT NULL DEFAULT '',
	outputs      text NOT NULL,
	error        text NOT NULL DEFAULT '',
	claim_token  uuid,
	lease_until  timestamptz,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id) REFERENCES practices (id)
);
-- The runner's scans across practices.
CREATE INDEX fhir_exports_due ON fhir_exports (created_at) WHERE state IN ('accepted', 'in-progress');
CREATE INDEX fhir_exports_expiring ON fhir_exports (expires_at) WHERE state = 'complete' AND NOT expired;
