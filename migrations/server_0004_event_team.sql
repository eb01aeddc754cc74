-- Reads by team: a team's log (team-log) and reports select a team's events by night, which
-- without this index meant reading every event of every ward once per team.

CREATE INDEX event_team_time ON event(team_id, client_time);
