DROP FUNCTION IF EXISTS carebook_patient_free(uuid, uuid, timestamptz, timestamptz, uuid);
