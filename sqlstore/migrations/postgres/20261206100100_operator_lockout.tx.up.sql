-- Support staff are locked out after failed sign-ins in a row, as
-- accounts are (identity.Service.Failed).
ALTER TABLE operator_staff ADD COLUMN failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0);
ALTER TABLE operator_staff ADD COLUMN lockouts integer NOT NULL DEFAULT 0 CHECK (lockouts >= 0);
ALTER TABLE operator_staff ADD COLUMN locked_until timestamptz;
