-- A document submitted by a Kafka application (osfria.app.<name>.documents.v1): its outcome goes to that
-- application's results topic, with the correlation id the record carried. Null for REST uploads.
ALTER TABLE document ADD COLUMN app_name TEXT;
ALTER TABLE document ADD COLUMN app_correlation_id TEXT;
