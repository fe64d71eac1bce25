DROP TABLE support_actions;
DROP TABLE operator_sessions;
DROP TABLE operator_staff;
