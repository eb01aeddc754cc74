-- The team view reads a leader's pulled events by time (the last two months of nights) and the
-- steps taken on tips by kind, without scanning every event the phone ever pulled.

CREATE INDEX team_event_time ON team_event(client_time);
CREATE INDEX team_event_kind ON team_event(kind);
