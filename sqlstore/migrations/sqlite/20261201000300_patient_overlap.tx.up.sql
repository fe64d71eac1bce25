-- A patient is in one visit at a time: InsertAppointment and
-- UpdateAppointment refuse an active appointment whose visit
-- [start_at, end_at) overlaps another active one of the same patient, in
-- their IMMEDIATE transaction, unless one of them has allow_patient_overlap
-- (a waiver staff give on purpose, recorded in the history). See the
-- PostgreSQL migration, which adds the matching exclusion constraint.
ALTER TABLE appointments ADD COLUMN allow_patient_overlap INTEGER NOT NULL DEFAULT 0;
ALTER TABLE appointment_changes ADD COLUMN allow_patient_overlap INTEGER NOT NULL DEFAULT 0;

-- As on PostgreSQL: every active appointment whose visit overlaps an earlier
-- booked one of the same patient is marked, with a history entry, so that
-- both databases hold the same rows and give the same answers.
INSERT INTO appointment_changes (practice_id, id, appointment_id, action, from_status, to_status, by_actor, at,
	reason, prev_start, allow_patient_overlap)
SELECT a.practice_id,
	lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
		|| substr('89AB', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
	a.id, 'allow-patient-overlap', a.status, a.status, 'system:migration', strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'),
	'overlapped an earlier booked visit of the same patient when one visit at a time became the rule; please review', NULL, 1
FROM appointments AS a
WHERE a.status IN ('new', 'confirmed', 'arrived', 'out') AND a.end_at > a.start_at AND EXISTS (
	SELECT 1 FROM appointments AS b
	WHERE b.practice_id = a.practice_id AND b.patient_id = a.patient_id AND b.id <> a.id
		AND b.status IN ('new', 'confirmed', 'arrived', 'out') AND b.end_at > b.start_at
		AND b.start_at < a.end_at AND b.end_at > a.start_at
		AND (b.created_at, b.id) < (a.created_at, a.id));

UPDATE appointments AS a SET allow_patient_overlap = 1
WHERE a.status IN ('new', 'confirmed', 'arrived', 'out') AND a.end_at > a.start_at AND EXISTS (
	SELECT 1 FROM appointments AS b
	WHERE b.practice_id = a.practice_id AND b.patient_id = a.patient_id AND b.id <> a.id
		AND b.status IN ('new', 'confirmed', 'arrived', 'out') AND b.end_at > b.start_at
		AND b.start_at < a.end_at AND b.end_at > a.start_at
		AND (b.created_at, b.id) < (a.created_at, a.id));
