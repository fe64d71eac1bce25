DELETE FROM appointment_changes WHERE action = 'allow-patient-overlap' AND by_actor = 'system:migration';
ALTER TABLE appointment_changes DROP COLUMN allow_patient_overlap;
ALTER TABLE appointments DROP COLUMN allow_patient_overlap;
