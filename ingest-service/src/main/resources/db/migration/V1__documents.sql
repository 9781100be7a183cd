-- Documents and their lifecycle. Metadata is the caller's JSON object; department and confidential are
-- copied out of it because permissions filter on them.
CREATE TABLE document (
    id              VARCHAR(64)  PRIMARY KEY,
    collection      VARCHAR(128) NOT NULL,
    filename        VARCHAR(512),
    department      VARCHAR(128),
    confidential    BOOLEAN      NOT NULL DEFAULT FALSE,
    metadata_json   TEXT         NOT NULL DEFAULT '{}',
    content_type    VARCHAR(255),
    size_bytes      BIGINT       NOT NULL,
    sha256          CHAR(64)     NOT NULL,
    pages           INTEGER,
    status          VARCHAR(16)  NOT NULL,
    error           TEXT,
    chunks_count    INTEGER      NOT NULL DEFAULT 0,
    content_version INTEGER      NOT NULL DEFAULT 1,
    blob_key        VARCHAR(256),
    uploaded_by     VARCHAR(64)  NOT NULL,
    upload_time     TIMESTAMPTZ  NOT NULL,
    updated_at      TIMESTAMPTZ  NOT NULL,
    indexed_at      TIMESTAMPTZ,
    row_version     BIGINT       NOT NULL DEFAULT 0
);
CREATE INDEX document_collection_upload ON document (collection, upload_time DESC, id);
CREATE INDEX document_processing ON document (status, updated_at) WHERE status = 'PROCESSING';
CREATE UNIQUE INDEX document_same_bytes ON document (collection, sha256);
