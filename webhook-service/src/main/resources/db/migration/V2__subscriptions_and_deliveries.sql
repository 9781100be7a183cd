-- Subscriptions belong to the key that created them. The secret is stored sealed (AES-GCM under a key derived
-- from the platform's KEK), never in clear. events is a comma-separated list, or '*'.
CREATE TABLE subscription (
    id              VARCHAR(40)  PRIMARY KEY,
    owner           VARCHAR(64)  NOT NULL,
    url             TEXT         NOT NULL,
    events          TEXT         NOT NULL,
    secret_sealed   TEXT         NOT NULL,
    active          BOOLEAN      NOT NULL,
    disabled_reason TEXT,
    created_at      TIMESTAMPTZ  NOT NULL,
    updated_at      TIMESTAMPTZ  NOT NULL
);
CREATE INDEX subscription_owner ON subscription (owner);

-- One delivery per (subscription, event), recorded in the transaction that takes the event in. The body is kept
-- as the exact bytes that are signed, so every attempt sends the same thing.
CREATE TABLE delivery (
    id              VARCHAR(40)  PRIMARY KEY,
    subscription_id VARCHAR(40)  NOT NULL REFERENCES subscription (id) ON DELETE CASCADE,
    event_id        VARCHAR(200) NOT NULL,
    event_type      VARCHAR(100) NOT NULL,
    body            TEXT         NOT NULL,
    status          VARCHAR(16)  NOT NULL,
    attempts        INTEGER      NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ  NOT NULL,
    lease_until     TIMESTAMPTZ,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TIMESTAMPTZ  NOT NULL,
    finished_at     TIMESTAMPTZ,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX delivery_due ON delivery (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX delivery_subscription ON delivery (subscription_id, created_at DESC);

CREATE TABLE delivery_attempt (
    id           BIGSERIAL    PRIMARY KEY,
    delivery_id  VARCHAR(40)  NOT NULL REFERENCES delivery (id) ON DELETE CASCADE,
    attempted_at TIMESTAMPTZ  NOT NULL,
    status_code  INTEGER,
    duration_ms  INTEGER      NOT NULL,
    error        TEXT
);
CREATE INDEX delivery_attempt_delivery ON delivery_attempt (delivery_id, attempted_at);
