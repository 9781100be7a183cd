-- The sender claims due deliveries subscription by subscription (at most each one's free slots): one index probe each.
CREATE INDEX delivery_due_per_subscription ON delivery (subscription_id, next_attempt_at) WHERE status = 'PENDING';

-- Attempts report a coarse reason, never a raw socket error (it mapped internal hosts and ports): older rows too.
UPDATE delivery_attempt SET error = CASE
    WHEN error LIKE 'no answer within%' THEN 'timeout'
    WHEN error LIKE 'target refused:%' THEN 'refused_by_policy'
    WHEN error LIKE 'the subscription''s secret%' THEN 'secret_unavailable'
    WHEN error LIKE 'the subscription is inactive%' THEN 'subscription_inactive'
    ELSE 'connection_failed' END
  WHERE error IS NOT NULL AND status_code IS NULL AND error NOT IN
    ('timeout', 'refused_by_policy', 'connection_failed', 'secret_unavailable', 'subscription_inactive');
UPDATE delivery_attempt SET error = NULL WHERE status_code IS NOT NULL;
UPDATE delivery SET last_error = CASE
    WHEN last_status IS NOT NULL THEN 'http_' || last_status
    WHEN last_error LIKE 'no answer within%' THEN 'timeout'
    WHEN last_error LIKE 'target refused:%' THEN 'refused_by_policy'
    WHEN last_error LIKE 'the subscription''s secret%' THEN 'secret_unavailable'
    WHEN last_error LIKE 'the subscription is inactive%' THEN 'subscription_inactive'
    ELSE 'connection_failed' END
  WHERE last_error IS NOT NULL;
