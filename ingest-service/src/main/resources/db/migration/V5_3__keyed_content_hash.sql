-- Duplicate detection compares a keyed hash of the bytes (HMAC-SHA256 under a key derived from the KEK), never
-- their plain SHA-256, which let whoever reads this table confirm a guessed file. Rows stored before have no
-- keyed hash (null): they are no longer found as duplicates, and an upload of the same bytes makes a new
-- document. Not unique: the same bytes may sit in documents of different audiences, each key seeing only its own.
ALTER TABLE document ADD COLUMN content_hmac CHAR(64);
DROP INDEX document_same_bytes;
ALTER TABLE document DROP COLUMN sha256;
CREATE INDEX document_same_content ON document (collection, content_hmac) WHERE content_hmac IS NOT NULL;
-- A confidential document's file name is stored sealed (base64 of AES-GCM), longer than the clear name.
ALTER TABLE document ALTER COLUMN filename TYPE TEXT;
