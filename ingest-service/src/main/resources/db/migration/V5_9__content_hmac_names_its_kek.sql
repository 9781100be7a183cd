-- A content hash names the KEK it was keyed with (<kek id>:<hex>), so that a re-seal after a KEK rotation finds the
-- hashes still keyed by a retired KEK and computes them again under the active one. Older rows keep their bare hex
-- (keyed by whichever KEK was active then): uploads look for both forms, and the re-seal moves them too.
ALTER TABLE document ALTER COLUMN content_hmac TYPE TEXT;
