-- The night-duty allowance (issue 26): each ward's rules (window, minimum, cap, rate, monthly
-- supports; no row: the default, Hồ Chí Minh City's figures), the leaders' marks on a team's
-- monthly sheet (appended, never edited: the latest for a member's night wins), and the months
-- closed, each with the sheet as it was closed (what was signed stays what is shown).
--
-- And the deputy leader (tổ phó) as a role: the member table is made again with 'deputy' in its
-- CHECK (SQLite cannot change a CHECK in place). ServerDb::open runs migrations with foreign keys
-- off and checks them all before turning them back on, as SQLite's "making other kinds of table
-- schema changes" asks, so the tables that name member(id) keep pointing at the new one.

CREATE TABLE member_new (
    id      TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES team(id),
    name    TEXT NOT NULL,
    role    TEXT NOT NULL CHECK (role IN ('member', 'deputy', 'leader', 'officer', 'admin')),
    left_at TEXT
);
INSERT INTO member_new(id, team_id, name, role, left_at)
    SELECT id, team_id, name, role, left_at FROM member;
DROP TABLE member;
ALTER TABLE member_new RENAME TO member;

CREATE TABLE allowance_rules (
    ward_id    TEXT PRIMARY KEY REFERENCES ward(id),
    rules_json TEXT NOT NULL
);

CREATE TABLE allowance_mark (
    id        INTEGER PRIMARY KEY,
    team_id   TEXT NOT NULL REFERENCES team(id),
    month     TEXT NOT NULL,
    member_id TEXT NOT NULL,
    night     TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('add', 'remove')),
    reason    TEXT NOT NULL,
    by_member TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX allowance_mark_month ON allowance_mark(team_id, month, id);

CREATE TABLE allowance_closed (
    team_id    TEXT NOT NULL REFERENCES team(id),
    month      TEXT NOT NULL,
    by_member  TEXT NOT NULL,
    at         TEXT NOT NULL,
    answer_json TEXT NOT NULL,  -- the answer as closed: names, rules, lines, who and when
    PRIMARY KEY (team_id, month)
);
