-- The ward's photo keeping period (issue 13): how many days its phones keep a full-size photo
-- after this server has it (0: drop it at once), set by `create-ward --photo-keep-days` and sent
-- to the phones in their team's setup. Wards created before it keep the old fixed period, 14 days.

ALTER TABLE ward ADD COLUMN photo_keep_days INTEGER NOT NULL DEFAULT 14;
