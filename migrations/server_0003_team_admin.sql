-- Leaders run their team from the phone (issue 10): the roster, members who left, and an audit
-- record of every change made through the team API.

-- A member who left the team: their records stay, their devices are revoked, and they are no
-- longer planned or enrolled. NULL: still in the team.
ALTER TABLE member ADD COLUMN left_at TEXT;

-- Who is due on which slot of which patrol night (the evening's date, YYYY-MM-DD).
CREATE TABLE roster (
    team_id   TEXT NOT NULL REFERENCES team(id),
    night     TEXT NOT NULL,
    slot      TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES member(id),
    PRIMARY KEY (team_id, night, slot, member_id)
);
CREATE INDEX roster_member ON roster(member_id, night);

-- Every change made through the team API: who (member and device), when, what, on which team,
-- and the change itself as JSON. Appended in the change's own transaction; never updated.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    ward_id   TEXT NOT NULL,
    team_id   TEXT NOT NULL,
    member_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    change    TEXT NOT NULL
);
CREATE INDEX audit_ward ON audit(ward_id, id);
