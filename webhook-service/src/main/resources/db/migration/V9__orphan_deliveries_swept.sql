-- Deliveries whose subscription is gone and whose tombstone is gone too: on the version before this one, a replay
-- racing a deletion could turn a deleted subscription's delivery back to pending after SubscriptionSweeper had
-- removed the tombstone. Nothing would ever sweep them; V8's catch-up, run again, gives them a tombstone.
INSERT INTO deleted_subscription (id, deleted_at)
SELECT DISTINCT d.subscription_id, now() FROM delivery d
WHERE NOT EXISTS (SELECT 1 FROM subscription s WHERE s.id = d.subscription_id)
ON CONFLICT DO NOTHING;
