-- A record's row outlives its document: deleted, the document leaves the record taken with no document. A record
-- read again after its document was deleted (the consumer group's offsets lost or reset, a rebalance just after the
-- deletion) made the document again: a deleted document, confidential maybe, came back. Now that reading answers
-- nothing and stores nothing.
ALTER TABLE app_record DROP CONSTRAINT app_record_document_id_fkey;
ALTER TABLE app_record ALTER COLUMN document_id DROP NOT NULL;
ALTER TABLE app_record ADD CONSTRAINT app_record_document_id_fkey FOREIGN KEY (document_id) REFERENCES document (id)
    ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE app_record ADD COLUMN taken_at TIMESTAMPTZ NOT NULL DEFAULT now();
