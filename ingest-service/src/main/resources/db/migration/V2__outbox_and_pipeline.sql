-- Events that must leave with a database change are written here in the same transaction, then relayed to
-- Kafka (transactional outbox): a crash between the commit and the send cannot lose them.
CREATE TABLE outbox (
    id         BIGSERIAL    PRIMARY KEY,
    topic      VARCHAR(200) NOT NULL,
    event_key  VARCHAR(200) NOT NULL,
    payload    TEXT         NOT NULL,
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- When the chunks of the current version left for the index, and how many times processing was (re)started.
ALTER TABLE document ADD COLUMN chunked_at TIMESTAMPTZ;
ALTER TABLE document ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
