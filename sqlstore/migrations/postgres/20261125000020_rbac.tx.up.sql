-- rbac: custom roles and grants. Built-in roles live in code (package rbac)
-- under fixed IDs and are not stored, so grants.role_id has no foreign key;
-- custom_role_id repeats it for custom roles only, so that a role still
-- granted cannot be deleted.

CREATE TABLE rbac_roles (
	id          uuid PRIMARY KEY,
	group_id    uuid NOT NULL REFERENCES groups (id),
	practice_id uuid REFERENCES practices (id), -- NULL: the group owns the role
	name        text NOT NULL,
	permissions jsonb NOT NULL,
	created_at  timestamptz NOT NULL,
	created_by  text NOT NULL,
	updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX rbac_roles_practice_name ON rbac_roles (practice_id, name) WHERE practice_id IS NOT NULL;
CREATE UNIQUE INDEX rbac_roles_group_name ON rbac_roles (group_id, name) WHERE practice_id IS NULL;

CREATE TABLE rbac_grants (
	id             uuid PRIMARY KEY,
	account_id     uuid NOT NULL,
	role_id        uuid NOT NULL,
	custom_role_id uuid REFERENCES rbac_roles (id),
	scope_kind     text NOT NULL CHECK (scope_kind IN ('group', 'practice', 'location', 'self')),
	scope_key      text NOT NULL,
	group_id       uuid NOT NULL REFERENCES groups (id),
	practice_id    uuid REFERENCES practices (id),
	location_id    uuid,
	patient_id     uuid,
	created_at     timestamptz NOT NULL,
	created_by     text NOT NULL,
	FOREIGN KEY (practice_id, location_id) REFERENCES locations (practice_id, id),
	CHECK ((scope_kind = 'group') = (practice_id IS NULL)),
	CHECK ((scope_kind = 'location') = (location_id IS NOT NULL)),
	CHECK ((scope_kind = 'self') = (patient_id IS NOT NULL)),
	CONSTRAINT rbac_grants_unique UNIQUE (account_id, role_id, scope_key)
);
CREATE INDEX rbac_grants_practice ON rbac_grants (practice_id, id) WHERE practice_id IS NOT NULL;
CREATE INDEX rbac_grants_group ON rbac_grants (group_id, id);
CREATE INDEX rbac_grants_custom_role ON rbac_grants (custom_role_id) WHERE custom_role_id IS NOT NULL;
