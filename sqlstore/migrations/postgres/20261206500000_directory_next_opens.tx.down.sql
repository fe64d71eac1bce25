DROP TABLE directory_next_opens;
