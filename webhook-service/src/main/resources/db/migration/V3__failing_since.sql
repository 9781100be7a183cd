-- When a subscription's deliveries started failing without a success since; cleared by any success.
ALTER TABLE subscription ADD COLUMN failing_since TIMESTAMPTZ;
