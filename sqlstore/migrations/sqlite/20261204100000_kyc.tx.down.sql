DROP TABLE signup_codes;
DROP TABLE practice_verifications;
