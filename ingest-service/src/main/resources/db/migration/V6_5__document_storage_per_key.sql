-- Each key's stored bytes are summed at each of its uploads (its storage quota): from an index, not a table scan.
-- CONCURRENTLY: writes go on while a large table is indexed (Flyway runs these statements outside a transaction, and
-- holds its own lock outside one: MigrationLock). A build cut short leaves an invalid index behind: dropped first,
-- should this script be run again once repaired.
DROP INDEX CONCURRENTLY IF EXISTS document_uploaded_by;
CREATE INDEX CONCURRENTLY document_uploaded_by ON document (uploaded_by) INCLUDE (size_bytes);
