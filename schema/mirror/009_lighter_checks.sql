-- Cheaper CHECK constraints on the tables every pull and sync writes row by row.
--
-- Two kinds of check cost more than the rest of an insert's bookkeeping:
-- * `x IN ('a', 'b', 'c')` with three or more values: SQLite builds a temporary b-tree of the
--   list for every row it checks (two values compile to plain comparisons). The same test as
--   `x = 'a' OR x = 'b' OR x = 'c'` accepts and refuses exactly the same values, NULL included,
--   without the b-tree: a third of the cost of a small insert.
-- * `json_valid(...)` on snapshot, metadata, payload and log columns parses every byte again.
--   Those values are written only by odoosync's own JSON writer or copied from a page the
--   record scanner has already parsed in full, and the tests check every JSON column of the
--   mirrors they build. The low-volume JSON columns (configuration, local edits, conflicts,
--   run summaries) keep their checks.
--
-- Neither change touches stored rows, so the table definitions are edited in place, SQLite's
-- documented procedure for changing CHECK constraints (lang_altertable.html, "Making Other
-- Kinds Of Table Schema Changes"): the migrator moves the schema cookie in the same
-- transaction, so every open connection reads the new definitions.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema SET sql = replace(replace(replace(sql,
    'CHECK (priority IS NULL OR priority IN (''high'', ''medium'', ''low''))',
    'CHECK (priority IS NULL OR priority = ''high'' OR priority = ''medium'' OR priority = ''low'')'),
    'NOT NULL DEFAULT ''{}'' CHECK (json_valid(metadata))', 'NOT NULL DEFAULT ''{}'''),
    'NOT NULL DEFAULT ''[]'' CHECK (json_valid(tags))', 'NOT NULL DEFAULT ''[]''')
WHERE type = 'table' AND name = 'leads';

UPDATE sqlite_schema SET sql = replace(sql, 'NOT NULL CHECK (json_valid(data))', 'NOT NULL')
WHERE type = 'table' AND name IN ('odoo_records', 'plane_records');

UPDATE sqlite_schema SET sql = replace(replace(sql,
    'CHECK (sync_direction IN (''plane_to_odoo'', ''odoo_to_plane'', ''bidirectional''))',
    'CHECK (sync_direction = ''plane_to_odoo'' OR sync_direction = ''odoo_to_plane'' OR sync_direction = ''bidirectional'')'),
    'CHECK (status IN (''active'', ''paused'', ''error'', ''archived''))',
    'CHECK (status = ''active'' OR status = ''paused'' OR status = ''error'' OR status = ''archived'')')
WHERE type = 'table' AND name = 'sync_mappings';

UPDATE sqlite_schema SET sql = replace(replace(replace(sql,
    'CHECK (operation IN (''create'', ''update'', ''delete'', ''archive''))',
    'CHECK (operation = ''create'' OR operation = ''update'' OR operation = ''delete'' OR operation = ''archive'')'),
    'NOT NULL DEFAULT ''{}'' CHECK (json_valid(payload))', 'NOT NULL DEFAULT ''{}'''),
    'CHECK (status IN (''pending'', ''processing'', ''completed'', ''failed'', ''cancelled''))',
    'CHECK (status = ''pending'' OR status = ''processing'' OR status = ''completed'' OR status = ''failed'' OR status = ''cancelled'')')
WHERE type = 'table' AND name = 'sync_queue';

UPDATE sqlite_schema SET sql = replace(replace(sql,
    'CHECK (source_data IS NULL OR json_valid(source_data))', ''),
    'CHECK (target_data IS NULL OR json_valid(target_data))', '')
WHERE type = 'table' AND name = 'sync_log';

UPDATE sqlite_schema SET sql = replace(replace(replace(replace(sql,
    'CHECK (level IN (''debug'', ''info'', ''warn'', ''error'', ''fatal''))',
    'CHECK (level = ''debug'' OR level = ''info'' OR level = ''warn'' OR level = ''error'' OR level = ''fatal'')'),
    'CHECK (system IS NULL OR system IN
                  (''odoo'', ''vercel'', ''mcp'', ''n8n'', ''github'', ''supabase'', ''slack'', ''mailgun'', ''custom''))',
    'CHECK (system IS NULL OR system = ''odoo'' OR system = ''vercel'' OR system = ''mcp'' OR system = ''n8n''
                  OR system = ''github'' OR system = ''supabase'' OR system = ''slack'' OR system = ''mailgun''
                  OR system = ''custom'')'),
    'NOT NULL DEFAULT ''{}'' CHECK (json_valid(metadata))', 'NOT NULL DEFAULT ''{}'''),
    'NOT NULL DEFAULT ''{}'' CHECK (json_valid(context))', 'NOT NULL DEFAULT ''{}''')
WHERE type = 'table' AND name = 'events';

UPDATE sqlite_schema SET sql = replace(replace(sql,
    'NOT NULL DEFAULT ''{}'' CHECK (json_valid(plane_fields))', 'NOT NULL DEFAULT ''{}'''),
    'NOT NULL DEFAULT ''{}'' CHECK (json_valid(odoo_fields))', 'NOT NULL DEFAULT ''{}''')
WHERE type = 'table' AND name = 'sync_pairs';

UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (status IN (''received'', ''processing'', ''processed'', ''failed''))',
    'CHECK (status = ''received'' OR status = ''processing'' OR status = ''processed'' OR status = ''failed'')')
WHERE type = 'table' AND name = 'webhook_deliveries';

PRAGMA writable_schema = RESET;

-- Secondary indexes a pull drops while it fills an empty table and builds again, sorted, at
-- its end (an index that takes rows in random key order costs more to keep up row by row
-- than to build once). A row here means the index is missing until the next pull restores it.
CREATE TABLE deferred_indexes (
    name TEXT PRIMARY KEY,
    sql  TEXT NOT NULL
);

-- The few records Odoo deleted, by model. Counting or listing a model's live records used to
-- read every row of it (`deleted` is in no index), about 20,000 pages for 100k leads on each
-- incremental pull; the id index less this short list answers the same from a few hundred.
-- Live rows stay out of it, so inserts and updates never touch it.
CREATE INDEX odoo_records_tombstones ON odoo_records (model, odoo_id) WHERE deleted = 1;
