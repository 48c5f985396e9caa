-- What `odoosync export` still owes Supabase.
--
-- Appended-only rows (events, sync_log) carry their own `seq`. Every other published table
-- changes in place, so triggers note each insert and update in `export_changes`: its rowid is
-- the order the changes committed in (SQLite has one writer at a time), which makes a
-- watermark that no clock step, no writer that forgets a timestamp and no Plane sync code
-- written later can get wrong. The export deletes what it has sent, but always keeps the
-- newest row, so that a new change never reuses a rowid at or below the watermark.

CREATE TABLE export_changes (
    seq    INTEGER PRIMARY KEY,
    tbl    TEXT NOT NULL,
    row_id TEXT NOT NULL
);

CREATE TRIGGER runs_export_insert AFTER INSERT ON runs
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('runs', NEW.id); END;
CREATE TRIGGER runs_export_update AFTER UPDATE ON runs
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('runs', NEW.id); END;

CREATE TRIGGER sync_config_export_insert AFTER INSERT ON sync_config
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('sync_config', NEW.id); END;
CREATE TRIGGER sync_config_export_update AFTER UPDATE ON sync_config
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('sync_config', NEW.id); END;

CREATE TRIGGER sync_mappings_export_insert AFTER INSERT ON sync_mappings
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('sync_mappings', NEW.id); END;
CREATE TRIGGER sync_mappings_export_update AFTER UPDATE ON sync_mappings
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('sync_mappings', NEW.id); END;

CREATE TRIGGER sync_queue_export_insert AFTER INSERT ON sync_queue
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('sync_queue', NEW.id); END;
CREATE TRIGGER sync_queue_export_update AFTER UPDATE ON sync_queue
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('sync_queue', NEW.id); END;

CREATE TRIGGER customers_export_insert AFTER INSERT ON customers
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('customers', NEW.id); END;
CREATE TRIGGER customers_export_update AFTER UPDATE ON customers
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('customers', NEW.id); END;

CREATE TRIGGER contacts_export_insert AFTER INSERT ON contacts
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('contacts', NEW.id); END;
CREATE TRIGGER contacts_export_update AFTER UPDATE ON contacts
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('contacts', NEW.id); END;

CREATE TRIGGER leads_export_insert AFTER INSERT ON leads
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('leads', NEW.id); END;
CREATE TRIGGER leads_export_update AFTER UPDATE ON leads
BEGIN INSERT INTO export_changes (tbl, row_id) VALUES ('leads', NEW.id); END;

-- A mirror that predates this migration owes everything it holds.
INSERT INTO export_changes (tbl, row_id) SELECT 'runs', id FROM runs ORDER BY started_at, id;
INSERT INTO export_changes (tbl, row_id) SELECT 'sync_config', id FROM sync_config ORDER BY created_at, id;
INSERT INTO export_changes (tbl, row_id) SELECT 'sync_mappings', id FROM sync_mappings ORDER BY created_at, id;
INSERT INTO export_changes (tbl, row_id) SELECT 'sync_queue', id FROM sync_queue ORDER BY created_at, id;
INSERT INTO export_changes (tbl, row_id) SELECT 'customers', id FROM customers ORDER BY created_at, id;
INSERT INTO export_changes (tbl, row_id) SELECT 'contacts', id FROM contacts ORDER BY created_at, id;
INSERT INTO export_changes (tbl, row_id) SELECT 'leads', id FROM leads ORDER BY created_at, id;

-- One row per export attempt, for `status`. Not published itself: an export that recorded
-- itself in `runs` would always owe its own last row.
CREATE TABLE export_runs (
    id         TEXT PRIMARY KEY,                          -- uuid
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    status     TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'success', 'failed')),
    target     TEXT,                                      -- host:port/database, never the password
    summary    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(summary)),
    error      TEXT
);
