-- A visit staff booked over another of the patient's (allow_patient_overlap)
-- is outside the exclusion constraint, so that it may overlap the visits it
-- was allowed over. It must still keep every later visit that is not
-- allowed off its time: the writers of appointments call this function,
-- under the patient's advisory lock, before they write such a visit. It
-- raises the constraint's own error, so that callers see one kind of
-- refusal. A stored visit that keeps its time and stays active (a status
-- change, a new resource) is not checked again: the allowed visit came
-- over it, not the other way round.
CREATE FUNCTION carebook_patient_free(p_practice uuid, p_patient uuid, p_start timestamptz, p_end timestamptz, p_id uuid)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM appointments
		WHERE practice_id = p_practice AND id = p_id AND start_at = p_start AND end_at = p_end
			AND status IN ('new', 'confirmed', 'arrived', 'out')) THEN
		RETURN true;
	END IF;
	IF EXISTS (SELECT 1 FROM appointments
		WHERE practice_id = p_practice AND patient_id = p_patient AND allow_patient_overlap
			AND status IN ('new', 'confirmed', 'arrived', 'out') AND end_at > start_at
			AND start_at < p_end AND end_at > p_start AND id <> p_id) THEN
		RAISE EXCEPTION 'the patient has an allowed overlapping visit at that time'
			USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'appointments_patient_no_overlap';
	END IF;
	RETURN true;
END
$$;
