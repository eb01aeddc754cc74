-- An upload counts against its ward's quota from its first piece (not only once stored), so
-- started uploads cannot take a ward past it; uploads left unfinished for a day are dropped.
ALTER TABLE photo_blob ADD COLUMN started_at TEXT;
CREATE INDEX photo_blob_started ON photo_blob(started_at) WHERE started_at IS NOT NULL AND stored_at IS NULL;
