-- Each listed location's next open time per visit kind (package directory,
-- Location.KindOpens): the soonest start among the location's visit types
-- of that kind, with the visit type and until when it may be booked. A
-- search by kind filters and orders by its kind's time (directory_locations'
-- next_open is the soonest of any kind). A kind without a time within the
-- horizon has no row. Rows go with their location (ON DELETE CASCADE).
CREATE TABLE directory_next_opens (
	practice_id     uuid NOT NULL,
	provider_id     uuid NOT NULL,
	location_id     uuid NOT NULL,
	kind            text NOT NULL CHECK (kind IN ('new-patient', 'problem', 'preventive', 'follow-up')),
	next_open       timestamptz NOT NULL,
	next_open_until timestamptz NOT NULL,
	visit_type_id   uuid NOT NULL,
	PRIMARY KEY (practice_id, provider_id, location_id, kind),
	FOREIGN KEY (practice_id, provider_id, location_id)
		REFERENCES directory_locations (practice_id, provider_id, location_id) ON DELETE CASCADE
);
CREATE INDEX directory_next_opens_provider ON directory_next_opens (provider_id);
CREATE INDEX directory_next_opens_kind ON directory_next_opens (kind, next_open);
-- The locations listed before have their soonest time's kind's row (the
-- soonest of any kind is its own kind's soonest); the other kinds' rows
-- come with the next refresh of their practice.
INSERT INTO directory_next_opens (practice_id, provider_id, location_id, kind, next_open, next_open_until, visit_type_id)
SELECT l.practice_id, l.provider_id, l.location_id, vt->>'kind', l.next_open, coalesce(l.next_open_until, l.next_open), l.next_open_visit_type
	FROM directory_locations l
	JOIN directory_providers p ON p.practice_id = l.practice_id AND p.provider_id = l.provider_id
	CROSS JOIN LATERAL jsonb_array_elements(p.doc->'locations') loc
	CROSS JOIN LATERAL jsonb_array_elements(loc->'visit_types') vt
	WHERE l.next_open IS NOT NULL AND loc->>'id' = l.location_id::text AND vt->>'id' = l.next_open_visit_type::text
	ON CONFLICT DO NOTHING;
