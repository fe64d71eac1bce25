-- SQLite twin: each listed location's next open time per visit kind, keyed
-- by its location's provider row and location ID, going with its location
-- (ON DELETE CASCADE); the locations listed before get their soonest
-- time's kind's row.
CREATE TABLE directory_next_opens (
	provider        INTEGER NOT NULL,
	practice_id     TEXT NOT NULL,
	location_id     TEXT NOT NULL,
	kind            TEXT NOT NULL CHECK (kind IN ('new-patient', 'problem', 'preventive', 'follow-up')),
	next_open       TEXT NOT NULL,
	next_open_until TEXT NOT NULL,
	visit_type_id   TEXT NOT NULL,
	PRIMARY KEY (provider, location_id, kind),
	FOREIGN KEY (provider, location_id) REFERENCES directory_locations (provider, location_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX directory_next_opens_kind ON directory_next_opens (kind, next_open);
INSERT OR IGNORE INTO directory_next_opens (provider, practice_id, location_id, kind, next_open, next_open_until, visit_type_id)
SELECT l.provider, l.practice_id, l.location_id, json_extract(vt.value, '$.kind'), l.next_open, coalesce(l.next_open_until, l.next_open),
	l.next_open_visit_type
	FROM directory_locations l
	JOIN directory_providers p ON p.id = l.provider
	JOIN json_each(p.doc, '$.locations') loc
	JOIN json_each(loc.value, '$.visit_types') vt
	WHERE l.next_open IS NOT NULL AND json_extract(loc.value, '$.id') = l.location_id
	AND json_extract(vt.value, '$.id') = l.next_open_visit_type;
