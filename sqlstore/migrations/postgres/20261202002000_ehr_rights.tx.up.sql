-- The patient's rights over their record (package ehr, rights.go):
-- amendment requests (164.526) linked to the chart entries they are about,
-- requests for a copy of the record (164.524), and the disclosures of the
-- accounting of disclosures (164.528).
--
-- Every free text (reasons, the amendment, the denial, the statements of
-- disagreement and rebuttal, a disclosure's recipient, description and
-- purpose) is sealed (package keys) in sealed, bound to the practice, the
-- table, the column and the row; sealed_key is the ID of the key that
-- sealed it. What stays in clear is what the lists and the deadlines need:
-- statuses, who and when, the time limits.
CREATE TABLE ehr_amendments (
	practice_id  uuid NOT NULL,
	id           uuid NOT NULL,
	patient_id   uuid NOT NULL,
	status       text NOT NULL CHECK (status IN ('requested', 'accepted', 'denied')),
	requested_by text NOT NULL,
	requested_at timestamptz NOT NULL,
	due_at       timestamptz NOT NULL,
	extended_by  text,
	extended_at  timestamptz,
	decided_by   text,
	decided_at   timestamptz,
	denial_basis text,
	disagreed_by text,
	disagreed_at timestamptz,
	rebutted_by  text,
	rebutted_at  timestamptz,
	version      integer NOT NULL CHECK (version > 0),
	sealed       bytea NOT NULL,
	sealed_key   bigint NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
);
CREATE INDEX ehr_amendments_patient ON ehr_amendments (practice_id, patient_id, requested_at);
CREATE INDEX ehr_amendments_due ON ehr_amendments (practice_id, due_at) WHERE status = 'requested';
CREATE INDEX ehr_amendments_sealed_key ON ehr_amendments (practice_id, sealed_key);

-- The chart entries each amendment request is about: the link a reader of
-- an entry follows to the amendment, or to the denial and its statements.
CREATE TABLE ehr_amendment_entries (
	practice_id  uuid NOT NULL,
	amendment_id uuid NOT NULL,
	entry_id     uuid NOT NULL,
	position     integer NOT NULL,
	PRIMARY KEY (practice_id, amendment_id, entry_id),
	FOREIGN KEY (practice_id, amendment_id) REFERENCES ehr_amendments (practice_id, id),
	FOREIGN KEY (practice_id, entry_id) REFERENCES ehr_entries (practice_id, id)
);
CREATE INDEX ehr_amendment_entries_entry ON ehr_amendment_entries (practice_id, entry_id);

CREATE TABLE ehr_record_requests (
	practice_id    uuid NOT NULL,
	id             uuid NOT NULL,
	patient_id     uuid NOT NULL,
	form           text NOT NULL,
	status         text NOT NULL CHECK (status IN ('requested', 'fulfilled', 'denied')),
	requested_by   text NOT NULL,
	requested_at   timestamptz NOT NULL,
	due_at         timestamptz NOT NULL,
	extended_by    text,
	extended_at    timestamptz,
	decided_by     text,
	decided_at     timestamptz,
	fulfilled_form text,
	version        integer NOT NULL CHECK (version > 0),
	sealed         bytea NOT NULL,
	sealed_key     bigint NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
);
CREATE INDEX ehr_record_requests_patient ON ehr_record_requests (practice_id, patient_id, requested_at);
CREATE INDEX ehr_record_requests_due ON ehr_record_requests (practice_id, due_at) WHERE status = 'requested';
CREATE INDEX ehr_record_requests_sealed_key ON ehr_record_requests (practice_id, sealed_key);

CREATE TABLE ehr_disclosures (
	practice_id  uuid NOT NULL,
	id           uuid NOT NULL,
	patient_id   uuid NOT NULL,
	disclosed_at timestamptz NOT NULL,
	recorded_by  text NOT NULL,
	recorded_at  timestamptz NOT NULL,
	sealed       bytea NOT NULL,
	sealed_key   bigint NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id)
);
CREATE INDEX ehr_disclosures_patient ON ehr_disclosures (practice_id, patient_id, disclosed_at);
CREATE INDEX ehr_disclosures_sealed_key ON ehr_disclosures (practice_id, sealed_key);
