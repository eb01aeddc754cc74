-- The coming assignments this phone was sent (roster feed items): a member's own, or, on a leader's
-- phone, every member's of the team. An item replaces what is held for its member from its night on.

CREATE TABLE roster_duty (
    member_id TEXT NOT NULL,
    night     TEXT NOT NULL,
    slot      TEXT NOT NULL,
    PRIMARY KEY (member_id, night, slot)
) WITHOUT ROWID;

CREATE INDEX roster_duty_night ON roster_duty(night);
