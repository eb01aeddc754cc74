-- The feed carries a team's newest setup only (issue 23): each edit published the team's whole
-- setup again and kept every earlier one, so a leader adding 300 members left 300 setups (7.57 MB)
-- for a new phone to download. An edit now replaces the team's setup item (a new cursor, the old
-- row deleted in the same transaction, so a phone between pages still meets the newest), and a
-- device never pulls a setup at or below the one its enrollment answer carried (setup_seen).
DELETE FROM feed
 WHERE kind = 'setup'
   AND cursor < (SELECT MAX(n.cursor) FROM feed n WHERE n.kind = 'setup' AND n.team_id = feed.team_id);
CREATE INDEX feed_setup ON feed(team_id, cursor) WHERE kind = 'setup';
ALTER TABLE device ADD COLUMN setup_seen INTEGER NOT NULL DEFAULT 0;  -- the setup item its enrollment answer carried
