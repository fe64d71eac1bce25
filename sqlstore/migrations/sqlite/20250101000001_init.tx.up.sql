-- carebook schema, SQLite. Mirrors the PostgreSQL schema: UUIDs are TEXT in
-- canonical form; instants are TEXT 'YYYY-MM-DDTHH:MM:SS.ffffffZ' in UTC, so
-- that string order is time order; durations are INTEGER microseconds;
-- lists are JSON TEXT. No exclusion constraints here: InsertAppointment and
-- UpdateAppointment check for overlapping holds in their IMMEDIATE
-- transaction before writing.

CREATE TABLE groups (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL
) STRICT;

CREATE TABLE practices (
	id               TEXT PRIMARY KEY,
	group_id         TEXT NOT NULL REFERENCES groups (id),
	name             TEXT NOT NULL,
	auto_confirm     INTEGER NOT NULL,
	min_notice_us    INTEGER NOT NULL,
	max_advance_us   INTEGER NOT NULL,
	cancel_cutoff_us INTEGER NOT NULL,
	created_at       TEXT NOT NULL
) STRICT;
CREATE INDEX practices_group_name ON practices (group_id, name, id);

CREATE TABLE locations (
	practice_id TEXT NOT NULL REFERENCES practices (id),
	id          TEXT NOT NULL,
	name        TEXT NOT NULL,
	time_zone   TEXT NOT NULL,
	line1       TEXT NOT NULL,
	line2       TEXT NOT NULL,
	city        TEXT NOT NULL,
	region      TEXT NOT NULL,
	postal_code TEXT NOT NULL,
	country     TEXT NOT NULL,
	lat         REAL NOT NULL,
	lng         REAL NOT NULL,
	created_at  TEXT NOT NULL,
	PRIMARY KEY (practice_id, id)
) STRICT;
CREATE INDEX locations_name ON locations (practice_id, name, id);

CREATE TABLE providers (
	practice_id  TEXT NOT NULL REFERENCES practices (id),
	id           TEXT NOT NULL,
	npi          TEXT NOT NULL,
	given_name   TEXT NOT NULL,
	family_name  TEXT NOT NULL,
	specialties  TEXT NOT NULL,
	location_ids TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	PRIMARY KEY (practice_id, id),
	CONSTRAINT providers_npi UNIQUE (practice_id, npi)
) STRICT;
CREATE INDEX providers_name ON providers (practice_id, family_name, given_name, id);

CREATE TABLE resources (
	practice_id TEXT NOT NULL REFERENCES practices (id),
	id          TEXT NOT NULL,
	location_id TEXT NOT NULL,
	name        TEXT NOT NULL,
	kind        TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	PRIMARY KEY (practice_id, id)
) STRICT;
CREATE INDEX resources_name ON resources (practice_id, name, id);
CREATE INDEX resources_location_name ON resources (practice_id, location_id, name, id);

CREATE TABLE patients (
	practice_id TEXT NOT NULL REFERENCES practices (id),
	id          TEXT NOT NULL,
	given_name  TEXT NOT NULL,
	family_name TEXT NOT NULL,
	given_key   TEXT NOT NULL,
	family_key  TEXT NOT NULL,
	birth_date  TEXT NOT NULL,
	phone       TEXT NOT NULL,
	email       TEXT NOT NULL,
	language    TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	PRIMARY KEY (practice_id, id)
) STRICT;
CREATE INDEX patients_name ON patients (practice_id, family_name, given_name, id);
CREATE INDEX patients_family_key ON patients (practice_id, family_key);
CREATE INDEX patients_given_key ON patients (practice_id, given_key);
CREATE INDEX patients_phone ON patients (practice_id, phone);
CREATE INDEX patients_email ON patients (practice_id, email);

CREATE TABLE visit_types (
	practice_id      TEXT NOT NULL REFERENCES practices (id),
	id               TEXT NOT NULL,
	name             TEXT NOT NULL,
	duration_us      INTEGER NOT NULL,
	buffer_before_us INTEGER NOT NULL,
	buffer_after_us  INTEGER NOT NULL,
	step_us          INTEGER NOT NULL,
	resource_ids     TEXT NOT NULL,
	audience         TEXT NOT NULL,
	price_minor      INTEGER NOT NULL,
	currency         TEXT NOT NULL,
	created_at       TEXT NOT NULL,
	PRIMARY KEY (practice_id, id)
) STRICT;
CREATE INDEX visit_types_name ON visit_types (practice_id, name, id);

CREATE TABLE blocks (
	practice_id TEXT NOT NULL REFERENCES practices (id),
	id          TEXT NOT NULL,
	provider_id TEXT NOT NULL,
	location_id TEXT NOT NULL,
	time_zone   TEXT NOT NULL,
	start_at    TEXT NOT NULL,
	end_at      TEXT NOT NULL,
	rrule       TEXT NOT NULL,
	exdates     TEXT NOT NULL,
	overrides   TEXT NOT NULL,
	capacity    INTEGER NOT NULL,
	span_end    TEXT,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	PRIMARY KEY (practice_id, id)
) STRICT;
CREATE INDEX blocks_provider_start ON blocks (practice_id, provider_id, start_at);
CREATE INDEX blocks_location_start ON blocks (practice_id, location_id, start_at);
CREATE INDEX blocks_start ON blocks (practice_id, start_at, id);

CREATE TABLE appointments (
	practice_id   TEXT NOT NULL REFERENCES practices (id),
	id            TEXT NOT NULL,
	provider_id   TEXT NOT NULL,
	location_id   TEXT NOT NULL,
	block_id      TEXT NOT NULL,
	visit_type_id TEXT NOT NULL,
	patient_id    TEXT NOT NULL,
	start_at      TEXT NOT NULL,
	end_at        TEXT NOT NULL,
	hold_start    TEXT NOT NULL,
	hold_end      TEXT NOT NULL,
	seat          INTEGER NOT NULL,
	status        TEXT NOT NULL,
	resource_ids  TEXT NOT NULL,
	booked_by     TEXT NOT NULL,
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, provider_id) REFERENCES providers (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id),
	FOREIGN KEY (practice_id, visit_type_id) REFERENCES visit_types (practice_id, id),
	CONSTRAINT appointments_hold_order CHECK (hold_end > hold_start),
	CONSTRAINT appointments_status CHECK (status IN ('new', 'confirmed', 'arrived', 'out', 'canceled', 'no-visit'))
) STRICT;
-- Covering: Holds and SlotInputs read only this index.
CREATE INDEX appointments_provider_hold ON appointments (practice_id, provider_id, hold_start, hold_end, status, seat, block_id, id);
CREATE INDEX appointments_status_created ON appointments (practice_id, status, created_at, id);
CREATE INDEX appointments_start ON appointments (practice_id, start_at, id);
CREATE INDEX appointments_patient_start ON appointments (practice_id, patient_id, start_at);
-- Finished visits tell established patients from new ones at every booking.
CREATE INDEX appointments_patient_out ON appointments (practice_id, patient_id, start_at) WHERE status = 'out';
CREATE INDEX appointments_block ON appointments (practice_id, block_id);

CREATE TABLE appointment_resources (
	practice_id    TEXT NOT NULL,
	appointment_id TEXT NOT NULL,
	resource_id    TEXT NOT NULL,
	block_id       TEXT NOT NULL, -- appointments of one block share its resources
	hold_start     TEXT NOT NULL,
	hold_end       TEXT NOT NULL,
	active         INTEGER NOT NULL,
	PRIMARY KEY (practice_id, appointment_id, resource_id),
	FOREIGN KEY (practice_id, appointment_id) REFERENCES appointments (practice_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX appointment_resources_hold ON appointment_resources (practice_id, resource_id, hold_start, hold_end, active, appointment_id, block_id);

CREATE TABLE appointment_changes (
	practice_id    TEXT NOT NULL,
	id             TEXT NOT NULL,
	appointment_id TEXT NOT NULL,
	action         TEXT NOT NULL,
	from_status    TEXT NOT NULL,
	to_status      TEXT NOT NULL,
	by_actor       TEXT NOT NULL,
	at             TEXT NOT NULL,
	reason         TEXT NOT NULL,
	prev_start     TEXT,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, appointment_id) REFERENCES appointments (practice_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX appointment_changes_appointment ON appointment_changes (practice_id, appointment_id, at, id);
