-- Feed items this device could not read (an unknown kind, a setup that breaks a rule): kept with
-- the reason and shown, while the cursor moves on so one bad item never stops the ones after it.

CREATE TABLE feed_rejected (
    cursor      INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    payload     TEXT NOT NULL
);
