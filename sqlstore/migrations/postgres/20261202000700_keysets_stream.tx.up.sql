-- A third keyset per practice: streaming AEAD for its files.
ALTER TABLE keysets DROP CONSTRAINT keysets_purpose_check;
ALTER TABLE keysets ADD CONSTRAINT keysets_purpose_check CHECK (purpose IN ('seal', 'index', 'stream', 'shredded'));
