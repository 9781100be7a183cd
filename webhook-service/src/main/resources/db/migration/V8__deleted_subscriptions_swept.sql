-- A deleted subscription leaves a tombstone; SubscriptionSweeper removes its deliveries (and their attempts) in small
-- batches, each its own transaction, then the tombstone. Deleting them in the deletion's own transaction held the
-- subscription's row, and with it every key's intake (which locks the subscriptions it inserts for), for as long as
-- a large backlog took to delete: tens of seconds for a million deliveries.
CREATE TABLE deleted_subscription (
    id         VARCHAR(40) PRIMARY KEY,
    deleted_at TIMESTAMPTZ NOT NULL
);
-- Deliveries whose subscription is gone, if any (a deletion by a replica of the previous version, which relied on
-- the foreign key's cascade that V7 dropped): swept as well.
INSERT INTO deleted_subscription (id, deleted_at)
SELECT DISTINCT d.subscription_id, now() FROM delivery d
WHERE NOT EXISTS (SELECT 1 FROM subscription s WHERE s.id = d.subscription_id);
