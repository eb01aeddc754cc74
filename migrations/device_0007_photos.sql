-- Photos on observations (issue 13). Each image (a prepared photo or its thumbnail) is one row,
-- named by the SHA-256 of its bytes, written in the same transaction as the record naming it.
-- A record's photo list is kept on its row as JSON (the PhotoRef list its event carries).

ALTER TABLE observation ADD COLUMN photos_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE correction ADD COLUMN photos_added_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE correction ADD COLUMN photos_removed_json TEXT NOT NULL DEFAULT '[]';

CREATE TABLE photo (
    hash          TEXT PRIMARY KEY,          -- SHA-256 of the bytes, 64 lowercase hex digits
    record_id     TEXT NOT NULL,             -- the observation or correction whose event names it
    is_thumb      INTEGER NOT NULL,          -- 1 for a thumbnail (uploaded first, never dropped)
    mime          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    data          BLOB,                      -- NULL once a full photo on the server was dropped here
    created_at    TEXT NOT NULL,
    uploaded_at   TEXT,                      -- the ward server holds it whole
    refused_code  TEXT                       -- the server refused it for good (a PhotoRefusal code)
);
CREATE INDEX photo_waiting ON photo(is_thumb DESC, created_at) WHERE uploaded_at IS NULL AND refused_code IS NULL;
