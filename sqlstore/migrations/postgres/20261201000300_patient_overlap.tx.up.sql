-- A patient is in one visit at a time: the visits [start_at, end_at) of one
-- patient's active appointments must not overlap, with the same strength as
-- a provider's (an exclusion constraint). Staff may waive the rule for one
-- appointment on purpose (allow_patient_overlap, recorded in its history);
-- such a row is outside the constraint, so it neither blocks nor is blocked.
ALTER TABLE appointments ADD COLUMN allow_patient_overlap boolean NOT NULL DEFAULT false;
ALTER TABLE appointment_changes ADD COLUMN allow_patient_overlap boolean NOT NULL DEFAULT false;

-- A database booked before this rule may hold overlaps, on which adding the
-- constraint would fail. Rather than fail (or cancel visits), every active
-- appointment whose visit overlaps an earlier booked one (by created_at,
-- then id) of the same patient is marked allow_patient_overlap, with an
-- entry in its history (action allow-patient-overlap, by
-- system:migration) so that the front desk can find and review them: the
-- earliest booking of each overlap keeps the rule. The marked rows are
-- exactly those of this predicate, evaluated before any is marked.
INSERT INTO appointment_changes (practice_id, id, appointment_id, action, from_status, to_status, by_actor, at,
	reason, prev_start, allow_patient_overlap)
SELECT a.practice_id, gen_random_uuid(), a.id, 'allow-patient-overlap', a.status, a.status, 'system:migration', now(),
	'overlapped an earlier booked visit of the same patient when one visit at a time became the rule; please review', NULL, true
FROM appointments AS a
WHERE a.status IN ('new', 'confirmed', 'arrived', 'out') AND a.end_at > a.start_at AND EXISTS (
	SELECT 1 FROM appointments AS b
	WHERE b.practice_id = a.practice_id AND b.patient_id = a.patient_id AND b.id <> a.id
		AND b.status IN ('new', 'confirmed', 'arrived', 'out') AND b.end_at > b.start_at
		AND b.start_at < a.end_at AND b.end_at > a.start_at
		AND (b.created_at, b.id) < (a.created_at, a.id));

UPDATE appointments AS a SET allow_patient_overlap = true
WHERE a.status IN ('new', 'confirmed', 'arrived', 'out') AND a.end_at > a.start_at AND EXISTS (
	SELECT 1 FROM appointments AS b
	WHERE b.practice_id = a.practice_id AND b.patient_id = a.patient_id AND b.id <> a.id
		AND b.status IN ('new', 'confirmed', 'arrived', 'out') AND b.end_at > b.start_at
		AND b.start_at < a.end_at AND b.end_at > a.start_at
		AND (b.created_at, b.id) < (a.created_at, a.id));

-- Led by the patient, as the provider's constraints are by the provider.
ALTER TABLE appointments ADD CONSTRAINT appointments_patient_no_overlap EXCLUDE USING gist (
	patient_id WITH =,
	practice_id WITH =,
	tstzrange(start_at, end_at) WITH &&
) WHERE (status IN ('new', 'confirmed', 'arrived', 'out') AND NOT allow_patient_overlap);
