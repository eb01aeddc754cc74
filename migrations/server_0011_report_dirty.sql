-- Nights whose kept figures wait to be worked out again (issue 23). A push used to work out again,
-- in its own transaction, every (team, night) its events bear on, reading every record of those
-- nights: on a busy night each push cost more than the last. Now a push only marks them here; a
-- report works a marked night out from its records when it reads it, and the server works out
-- each night once it has been quiet for a while, and then drops its mark.
CREATE TABLE report_dirty (
    team_id   TEXT NOT NULL,
    night     TEXT NOT NULL,                -- the patrol night, YYYY-MM-DD
    marked_at TEXT NOT NULL,                -- the last time (server clock) an event bore on it
    PRIMARY KEY (team_id, night)
) WITHOUT ROWID;
CREATE INDEX report_dirty_quiet ON report_dirty(marked_at);
