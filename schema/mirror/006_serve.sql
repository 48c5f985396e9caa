-- `odoosync serve`: retries for webhook deliveries whose processing failed, and an index
-- that keeps the worker's "oldest unprocessed delivery" query cheap however many
-- processed deliveries the table holds.

ALTER TABLE webhook_deliveries ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_deliveries ADD COLUMN next_attempt_at TEXT;   -- ISO-8601 UTC; NULL = due now

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (id) WHERE status = 'received';
