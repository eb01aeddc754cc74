-- Who reads each feed item, and tips followed to their outcome.
--
-- A feed item may be addressed to one member besides its team: the author of an observation reads
-- the steps taken on it. An item's ward is its team's (joined when read), so officers and admins
-- read every team of their ward. Existing steps are addressed to their observation's author.

ALTER TABLE feed ADD COLUMN member_id TEXT;   -- NULL: the team's item only

UPDATE feed SET member_id =
    (SELECT d.member_id FROM event o JOIN device d ON d.id = o.device_id
      WHERE o.kind = 'observed'
        AND o.entity_id = json_extract(feed.payload, '$.payload.observation_id')
      ORDER BY o.cursor LIMIT 1)
WHERE kind = 'tip_followed_up';

CREATE INDEX feed_member ON feed(member_id, cursor) WHERE member_id IS NOT NULL;

-- An observation by its id, and the steps taken on a tip, for the push rules.
CREATE INDEX event_observation ON event(entity_id) WHERE kind = 'observed';
CREATE INDEX event_tip_step ON event(json_extract(payload, '$.observation_id'))
    WHERE kind = 'tip_followed_up';
