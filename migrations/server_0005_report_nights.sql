-- Reports answered from what each (team, night) comes to (issue 9): the server keeps each night's
-- figures (crates/domain/src/report_nights.rs) and works a night out again, in the push's own
-- transaction, when an event bearing on it is stored. A report adds up a few rows a night
-- instead of reading every event of the period.

-- A team's night: its figures as JSON (domain::report_nights::NightFigures).
CREATE TABLE report_night (
    team_id TEXT NOT NULL,
    night   TEXT NOT NULL,                  -- the evening, YYYY-MM-DD
    figures TEXT NOT NULL,
    PRIMARY KEY (team_id, night)
) WITHOUT ROWID;

-- The setup (zone, slots, route) a team's nights were worked out with, as a hash: another
-- setup and they are worked out afresh.
CREATE TABLE report_team (
    team_id   TEXT PRIMARY KEY,
    setup_key TEXT NOT NULL
);

-- meta 'report_through': the last event cursor the nights take in (none yet: the server's
-- start works out every night of the events already stored).

-- The records bearing on a night: a record by its id, a night's shifts, a shift's records, an
-- observation's corrections (the steps on a tip: event_tip_step, migration 0002).
CREATE INDEX event_record ON event(team_id, json_extract(payload, '$.id'));
CREATE INDEX event_shift_night ON event(team_id, json_extract(payload, '$.night'))
    WHERE kind IN ('shift_started', 'shift_ended');
CREATE INDEX event_of_shift ON event(team_id, json_extract(payload, '$.shift_id'))
    WHERE kind IN ('checked_in', 'observed', 'corrected');
CREATE INDEX event_correction_target ON event(team_id, json_extract(payload, '$.target_id'))
    WHERE kind = 'corrected';
