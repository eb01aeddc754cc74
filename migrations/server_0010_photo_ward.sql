-- Photos belong to a ward (issue 23): a content hash names the bytes, but each ward holds its own
-- copy's state. A ward reads, uploads and learns of a file only through its own row here, made
-- when one of its devices pushes a record naming the hash and marked stored only once one of its
-- devices has sent the bytes and they matched. The file on disk (<data>/photos/<2 hex>/<hash>) is
-- still kept once, whichever ward sent it first; partial uploads are kept per ward.
CREATE TABLE photo_blob_by_ward (
    ward_id    TEXT NOT NULL,               -- the ward whose copy this is (and whose quota it counts against)
    hash       TEXT NOT NULL,               -- SHA-256 of the bytes, 64 lowercase hex digits
    size       INTEGER NOT NULL,            -- bytes: as first named in this ward, then as stored
    mime       TEXT,                        -- 'image/jpeg' once stored
    stored_at  TEXT,                        -- NULL: this ward has not (yet) sent it whole and checked
    started_at TEXT,                        -- this ward's upload under way since
    PRIMARY KEY (ward_id, hash)
) WITHOUT ROWID;
INSERT INTO photo_blob_by_ward(ward_id, hash, size, mime, stored_at, started_at)
    SELECT ward_id, hash, size, mime, stored_at, started_at FROM photo_blob;
-- A file stored before now is stored for every ward that names it: the server did not record who
-- sent it (its row named the first ward to name it, not the sender), and each of those wards'
-- phones was told it was stored and may have dropped its full-size copy since. From now on a
-- ward's copy is stored only by its own devices.
INSERT OR IGNORE INTO photo_blob_by_ward(ward_id, hash, size, mime, stored_at)
    SELECT DISTINCT p.ward_id, b.hash, b.size, b.mime, b.stored_at
      FROM photo p JOIN photo_blob b ON b.hash = p.hash
     WHERE b.stored_at IS NOT NULL;
-- Other wards naming a file not stored yet: their own copy, not yet sent.
INSERT OR IGNORE INTO photo_blob_by_ward(ward_id, hash, size)
    SELECT p.ward_id, p.hash, p.size FROM photo p ORDER BY p.id;
DROP TABLE photo_blob;
ALTER TABLE photo_blob_by_ward RENAME TO photo_blob;
CREATE INDEX photo_blob_ward ON photo_blob(ward_id) WHERE stored_at IS NOT NULL;
CREATE INDEX photo_blob_hash ON photo_blob(hash) WHERE stored_at IS NOT NULL;
CREATE INDEX photo_blob_started ON photo_blob(started_at) WHERE started_at IS NOT NULL AND stored_at IS NULL;
