-- What a sync's change detection reads for every pair and every issue and task, kept in
-- indexes small enough to stay in the page cache. A pair is compared again only when one of
-- its snapshots' data_hash moved, and finding that out from the tables meant reading each
-- snapshot's whole row (its JSON comes first) for every pair on every run. With these, rows
-- are read only for the pairs and records that changed. Detection names the indexes in its
-- queries (INDEXED BY): SQLite would otherwise prefer the primary keys, which find the same
-- rows but not from the index alone. The tasks' index is partial, so that CRM pulls (100k leads)
-- never touch it; the issues' one is not: SQLite then checks `kind` against the table rows.
CREATE INDEX plane_records_state ON plane_records (kind, plane_id, data_hash, deleted, archived, project_id);
CREATE INDEX odoo_records_state ON odoo_records (odoo_id, data_hash, deleted, active) WHERE model = 'project.task';
CREATE INDEX sync_pairs_compare ON sync_pairs (entity, odoo_id, plane_id, plane_hash, odoo_hash, plane_project, mapping_id);
CREATE INDEX sync_mappings_status ON sync_mappings (id, status);
