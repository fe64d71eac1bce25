-- Patients' files: the record of each encrypted object in the blob bucket
-- (files.File). The object key is random and unique within its practice;
-- the name is kept as uploaded until the keys package seals it.
CREATE TABLE files (
	practice_id  uuid NOT NULL REFERENCES practices (id),
	id           uuid NOT NULL,
	patient_id   uuid NOT NULL,
	name         text NOT NULL,
	content_type text NOT NULL,
	size         bigint NOT NULL CHECK (size >= 0),
	object_key   text COLLATE "C" NOT NULL,
	created_at   timestamptz NOT NULL,
	PRIMARY KEY (practice_id, id),
	CONSTRAINT files_object_key UNIQUE (practice_id, object_key),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
);

CREATE INDEX files_patient ON files (practice_id, patient_id, created_at, id);
