-- Which record of a Kafka application made which document. A record is read again whenever its offset was not
-- committed (a rebalance, a crash, a redeploy during its fetch): the second reading finds its document here instead
-- of making another. Keyed by the application (its topic's name, never the record's word) and the record's
-- CloudEvent id: one application's ids never meet another's. Inserted in the transaction that inserts the document,
-- before it (hence the deferred check): a concurrent reading's insert waits for that transaction, then finds the
-- record taken. Goes with its document: a record read again after its document was deleted is a new upload.
CREATE TABLE app_record (
    app_name    TEXT        NOT NULL,
    event_id    TEXT        NOT NULL,
    document_id VARCHAR(64) NOT NULL REFERENCES document (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (app_name, event_id)
);
CREATE INDEX app_record_document ON app_record (document_id);
