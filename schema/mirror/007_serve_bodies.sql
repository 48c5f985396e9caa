-- `odoosync serve`: a delivery's body in a table of its own.
--
-- A 2 KiB body made each delivery row fill a 4 KiB page by itself, so every change of a
-- delivery's state (processed, an attempt counted) rewrote that whole page: marking the
-- 10,000 deliveries of a 5-second burst wrote 40 MB to the write-ahead log and held the
-- write lock for 150-200 ms, while acknowledgements waited for it. A body is written once,
-- when the delivery is received, and never changed; the row that changes is now ~150 bytes.
CREATE TABLE webhook_delivery_bodies (
    delivery INTEGER PRIMARY KEY REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    body     BLOB NOT NULL
);

INSERT INTO webhook_delivery_bodies (delivery, body) SELECT id, body FROM webhook_deliveries;

ALTER TABLE webhook_deliveries DROP COLUMN body;
