-- The ward's photo keeping period (issue 13): how many days this phone keeps a full-size photo
-- after the ward server has it (0: drops it at once); thumbnails always stay. It comes with the
-- ward setup; a setup stored before wards had one keeps the old fixed period, 14 days.

ALTER TABLE ward ADD COLUMN photo_keep_days INTEGER NOT NULL DEFAULT 14;
