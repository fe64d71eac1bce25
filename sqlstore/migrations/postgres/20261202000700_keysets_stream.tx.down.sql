-- Down drops the stream keysets: files encrypted with them can no longer be read.
DELETE FROM keysets WHERE purpose = 'stream';
ALTER TABLE keysets DROP CONSTRAINT keysets_purpose_check;
ALTER TABLE keysets ADD CONSTRAINT keysets_purpose_check CHECK (purpose IN ('seal', 'index', 'shredded'));
