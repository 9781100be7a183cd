-- Confidential documents: the per-version data key, wrapped by the key-encryption key named in its prefix.
ALTER TABLE document ADD COLUMN wrapped_key TEXT;
