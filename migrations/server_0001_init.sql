-- The ward server's database: wards and their teams, enrollment codes, devices, every event
-- pushed exactly once, and the feed devices pull from by cursor.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL                    -- 'epoch': changes when restored from a backup
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
    role    TEXT NOT NULL CHECK (role IN ('member', 'leader', 'officer', 'admin'))
);

CREATE TABLE checkpoint (
    id       TEXT NOT NULL,
    team_id  TEXT NOT NULL REFERENCES team(id),
    name     TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    lat      REAL NOT NULL,
    lon      REAL NOT NULL,
    radius_m REAL NOT NULL,
    qr_code  TEXT NOT NULL,
    PRIMARY KEY (team_id, id)
);

CREATE TABLE enrollment (
    code_hash  TEXT PRIMARY KEY,            -- SHA-256 of the code; the code itself is never stored
    member_id  TEXT NOT NULL REFERENCES member(id),
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

CREATE TABLE device (
    id              TEXT PRIMARY KEY,       -- the device's own id (its local store's)
    member_id       TEXT NOT NULL REFERENCES member(id),
    token_hash      TEXT NOT NULL UNIQUE,   -- SHA-256 of the bearer token
    enrolled_at     TEXT NOT NULL,
    revoked_at      TEXT,
    last_seen       TEXT,
    clock_offset_ms INTEGER,
    stored_through  INTEGER NOT NULL DEFAULT 0  -- events 1..=n of this device are all stored
);

CREATE TABLE event (
    cursor       INTEGER PRIMARY KEY AUTOINCREMENT,  -- commit order (one writer at a time)
    event_id     TEXT NOT NULL UNIQUE,
    device_id    TEXT NOT NULL REFERENCES device(id),
    seq          INTEGER NOT NULL,
    team_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    payload      TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    client_time  TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    UNIQUE (device_id, seq)
);

-- Every refused event, logged; a refusal of the device's own event settles its sequence number,
-- so the device's gap-free count moves past it and the rest of its queue goes on.
CREATE TABLE refusal (
    id          INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    seq         INTEGER,                    -- NULL when the event named another device
    code        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX refusal_seq ON refusal(device_id, seq);

-- What devices pull: team setups (everyone) and events (leaders and officers).
CREATE TABLE feed (
    cursor   INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    leaders  INTEGER NOT NULL,              -- 1: only leaders, officers and admins see it
    payload  TEXT NOT NULL
);
CREATE INDEX feed_team ON feed(team_id, cursor);
