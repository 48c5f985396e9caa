-- Plane pull: what plane_records lacked.
-- A cycle's or module's issues are part of its snapshot (Plane's cycle and module objects do
-- not list them); archived records stay visible in the mirror as archived, not deleted.

ALTER TABLE plane_records ADD COLUMN issue_ids TEXT CHECK (issue_ids IS NULL OR json_valid(issue_ids));
ALTER TABLE plane_records ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1));

CREATE INDEX plane_records_project ON plane_records (project_id, kind);

-- Which issues are in which cycle or module, one row per link.
CREATE VIEW plane_memberships AS
SELECT r.kind AS container_kind, r.plane_id AS container_id, r.project_id AS project_id, j.value AS issue_id
FROM plane_records r, json_each(r.issue_ids) j
WHERE r.kind IN ('cycle', 'module') AND r.deleted = 0;

INSERT INTO settings (key, value) VALUES
    ('plane.page_size', '1000'),
    ('plane.overlap_seconds', '300');
