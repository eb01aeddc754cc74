-- Sync with the ward server: credentials and cursors, events the server refused (kept and shown,
-- never blocking the queue), and the team's shift logs pulled by leaders.

CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,                -- server_url, token, member_id, role, epoch, cursor,
    value TEXT NOT NULL                    -- acked_through, last_success, last_error
);

ALTER TABLE outbox ADD COLUMN refused_code TEXT;
ALTER TABLE outbox ADD COLUMN refused_message TEXT;
DROP INDEX outbox_unsent;
CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent_at IS NULL AND refused_code IS NULL;

CREATE TABLE team_event (
    event_id    TEXT PRIMARY KEY,
    cursor      INTEGER NOT NULL,
    device_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    payload     TEXT NOT NULL,
    client_time TEXT NOT NULL
);
