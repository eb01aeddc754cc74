-- Each named file knows its other half (a photo's thumbnail, a thumbnail's photo), so a
-- correction taking a photo off an observation takes both off the server's readers.
ALTER TABLE photo ADD COLUMN pair TEXT;
