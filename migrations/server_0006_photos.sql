-- Photos on observations (issue 13). Records travel in pushes; each photo (the prepared photo and
-- its thumbnail, two content-addressed files) is uploaded afterwards, in pieces, by the device
-- whose pushed observation or correction names it, and read by whoever reads that observation.

-- A photo file as it is kept under <data>/photos/<first 2 hex>/<hash>: one row per content hash,
-- whoever named it. NULL stored_at: not (yet) whole and checked.
CREATE TABLE photo_blob (
    hash      TEXT PRIMARY KEY,             -- SHA-256 of the bytes, 64 lowercase hex digits
    size      INTEGER NOT NULL,             -- bytes: as first named, then as stored
    mime      TEXT,                         -- 'image/jpeg' or 'image/webp' once stored
    ward_id   TEXT NOT NULL,                -- the ward whose quota it counts against
    stored_at TEXT
);
CREATE INDEX photo_blob_ward ON photo_blob(ward_id) WHERE stored_at IS NOT NULL;

-- Which pushed record names which file: written in the push's own transaction, one row per file
-- (the photo and its thumbnail) per observation per device. Decides who uploads (the device)
-- and who reads (the device's member, the team's leaders, the ward's officers and admins).
CREATE TABLE photo (
    id             INTEGER PRIMARY KEY,
    hash           TEXT NOT NULL,
    observation_id TEXT NOT NULL,           -- the observation (a correction's target)
    device_id      TEXT NOT NULL REFERENCES device(id),
    team_id        TEXT NOT NULL,
    ward_id        TEXT NOT NULL,
    size           INTEGER NOT NULL,        -- bytes, as the record declares
    is_thumb       INTEGER NOT NULL,
    UNIQUE (hash, observation_id, device_id)
);
CREATE INDEX photo_device ON photo(device_id, hash);
