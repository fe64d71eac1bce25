-- Files' names are sealed (package keys), one ciphertext per row, bound to
-- the practice, the table, the column and the row; name keeps only the
-- names of rows from before this migration (sealed IS NULL).
ALTER TABLE files ADD COLUMN sealed BLOB;
ALTER TABLE files ADD COLUMN sealed_key INTEGER NOT NULL DEFAULT 0;
