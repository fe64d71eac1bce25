-- carebook schema, PostgreSQL. Every tenant-owned table leads its keys with
-- practice_id (the Citus distribution column, should one be needed).
-- Instants are timestamptz, durations bigint microseconds. Names that lists
-- are ordered by use COLLATE "C" (byte order), as SQLite does, so that both
-- databases return the same order.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE groups (
	id         uuid PRIMARY KEY,
	name       text COLLATE "C" NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE practices (
	id               uuid PRIMARY KEY,
	group_id         uuid NOT NULL REFERENCES groups (id),
	name             text COLLATE "C" NOT NULL,
	auto_confirm     boolean NOT NULL,
	min_notice_us    bigint NOT NULL,
	max_advance_us   bigint NOT NULL,
	cancel_cutoff_us bigint NOT NULL,
	created_at       timestamptz NOT NULL
);
CREATE INDEX practices_group_name ON practices (group_id, name, id);

CREATE TABLE locations (
	practice_id uuid NOT NULL REFERENCES practices (id),
	id          uuid NOT NULL,
	name        text COLLATE "C" NOT NULL,
	time_zone   text NOT NULL,
	line1       text NOT NULL,
	line2       text NOT NULL,
	city        text NOT NULL,
	region      text NOT NULL,
	postal_code text NOT NULL,
	country     text NOT NULL,
	lat         double precision NOT NULL,
	lng         double precision NOT NULL,
	created_at  timestamptz NOT NULL,
	PRIMARY KEY (practice_id, id)
);
CREATE INDEX locations_name ON locations (practice_id, name, id);

CREATE TABLE providers (
	practice_id  uuid NOT NULL REFERENCES practices (id),
	id           uuid NOT NULL,
	npi          text NOT NULL,
	given_name   text COLLATE "C" NOT NULL,
	family_name  text COLLATE "C" NOT NULL,
	specialties  jsonb NOT NULL,
	location_ids jsonb NOT NULL,
	created_at   timestamptz NOT NULL,
	PRIMARY KEY (practice_id, id),
	CONSTRAINT providers_npi UNIQUE (practice_id, npi)
);
CREATE INDEX providers_name ON providers (practice_id, family_name, given_name, id);

CREATE TABLE resources (
	practice_id uuid NOT NULL REFERENCES practices (id),
	id          uuid NOT NULL,
	location_id uuid NOT NULL,
	name        text COLLATE "C" NOT NULL,
	kind        text NOT NULL,
	created_at  timestamptz NOT NULL,
	PRIMARY KEY (practice_id, id)
);
CREATE INDEX resources_name ON resources (practice_id, name, id);
CREATE INDEX resources_location_name ON resources (practice_id, location_id, name, id);

-- given_key and family_key are the names lower-cased by the store, for
-- case-insensitive prefix search; COLLATE "C" lets LIKE 'abc%' use the index.
CREATE TABLE patients (
	practice_id uuid NOT NULL REFERENCES practices (id),
	id          uuid NOT NULL,
	given_name  text COLLATE "C" NOT NULL,
	family_name text COLLATE "C" NOT NULL,
	given_key   text COLLATE "C" NOT NULL,
	family_key  text COLLATE "C" NOT NULL,
	birth_date  text NOT NULL,
	phone       text NOT NULL,
	email       text NOT NULL,
	language    text NOT NULL,
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL,
	PRIMARY KEY (practice_id, id)
);
CREATE INDEX patients_name ON patients (practice_id, family_name, given_name, id);
CREATE INDEX patients_family_key ON patients (practice_id, family_key);
CREATE INDEX patients_given_key ON patients (practice_id, given_key);
CREATE INDEX patients_phone ON patients (practice_id, phone);
CREATE INDEX patients_email ON patients (practice_id, email);

CREATE TABLE visit_types (
	practice_id      uuid NOT NULL REFERENCES practices (id),
	id               uuid NOT NULL,
	name             text COLLATE "C" NOT NULL,
	duration_us      bigint NOT NULL,
	buffer_before_us bigint NOT NULL,
	buffer_after_us  bigint NOT NULL,
	step_us          bigint NOT NULL,
	resource_ids     jsonb NOT NULL,
	audience         text NOT NULL,
	price_minor      bigint NOT NULL,
	currency         text NOT NULL,
	created_at       timestamptz NOT NULL,
	PRIMARY KEY (practice_id, id)
);
CREATE INDEX visit_types_name ON visit_types (practice_id, name, id);

CREATE TABLE blocks (
	practice_id uuid NOT NULL REFERENCES practices (id),
	id          uuid NOT NULL,
	provider_id uuid NOT NULL,
	location_id uuid NOT NULL,
	time_zone   text NOT NULL,
	start_at    timestamptz NOT NULL,
	end_at      timestamptz NOT NULL,
	rrule       text NOT NULL,
	exdates     jsonb NOT NULL,
	overrides   jsonb NOT NULL,
	capacity    integer NOT NULL,
	span_end    timestamptz,
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL,
	PRIMARY KEY (practice_id, id)
);
CREATE INDEX blocks_provider_start ON blocks (practice_id, provider_id, start_at);
CREATE INDEX blocks_location_start ON blocks (practice_id, location_id, start_at);
CREATE INDEX blocks_start ON blocks (practice_id, start_at, id);

-- hold_start and hold_end are the visit plus the visit type's buffers: what
-- the provider's seat is held for. The store rejects holds over 24 hours,
-- which bounds every overlap scan of appointments_provider_hold.
CREATE TABLE appointments (
	practice_id   uuid NOT NULL REFERENCES practices (id),
	id            uuid NOT NULL,
	provider_id   uuid NOT NULL,
	location_id   uuid NOT NULL,
	block_id      uuid NOT NULL,
	visit_type_id uuid NOT NULL,
	patient_id    uuid NOT NULL,
	start_at      timestamptz NOT NULL,
	end_at        timestamptz NOT NULL,
	hold_start    timestamptz NOT NULL,
	hold_end      timestamptz NOT NULL,
	seat          integer NOT NULL,
	status        text NOT NULL,
	resource_ids  jsonb NOT NULL,
	booked_by     text NOT NULL,
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, provider_id) REFERENCES providers (practice_id, id),
	FOREIGN KEY (practice_id, patient_id) REFERENCES patients (practice_id, id),
	FOREIGN KEY (practice_id, visit_type_id) REFERENCES visit_types (practice_id, id),
	CONSTRAINT appointments_hold_order CHECK (hold_end > hold_start),
	CONSTRAINT appointments_status CHECK (status IN ('new', 'confirmed', 'arrived', 'out', 'canceled', 'no-visit')),
	-- Within a block, each seat holds one visit at a time.
	-- GiST columns lead with the provider, not the practice: a GiST index
	-- splits its pages by its first column, and a practice holds them all.
	CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
		provider_id WITH =,
		seat WITH =,
		practice_id WITH =,
		tstzrange(hold_start, hold_end) WITH &&
	) WHERE (status IN ('new', 'confirmed', 'arrived', 'out')),
	-- A provider busy in one block is busy in every other (buffers can
	-- reach across the boundary of two adjacent blocks).
	CONSTRAINT appointments_one_block_at_a_time EXCLUDE USING gist (
		provider_id WITH =,
		practice_id WITH =,
		block_id WITH <>,
		tstzrange(hold_start, hold_end) WITH &&
	) WHERE (status IN ('new', 'confirmed', 'arrived', 'out'))
);
-- Holds and SlotInputs read only this index (index-only scans).
CREATE INDEX appointments_provider_hold ON appointments (practice_id, provider_id, hold_start)
	INCLUDE (hold_end, status, seat, block_id, id);
CREATE INDEX appointments_status_created ON appointments (practice_id, status, created_at, id);
CREATE INDEX appointments_start ON appointments (practice_id, start_at, id);
CREATE INDEX appointments_patient_start ON appointments (practice_id, patient_id, start_at);
-- Finished visits tell established patients from new ones at every booking.
CREATE INDEX appointments_patient_out ON appointments (practice_id, patient_id, start_at) WHERE status = 'out';
CREATE INDEX appointments_block ON appointments (practice_id, block_id);

-- One row per appointment and resource; active is whether the appointment's
-- status holds time. Appointments of one block share its resources (the
-- seats of a group visit use one room), so only holds from different blocks
-- exclude each other.
CREATE TABLE appointment_resources (
	practice_id    uuid NOT NULL,
	appointment_id uuid NOT NULL,
	resource_id    uuid NOT NULL,
	block_id       uuid NOT NULL,
	hold_start     timestamptz NOT NULL,
	hold_end       timestamptz NOT NULL,
	active         boolean NOT NULL,
	PRIMARY KEY (practice_id, appointment_id, resource_id),
	FOREIGN KEY (practice_id, appointment_id) REFERENCES appointments (practice_id, id) ON DELETE CASCADE,
	CONSTRAINT appointment_resources_no_overlap EXCLUDE USING gist (
		resource_id WITH =,
		practice_id WITH =,
		block_id WITH <>,
		tstzrange(hold_start, hold_end) WITH &&
	) WHERE (active)
);
CREATE INDEX appointment_resources_hold ON appointment_resources (practice_id, resource_id, hold_start)
	INCLUDE (hold_end, active, appointment_id, block_id);

CREATE TABLE appointment_changes (
	practice_id    uuid NOT NULL,
	id             uuid NOT NULL,
	appointment_id uuid NOT NULL,
	action         text NOT NULL,
	from_status    text NOT NULL,
	to_status      text NOT NULL,
	by_actor       text NOT NULL,
	at             timestamptz NOT NULL,
	reason         text NOT NULL,
	prev_start     timestamptz,
	PRIMARY KEY (practice_id, id),
	FOREIGN KEY (practice_id, appointment_id) REFERENCES appointments (practice_id, id) ON DELETE CASCADE
);
CREATE INDEX appointment_changes_appointment ON appointment_changes (practice_id, appointment_id, at, id);
