-- Down drops the sealed names: files recorded since the up migration lose
-- their names.
ALTER TABLE files DROP COLUMN sealed_key;
ALTER TABLE files DROP COLUMN sealed;
