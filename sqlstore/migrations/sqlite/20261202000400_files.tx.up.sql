-- SQLite twin of the PostgreSQL migration: patients' files.
CREATE TABLE files (
	practice_id  TEXT NOT NULL REFERENCES practices (id),
	id           TEXT NOT NULL,
	patient_id   TEXT NOT NULL,
	name         TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size         INTEGER NOT NULL CHECK (size >= 0),
	object_key   TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	PRIMARY KEY (practice_id, id),
	CONSTRAINT files_object_key UNIQUE (practice_id, object_key),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
);

CREATE INDEX files_patient ON files (practice_id, patient_id, created_at, id);
