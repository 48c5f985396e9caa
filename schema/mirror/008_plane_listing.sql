-- `pull plane`: when each project's issues were last listed in full (id and updated_at).
--
-- An incremental pull skips that listing when Plane's counts show nothing vanished, but the
-- listing also catches edits the newest-first pass can miss without any count moving (issues
-- with equal updated_at reordered between two pages, an updated_at older than the overlap
-- from a late commit or a skewed server clock). So it still runs at least this often.
ALTER TABLE pull_cursors ADD COLUMN last_listed_at TEXT;

INSERT INTO settings (key, value) VALUES ('plane.listing_interval_seconds', '21600');
