-- The phone's local store: the ward setup it patrols with, its shift records, and the outbox of
-- events waiting for the ward server. Records are append-only: corrections are new rows.

CREATE TABLE device (
    id          TEXT PRIMARY KEY,            -- UUIDv7 chosen on first open
    next_seq    INTEGER NOT NULL,            -- the next outbox sequence number (gap-free)
    last_clock  TEXT NOT NULL                -- highest device clock seen, RFC 3339, to spot jumps back
);

CREATE TABLE ward (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    tz           TEXT NOT NULL,
    police_phone TEXT NOT NULL,
    demo         INTEGER NOT NULL
);

CREATE TABLE team (
    id           TEXT PRIMARY KEY,
    ward_id      TEXT NOT NULL REFERENCES ward(id),
    name         TEXT NOT NULL,
    leader_phone TEXT NOT NULL,
    slots_json   TEXT NOT NULL
);

CREATE TABLE member (
    id      TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES team(id),
    name    TEXT NOT NULL,
    role    TEXT NOT NULL
);

CREATE TABLE checkpoint (
    id       TEXT PRIMARY KEY,
    team_id  TEXT NOT NULL REFERENCES team(id),
    name     TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    lat      REAL NOT NULL,
    lon      REAL NOT NULL,
    radius_m REAL NOT NULL,
    qr_code  TEXT NOT NULL
);

CREATE TABLE shift (
    id              TEXT PRIMARY KEY,
    team_id         TEXT NOT NULL,
    slot_code       TEXT NOT NULL,
    night           TEXT NOT NULL,           -- YYYY-MM-DD, the evening's date
    started_at      TEXT NOT NULL,
    members_json    TEXT NOT NULL,
    ended_at        TEXT,
    handover_note   TEXT,
    log_seq         INTEGER NOT NULL         -- outbox seq of its start event: device order
);

CREATE TABLE checkin (
    id            TEXT PRIMARY KEY,
    shift_id      TEXT NOT NULL REFERENCES shift(id),
    checkpoint_id TEXT NOT NULL,
    method        TEXT NOT NULL CHECK (method IN ('gps', 'qr', 'manual')),
    verified      INTEGER NOT NULL,
    lat           REAL,
    lon           REAL,
    accuracy_m    REAL,
    distance_m    REAL,
    reason        TEXT,
    at            TEXT NOT NULL,
    log_seq       INTEGER NOT NULL
);

CREATE TABLE observation (
    id          TEXT PRIMARY KEY,
    shift_id    TEXT NOT NULL REFERENCES shift(id),
    category    TEXT NOT NULL,
    description TEXT,
    plate       TEXT,
    people      TEXT,
    action      TEXT,
    urgent      INTEGER NOT NULL,
    lat         REAL,
    lon         REAL,
    accuracy_m  REAL,
    at          TEXT NOT NULL,
    log_seq     INTEGER NOT NULL
);

CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY,         -- per-device sequence, 1, 2, 3... with no gaps
    event_id    TEXT NOT NULL UNIQUE,        -- UUIDv7
    device_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,               -- shift_started, checked_in, observed, corrected, shift_ended
    entity_id   TEXT NOT NULL,
    payload     TEXT NOT NULL,               -- the record as JSON
    client_time TEXT NOT NULL,
    sent_at     TEXT                         -- set when the ward server acknowledged it
);

CREATE INDEX checkin_shift ON checkin(shift_id, log_seq);
CREATE INDEX observation_shift ON observation(shift_id, log_seq);
CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent_at IS NULL;
