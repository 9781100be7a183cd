-- Idempotency log of the public-event consumer: one row per CloudEvent id taken in.
CREATE TABLE received_event (
    event_id    VARCHAR(200) PRIMARY KEY,
    type        VARCHAR(100) NOT NULL,
    subject     VARCHAR(300),
    received_at TIMESTAMPTZ  NOT NULL
);
CREATE INDEX received_event_received_at ON received_event (received_at);
