ALTER TABLE operator_staff DROP COLUMN locked_until;
ALTER TABLE operator_staff DROP COLUMN lockouts;
ALTER TABLE operator_staff DROP COLUMN failed_logins;
