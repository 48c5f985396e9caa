-- Records a search no longer returns but a read by id says still exist: a record rule hides
-- them from the pulling user (a lead reassigned to a salesman whose leads this user may not
-- see). They are not deleted, so they are not tombstoned; the last deletion check keeps their
-- ids here (a JSON array) so that the next pull's count comparison allows for them and a
-- record is announced once when it goes out of sight, not on every pull.
ALTER TABLE pull_cursors ADD COLUMN hidden_ids TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(hidden_ids));
