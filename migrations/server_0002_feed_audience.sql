-- Who reads each feed item, and tips followed to their outcome.
--
-- The feed gains the item's ward (officers and admins read every team of their ward) and the one
-- member an item is addressed to besides its team (the author of an observation reads the steps
-- taken on it). SQLite cannot add a NOT NULL column without a default, so the table is rebuilt
-- with the same cursors; the highest cursor ever handed out (which a restore may have raised
-- above the last row) is kept, so new items still get cursors above every one a phone holds.

CREATE TABLE feed_new (
    cursor    INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id   TEXT NOT NULL,
    ward_id   TEXT NOT NULL,                 -- the team's ward
    kind      TEXT NOT NULL,
    leaders   INTEGER NOT NULL,              -- 1: an event (leaders of the team, officers and
                                             --    admins of the ward); 0: a setup (the team)
    member_id TEXT,                          -- read by this member too (a step on their tip)
    payload   TEXT NOT NULL
);

-- A team that no longer exists leaves ward_id NULL and stops the migration: nothing is dropped.
INSERT INTO feed_new(cursor, team_id, ward_id, kind, leaders, member_id, payload)
SELECT f.cursor, f.team_id,
       (SELECT t.ward_id FROM team t WHERE t.id = f.team_id),
       f.kind, f.leaders,
       CASE WHEN f.kind = 'tip_followed_up' THEN
         (SELECT d.member_id FROM event o JOIN device d ON d.id = o.device_id
           WHERE o.kind = 'observed'
             AND o.entity_id = json_extract(f.payload, '$.payload.observation_id')
           ORDER BY o.cursor LIMIT 1)
       END,
       f.payload
FROM feed f;

DELETE FROM sqlite_sequence WHERE name = 'feed_new';
INSERT INTO sqlite_sequence(name, seq) SELECT 'feed_new', seq FROM sqlite_sequence WHERE name = 'feed';
DROP TABLE feed;
ALTER TABLE feed_new RENAME TO feed;

CREATE INDEX feed_team ON feed(team_id, cursor);
CREATE INDEX feed_ward ON feed(ward_id, cursor);
CREATE INDEX feed_member ON feed(member_id, cursor) WHERE member_id IS NOT NULL;

-- An observation by its id, and the steps taken on a tip, for the push rules.
CREATE INDEX event_observation ON event(entity_id) WHERE kind = 'observed';
CREATE INDEX event_tip_step ON event(json_extract(payload, '$.observation_id'))
    WHERE kind = 'tip_followed_up';
