-- Rows written before sealing (sealed IS NULL) have no blind-index tokens,
-- so every lookup also takes them (and filters them in clear): a partial
-- index keeps that part of the lookup an index probe, which the planners
-- OR with the token's index, instead of reading the whole practice. It is
-- empty once Reseal has sealed them.
CREATE INDEX patients_unsealed ON patients (practice_id, id) WHERE sealed IS NULL;
