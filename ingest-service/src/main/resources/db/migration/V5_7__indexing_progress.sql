-- How many chunks of the current version embed-service has indexed so far (progress of large documents).
ALTER TABLE document ADD COLUMN chunks_indexed INTEGER NOT NULL DEFAULT 0;
