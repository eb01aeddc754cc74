-- Corrections are appended beside the record they fix; local settings stay on the device.

CREATE TABLE correction (
    id           TEXT PRIMARY KEY,
    shift_id     TEXT NOT NULL REFERENCES shift(id),
    target_id    TEXT NOT NULL,
    text         TEXT NOT NULL,
    new_category TEXT,
    at           TEXT NOT NULL,
    log_seq      INTEGER NOT NULL
);
CREATE INDEX correction_target ON correction(target_id);

CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
