-- Break-glass accesses to a patient's chart (ehr.BreakGlass): who opened
-- which chart, when and until when, in clear for the access guard and the
-- review; the stated reason sealed.
CREATE TABLE ehr_break_glass (
	practice_id TEXT NOT NULL,
	id          TEXT NOT NULL,
	patient_id  TEXT NOT NULL,
	account_id  TEXT NOT NULL,
	opened_at   TEXT NOT NULL,
	expires_at  TEXT NOT NULL,
	sealed      BLOB NOT NULL,
	sealed_key  INTEGER NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id),
	CHECK (expires_at > opened_at)
) STRICT;
CREATE INDEX ehr_break_glass_holder ON ehr_break_glass (practice_id, patient_id, account_id, expires_at);
CREATE INDEX ehr_break_glass_opened ON ehr_break_glass (practice_id, opened_at);
CREATE INDEX ehr_break_glass_sealed_key ON ehr_break_glass (practice_id, sealed_key);
