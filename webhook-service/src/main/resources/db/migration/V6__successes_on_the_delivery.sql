-- A delivery that succeeds keeps its successful attempt on its own row (last_status, last_duration_ms, finished_at)
-- rather than in a delivery_attempt row: a success no longer costs an insert, two index entries and a foreign-key
-- check. Failed attempts keep their rows (the history retries build up). Deliveries that succeeded before this keep
-- their attempt rows: their last_duration_ms is null, which is how the history tells the two apart.
ALTER TABLE delivery ADD COLUMN last_duration_ms INTEGER;
-- The claim's per-subscription index answers what this one did, the backlog's gauges (count and oldest, every 10 s),
-- and with created_at in it without reading the table: one index entry less per row.
DROP INDEX delivery_due;
DROP INDEX delivery_due_per_subscription;
CREATE INDEX delivery_due_per_subscription ON delivery (subscription_id, next_attempt_at) INCLUDE (created_at)
    WHERE status = 'PENDING';
-- A delivery's id is derived from its subscription and its event ('msg_' || md5 of both; subscription ids have a
-- fixed length): the primary key already makes the pair unique, and a second unique index cost an entry per row.
ALTER TABLE delivery DROP CONSTRAINT delivery_subscription_id_event_id_key;
