-- A pair ends when the record on one side is deleted or archived (and, by default, the other
-- side is archived in turn). Which side went, and whether odoosync archived the other, is what
-- it takes to bring the pair back when that record returns (unarchived in Plane, reactivated in
-- Odoo). Both are reset once the pair is live again (ended_by to NULL, archived_other to 0), so
-- the partial index holds only ended pairs and detection finds the returns without reading the rest.
ALTER TABLE sync_pairs ADD COLUMN ended_by TEXT CHECK (ended_by IS NULL OR ended_by = 'plane' OR ended_by = 'odoo' OR ended_by = 'both');
ALTER TABLE sync_pairs ADD COLUMN archived_other INTEGER NOT NULL DEFAULT 0 CHECK (archived_other = 0 OR archived_other = 1);
CREATE INDEX sync_pairs_ended ON sync_pairs (entity, mapping_id) WHERE ended_by IS NOT NULL;

-- Pairs that ended before this migration: their last completed archive item says which side
-- went and that the other was archived (a milestone is never written: its cycle's pair just
-- ended). One pass over the queue, not one per pair; a payload that is not JSON is passed over.
CREATE TEMP TABLE ended_012 AS
    SELECT json_extract(payload, '$.mapping_id') AS mapping_id, source_system, max(completed_at) AS completed_at
    FROM sync_queue
    WHERE operation = 'archive' AND status = 'completed' AND json_valid(payload)
    GROUP BY json_extract(payload, '$.mapping_id');
CREATE UNIQUE INDEX temp.ended_012_mapping ON ended_012 (mapping_id);
UPDATE sync_pairs
SET ended_by = ended_012.source_system,
    archived_other = CASE WHEN sync_pairs.entity = 'cycle:project.milestone' THEN 0 ELSE 1 END
FROM ended_012
WHERE ended_012.mapping_id = sync_pairs.mapping_id
  AND sync_pairs.mapping_id IN (SELECT id FROM sync_mappings WHERE status = 'archived');
DROP TABLE ended_012;
