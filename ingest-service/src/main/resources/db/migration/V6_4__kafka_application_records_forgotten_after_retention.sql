-- A record's row is removed once its record cannot be in its topic any more (osfria.ingest.app-record-retention):
-- the sweep looks for the oldest rows, a few hundred at a time.
CREATE INDEX app_record_taken_at ON app_record (taken_at);
