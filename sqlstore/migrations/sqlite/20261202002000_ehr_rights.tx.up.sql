-- SQLite twin of the PostgreSQL migration: the patient's rights over their
-- record (amendment requests and their entries, record requests,
-- disclosures), every free text sealed in sealed.
CREATE TABLE ehr_amendments (
	practice_id  TEXT NOT NULL,
	id           TEXT NOT NULL,
	patient_id   TEXT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('requested', 'accepted', 'denied')),
	requested_by TEXT NOT NULL,
	requested_at TEXT NOT NULL,
	due_at       TEXT NOT NULL,
	extended_by  TEXT,
	extended_at  TEXT,
	decided_by   TEXT,
	decided_at   TEXT,
	denial_basis TEXT,
	disagreed_by TEXT,
	disagreed_at TEXT,
	rebutted_by  TEXT,
	rebutted_at  TEXT,
	version      INTEGER NOT NULL CHECK (version > 0),
	sealed       BLOB NOT NULL,
	sealed_key   INTEGER NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
) STRICT;
CREATE INDEX ehr_amendments_patient ON ehr_amendments (practice_id, patient_id, requested_at);
CREATE INDEX ehr_amendments_due ON ehr_amendments (practice_id, due_at) WHERE status = 'requested';
CREATE INDEX ehr_amendments_sealed_key ON ehr_amendments (practice_id, sealed_key);

CREATE TABLE ehr_amendment_entries (
	practice_id  TEXT NOT NULL,
	amendment_id TEXT NOT NULL,
	entry_id     TEXT NOT NULL,
	position     INTEGER NOT NULL,
	PRIMARY KEY (practice_id, amendment_id, entry_id),
	FOREIGN KEY (practice_id, amendment_id) REFERENCES ehr_amendments (practice_id, id),
	FOREIGN KEY (practice_id, entry_id) REFERENCES ehr_entries (practice_id, id)
) STRICT;
CREATE INDEX ehr_amendment_entries_entry ON ehr_amendment_entries (practice_id, entry_id);

CREATE TABLE ehr_record_requests (
	practice_id    TEXT NOT NULL,
	id             TEXT NOT NULL,
	patient_id     TEXT NOT NULL,
	form           TEXT NOT NULL,
	status         TEXT NOT NULL CHECK (status IN ('requested', 'fulfilled', 'denied')),
	requested_by   TEXT NOT NULL,
	requested_at   TEXT NOT NULL,
	due_at         TEXT NOT NULL,
	extended_by    TEXT,
	extended_at    TEXT,
	decided_by     TEXT,
	decided_at     TEXT,
	fulfilled_form TEXT,
	version        INTEGER NOT NULL CHECK (version > 0),
	sealed         BLOB NOT NULL,
	sealed_key     INTEGER NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
) STRICT;
CREATE INDEX ehr_record_requests_patient ON ehr_record_requests (practice_id, patient_id, requested_at);
CREATE INDEX ehr_record_requests_due ON ehr_record_requests (practice_id, due_at) WHERE status = 'requested';
CREATE INDEX ehr_record_requests_sealed_key ON ehr_record_requests (practice_id, sealed_key);

CREATE TABLE ehr_disclosures (
	practice_id  TEXT NOT NULL,
	id           TEXT NOT NULL,
	patient_id   TEXT NOT NULL,
	disclosed_at TEXT NOT NULL,
	recorded_by  TEXT NOT NULL,
	recorded_at  TEXT NOT NULL,
	sealed       BLOB NOT NULL,
	sealed_key   INTEGER NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
) STRICT;
CREATE INDEX ehr_disclosures_patient ON ehr_disclosures (practice_id, patient_id, disclosed_at);
CREATE INDEX ehr_disclosures_sealed_key ON ehr_disclosures (practice_id, sealed_key);
