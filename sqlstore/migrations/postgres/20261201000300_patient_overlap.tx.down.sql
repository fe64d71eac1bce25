ALTER TABLE appointments DROP CONSTRAINT IF EXISTS appointments_patient_no_overlap;
DELETE FROM appointment_changes WHERE action = 'allow-patient-overlap' AND by_actor = 'system:migration';
ALTER TABLE appointment_changes DROP COLUMN IF EXISTS allow_patient_overlap;
ALTER TABLE appointments DROP COLUMN IF EXISTS allow_patient_overlap;
