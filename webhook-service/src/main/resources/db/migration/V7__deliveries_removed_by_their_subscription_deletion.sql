-- A delivery row no longer references its subscription by a foreign key. The check cost a trigger and a lookup of the
-- subscription for every delivery taken in (about a quarter of the intake's time per row), and its cascade made a
-- subscription's deletion lock the subscription, then wait for its deliveries' rows: the sender's outcome write
-- locks deliveries, then notes failures on their subscription, and the two deadlocked (the deletion answered 500).
-- What the key guaranteed is kept by the statements: deliveries are inserted only for subscriptions they lock
-- (FOR KEY SHARE) in the same statement, and SubscriptionRemoval deletes the subscription, then its deliveries,
-- skipping rows the sender holds until it lets them go.
ALTER TABLE delivery DROP CONSTRAINT delivery_subscription_id_fkey;
