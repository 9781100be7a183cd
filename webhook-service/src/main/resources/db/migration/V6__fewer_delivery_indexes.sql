-- Every delivery writes each of its table's indexes at least twice (inserted, then its outcome): keep only those read.
-- A delivery's id is 'msg_' || md5(subscription id || event id), and subscription ids have one length ('wh_' and 24
-- hex digits): the primary key already holds one delivery per (subscription, event), so the second unique index goes
-- (the intake's ON CONFLICT names the primary key).
ALTER TABLE delivery DROP CONSTRAINT IF EXISTS delivery_subscription_id_event_id_key;
-- The sender claims through delivery_due_per_subscription; nothing reads pending deliveries by date alone.
DROP INDEX IF EXISTS delivery_due;
-- Attempts are read by delivery, in time order; their own id is read by nothing.
ALTER TABLE delivery_attempt DROP COLUMN id;
