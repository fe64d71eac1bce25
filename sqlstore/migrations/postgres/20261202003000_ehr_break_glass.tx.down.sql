DROP TABLE IF EXISTS ehr_break_glass;
