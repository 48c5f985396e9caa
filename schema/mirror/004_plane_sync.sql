-- The Plane <-> Odoo sync's own state, kept beside the Supabase-shaped sync_* tables (which
-- export publishes column for column, so nothing mirror-only is added to them).

-- One row per mapping: the pair's ids on both sides and, for each side, the mapped fields as
-- that side held them at the last sync. Change detection compares each side with its own
-- last-seen values, so a lossy translation (Plane "none" becomes Odoo "0", which reads back as
-- "low") never bounces back as a change, and neither does a write the tool made itself.
CREATE TABLE sync_pairs (
    mapping_id       TEXT PRIMARY KEY REFERENCES sync_mappings (id) ON DELETE CASCADE,
    entity           TEXT NOT NULL,                     -- "<plane_type>:<odoo_model>", a sync_config key
    plane_id         TEXT NOT NULL,
    plane_project    TEXT,                              -- the Plane project the item lives in
    odoo_id          INTEGER NOT NULL,
    plane_fields     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(plane_fields)),
    odoo_fields      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(odoo_fields)),
    plane_updated_at TEXT,                              -- UTC ISO-8601
    odoo_write_date  TEXT,                              -- as Odoo sends it (naive UTC)
    -- data_hash of each side's snapshot when the pair was last compared: a pair whose two
    -- snapshots are unchanged since is not compared again (NULL: compare next time)
    plane_hash       INTEGER,
    odoo_hash        INTEGER,
    UNIQUE (entity, plane_id),
    UNIQUE (entity, odoo_id)
);

CREATE INDEX sync_mappings_target ON sync_mappings (target_type, target_id);
CREATE INDEX sync_queue_source ON sync_queue (source_system, source_type, source_id, status);

-- What the field and state maps were when each entity was last compared; a change of map
-- makes the next sync compare every pair again.
CREATE TABLE sync_fingerprints (
    entity      TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL
);

-- Plane state name -> Odoo task stage name, both lowercased; names that match need no row.
CREATE TABLE state_map (
    plane_state TEXT PRIMARY KEY,
    odoo_stage  TEXT NOT NULL
);
INSERT INTO state_map (plane_state, odoo_stage) VALUES ('todo', 'to do'), ('in review', 'review');

-- The sync_config rows of the design's entity table that the Supabase setup did not have.
INSERT OR IGNORE INTO sync_config (id, plane_type, odoo_model, direction, field_mappings, created_at, updated_at)
SELECT lower(printf('%s-%s-4%s-a%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
                    substr(hex(randomblob(2)), 2), hex(randomblob(6)))),
       plane_type, odoo_model, direction, field_mappings,
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM (SELECT 'cycle' AS plane_type, 'project.milestone' AS odoo_model, 'plane_to_odoo' AS direction,
             '{"name":"name","end_date":"deadline"}' AS field_mappings
      UNION ALL SELECT 'module', 'project.project', 'plane_to_odoo', '{"name":"name","description":"description"}'
      UNION ALL SELECT 'issue', 'sale.order', 'odoo_to_plane', '{"name":"name"}'
      UNION ALL SELECT 'issue', 'account.move', 'odoo_to_plane', '{"name":"name"}');

INSERT OR IGNORE INTO settings (key, value) VALUES
    ('sync.retry_base_seconds', '60'),
    ('sync.max_attempts', '3'),
    ('sync.on_delete', 'archive');
