-- odoosync mirror, version 1.
-- Applied once by the migrator inside one transaction; never edited after release:
-- later changes go into a new numbered file.
-- Timestamps written by odoosync are ISO-8601 UTC text ("2026-11-21T10:00:00.123Z");
-- Odoo's own datetimes are kept as Odoo sends them ("2026-11-21 10:00:00", naive UTC).

-- ---------------------------------------------------------------------------
-- Sync state, named and shaped after the Supabase plane.* / ops.* tables it publishes to.
-- ---------------------------------------------------------------------------

CREATE TABLE sync_config (
    id                  TEXT PRIMARY KEY,                 -- uuid
    plane_type          TEXT NOT NULL,
    odoo_model          TEXT NOT NULL,
    enabled             INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    direction           TEXT NOT NULL DEFAULT 'bidirectional'
                        CHECK (direction IN ('plane_to_odoo', 'odoo_to_plane', 'bidirectional')),
    field_mappings      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(field_mappings)),
    conflict_resolution TEXT NOT NULL DEFAULT 'latest_wins'
                        CHECK (conflict_resolution IN ('latest_wins', 'plane_wins', 'odoo_wins', 'manual')),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (plane_type, odoo_model)
);

CREATE TABLE sync_mappings (
    id             TEXT PRIMARY KEY,                      -- uuid
    source_system  TEXT NOT NULL CHECK (source_system IN ('plane', 'odoo')),
    source_id      TEXT NOT NULL,
    source_type    TEXT NOT NULL,
    target_id      TEXT NOT NULL,
    target_type    TEXT NOT NULL,
    last_synced_at TEXT NOT NULL,
    sync_version   INTEGER NOT NULL DEFAULT 1,
    sync_direction TEXT NOT NULL DEFAULT 'bidirectional'
                   CHECK (sync_direction IN ('plane_to_odoo', 'odoo_to_plane', 'bidirectional')),
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'error', 'archived')),
    last_error     TEXT,
    error_count    INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (source_system, source_id, source_type)
);

CREATE TABLE sync_queue (
    id              TEXT PRIMARY KEY,                     -- uuid
    source_system   TEXT CHECK (source_system IN ('plane', 'odoo')),
    source_id       TEXT,
    source_type     TEXT,
    operation       TEXT CHECK (operation IN ('create', 'update', 'delete', 'archive')),
    payload         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
    priority        INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL DEFAULT 3,
    last_attempt_at TEXT,
    next_attempt_at TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    completed_at    TEXT,
    worker_id       TEXT,
    lock_until      TEXT
);
CREATE INDEX sync_queue_pending ON sync_queue (status, priority DESC, next_attempt_at);

CREATE TABLE sync_log (
    id            TEXT PRIMARY KEY,                       -- uuid
    seq           INTEGER NOT NULL UNIQUE,                -- local order, the export watermark
    mapping_id    TEXT REFERENCES sync_mappings (id) ON DELETE SET NULL,
    run_id        TEXT REFERENCES runs (id),
    source_system TEXT NOT NULL,
    source_id     TEXT NOT NULL,
    target_id     TEXT,
    operation     TEXT NOT NULL,
    success       INTEGER NOT NULL CHECK (success IN (0, 1)),
    error_message TEXT,
    source_data   TEXT CHECK (source_data IS NULL OR json_valid(source_data)),
    target_data   TEXT CHECK (target_data IS NULL OR json_valid(target_data)),
    duration_ms   INTEGER,
    created_at    TEXT NOT NULL
);

-- ops.runs: one row per command run that talks to a remote.
CREATE TABLE runs (
    id                TEXT PRIMARY KEY,                   -- uuid
    system            TEXT NOT NULL DEFAULT 'odoo',
    job_name          TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'running'
                      CHECK (status IN ('pending', 'running', 'success', 'failed', 'cancelled', 'timeout', 'retrying')),
    started_at        TEXT NOT NULL,
    ended_at          TEXT,
    records_processed INTEGER NOT NULL DEFAULT 0,
    records_failed    INTEGER NOT NULL DEFAULT 0,
    metadata          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata))
);

-- ops.events: append-only.
CREATE TABLE events (
    id            TEXT PRIMARY KEY,                       -- uuid
    seq           INTEGER NOT NULL UNIQUE,                -- local order, the export watermark
    run_id        TEXT REFERENCES runs (id),
    level         TEXT NOT NULL DEFAULT 'info' CHECK (level IN ('debug', 'info', 'warn', 'error', 'fatal')),
    category      TEXT,
    event_type    TEXT,
    message       TEXT NOT NULL,
    system        TEXT CHECK (system IS NULL OR system IN
                  ('odoo', 'vercel', 'mcp', 'n8n', 'github', 'supabase', 'slack', 'mailgun', 'custom')),
    component     TEXT,
    function_name TEXT,
    metadata      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    context       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(context)),
    duration_ms   REAL,
    timestamp     TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX events_run ON events (run_id);

CREATE VIEW v_active_syncs AS
SELECT m.*, c.enabled AS config_enabled, c.direction AS config_direction
FROM sync_mappings m
LEFT JOIN sync_config c
       ON (m.source_system = 'plane' AND c.plane_type = m.source_type AND c.odoo_model = m.target_type)
       OR (m.source_system = 'odoo' AND c.odoo_model = m.source_type AND c.plane_type = m.target_type)
WHERE m.status = 'active';

CREATE VIEW v_pending_queue AS
SELECT q.*, m.target_id, m.target_type
FROM sync_queue q
LEFT JOIN sync_mappings m
       ON m.source_system = q.source_system AND m.source_id = q.source_id AND m.source_type = q.source_type
WHERE q.status = 'pending'
ORDER BY q.priority DESC, q.next_attempt_at;

CREATE VIEW v_sync_stats AS
SELECT source_system,
       source_type,
       count(*)                                        AS total_mappings,
       sum(status = 'active')                          AS active_count,
       sum(status = 'error')                           AS error_count,
       max(last_synced_at)                             AS last_sync,
       avg(sync_version)                               AS avg_version
FROM sync_mappings
GROUP BY source_system, source_type;

-- ---------------------------------------------------------------------------
-- Pipeline: the columns of the ERP's public.leads / customers / contacts, plus what the mirror needs.
-- ---------------------------------------------------------------------------

CREATE TABLE customers (
    id              TEXT PRIMARY KEY,                     -- uuid
    name            TEXT NOT NULL,
    company_id      TEXT,
    status          TEXT NOT NULL DEFAULT 'active',
    odoo_partner_id INTEGER UNIQUE,                       -- the commercial partner it stands for
    source          TEXT NOT NULL DEFAULT 'odoo_sync',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX customers_name ON customers (lower(name));

CREATE TABLE contacts (
    id              TEXT PRIMARY KEY,                     -- uuid
    customer_id     TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    company_id      TEXT,
    first_name      TEXT,
    last_name       TEXT,
    email           TEXT,
    phone           TEXT,
    is_primary      INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    odoo_partner_id INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX contacts_email ON contacts (customer_id, lower(email)) WHERE email IS NOT NULL;
CREATE INDEX contacts_customer ON contacts (customer_id, is_primary);

CREATE TABLE leads (
    id                  TEXT PRIMARY KEY,                 -- uuid
    title               TEXT NOT NULL,
    description         TEXT,
    stage               TEXT,                             -- pipeline slug; NULL while the Odoo stage is unmapped
    source              TEXT,
    source_email_id     TEXT,                             -- "odoo_crm_<id>": unique through odoo_id (see CHECK)
    priority            TEXT CHECK (priority IS NULL OR priority IN ('high', 'medium', 'low')),
    expected_close_date TEXT,                             -- YYYY-MM-DD
    probability         REAL,
    expected_value      REAL,
    customer_id         TEXT REFERENCES customers (id) ON DELETE SET NULL,
    contact_id          TEXT REFERENCES contacts (id) ON DELETE SET NULL,
    notes               TEXT,
    metadata            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    company_id          TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    synced_at           TEXT,
    -- mirror-only columns
    odoo_id             INTEGER UNIQUE,
    odoo_stage          TEXT,
    odoo_partner_id     INTEGER,
    salesperson         TEXT,
    lead_type           TEXT,
    active              INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    deleted_at          TEXT,                             -- set when the lead vanished from Odoo
    tags                TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    -- The ERP's dedup key follows from the Odoo id, so odoo_id's unique index keeps it unique
    -- without a second index on every insert.
    CHECK (odoo_id IS NULL OR source_email_id = 'odoo_crm_' || odoo_id)
);
CREATE INDEX leads_partner ON leads (odoo_partner_id);
CREATE INDEX leads_customer ON leads (customer_id);

-- ---------------------------------------------------------------------------
-- Remote snapshots: the last-seen copy of every pulled record, and per-model cursors.
-- ---------------------------------------------------------------------------

CREATE TABLE odoo_records (
    model      TEXT NOT NULL,
    odoo_id    INTEGER NOT NULL,
    write_date TEXT,                                      -- as Odoo sends it
    active     INTEGER NOT NULL DEFAULT 1,
    deleted    INTEGER NOT NULL DEFAULT 0,                -- tombstone: gone from Odoo
    data       TEXT NOT NULL CHECK (json_valid(data)),    -- the record exactly as Odoo returned it
    data_hash  INTEGER NOT NULL,
    pulled_at  TEXT NOT NULL,
    PRIMARY KEY (model, odoo_id)
);

CREATE TABLE plane_records (
    kind       TEXT NOT NULL,                             -- project, state, label, member, issue, cycle, module
    plane_id   TEXT NOT NULL,
    project_id TEXT,
    updated_at TEXT,                                      -- normalised to UTC
    deleted    INTEGER NOT NULL DEFAULT 0,
    data       TEXT NOT NULL CHECK (json_valid(data)),
    data_hash  INTEGER NOT NULL,
    pulled_at  TEXT NOT NULL,
    PRIMARY KEY (kind, plane_id)
);

CREATE TABLE pull_cursors (
    source       TEXT NOT NULL,                           -- odoo | plane
    model        TEXT NOT NULL,
    write_date   TEXT,                                    -- every record written before it is in the mirror
    full_last_id INTEGER,                                 -- set while a full pass (by id) is under way
    full_since   TEXT,                                    -- newest write_date when that pass began
    last_run_at  TEXT,
    last_full_at TEXT,
    PRIMARY KEY (source, model)
);

-- ---------------------------------------------------------------------------
-- Local work.
-- ---------------------------------------------------------------------------

-- One pending edit per lead; later edits merge into it.
CREATE TABLE local_edits (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id         TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    odoo_model      TEXT NOT NULL DEFAULT 'crm.lead',
    odoo_id         INTEGER NOT NULL,
    changes         TEXT NOT NULL CHECK (json_valid(changes)),   -- {"stage": "won", "probability": 100, ...}
    base_write_date TEXT,                                        -- Odoo write_date the edit was made against
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'conflict', 'pushed', 'discarded')),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    pushed_at       TEXT,
    last_error      TEXT
);
CREATE UNIQUE INDEX local_edits_open ON local_edits (lead_id) WHERE status IN ('pending', 'conflict');

CREATE TABLE conflicts (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    entity            TEXT NOT NULL,                      -- lead, issue, task, ...
    entity_id         TEXT NOT NULL,
    edit_id           INTEGER REFERENCES local_edits (id) ON DELETE SET NULL,
    odoo_model        TEXT,
    odoo_id           INTEGER,
    local_data        TEXT NOT NULL CHECK (json_valid(local_data)),
    remote_data       TEXT NOT NULL CHECK (json_valid(remote_data)),
    base_write_date   TEXT,
    remote_write_date TEXT,
    status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolution        TEXT,
    created_at        TEXT NOT NULL,
    resolved_at       TEXT
);
CREATE UNIQUE INDEX conflicts_open ON conflicts (entity, entity_id) WHERE status = 'open';

CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    source       TEXT NOT NULL CHECK (source IN ('plane', 'odoo')),
    delivery_id  TEXT NOT NULL,
    event        TEXT,
    action       TEXT,
    body         BLOB NOT NULL,
    status       TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processing', 'processed', 'failed')),
    received_at  TEXT NOT NULL,
    processed_at TEXT,
    last_error   TEXT,
    UNIQUE (source, delivery_id)
);

CREATE TABLE export_watermarks (
    target     TEXT PRIMARY KEY,                          -- e.g. "ops.events"
    last_value TEXT,
    updated_at TEXT NOT NULL
);

-- Settings kept with the data: maps and options that `odoosync config` shows and changes.
CREATE TABLE stage_map (
    odoo_stage TEXT PRIMARY KEY,                          -- Odoo stage name, trimmed and lowercased
    stage      TEXT NOT NULL
);

CREATE TABLE priority_map (
    odoo_priority TEXT PRIMARY KEY CHECK (odoo_priority IN ('0', '1', '2', '3')),
    priority      TEXT NOT NULL CHECK (priority IN ('high', 'medium', 'low'))
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
