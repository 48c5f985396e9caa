-- A pair ends when the record on one side is deleted or archived (and, by default, the other
-- side is archived in turn). Which side went, and whether odoosync archived the other, is what
-- it takes to bring the pair back when that record returns (unarchived in Plane, reactivated in
-- Odoo): NULL while the pair is live. Both go back to NULL once the pair is live again, so the
-- partial index holds only ended pairs and detection finds the returns without reading the rest.
ALTER TABLE sync_pairs ADD COLUMN ended_by TEXT CHECK (ended_by IS NULL OR ended_by = 'plane' OR ended_by = 'odoo' OR ended_by = 'both');
ALTER TABLE sync_pairs ADD COLUMN archived_other INTEGER NOT NULL DEFAULT 0 CHECK (archived_other = 0 OR archived_other = 1);
CREATE INDEX sync_pairs_ended ON sync_pairs (entity, mapping_id) WHERE ended_by IS NOT NULL;

-- Pairs that ended before this migration: the completed archive item says which side went and
-- that the other was archived (a milestone is never written: its cycle's pair just ended).
UPDATE sync_pairs
SET ended_by = (SELECT q.source_system FROM sync_queue q
                WHERE q.operation = 'archive' AND q.status = 'completed'
                  AND json_extract(q.payload, '$.mapping_id') = sync_pairs.mapping_id
                ORDER BY q.completed_at DESC LIMIT 1),
    archived_other = CASE WHEN entity = 'cycle:project.milestone' THEN 0 ELSE 1 END
WHERE mapping_id IN (SELECT id FROM sync_mappings WHERE status = 'archived')
  AND EXISTS (SELECT 1 FROM sync_queue q WHERE q.operation = 'archive' AND q.status = 'completed'
                AND json_extract(q.payload, '$.mapping_id') = sync_pairs.mapping_id);
