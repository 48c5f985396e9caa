-- `odoosync serve`: the record a delivery names (read from the body once, when it is
-- received), retries for deliveries whose processing failed, and an index that keeps the
-- worker's "oldest unprocessed delivery" query cheap however many processed deliveries the
-- table holds.

ALTER TABLE webhook_deliveries ADD COLUMN record_id TEXT;         -- Plane: data.id; Odoo: record_id
ALTER TABLE webhook_deliveries ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_deliveries ADD COLUMN next_attempt_at TEXT;   -- ISO-8601 UTC; NULL = due now

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (id) WHERE status = 'received';
