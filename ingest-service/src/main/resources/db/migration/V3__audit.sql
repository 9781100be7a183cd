-- Every audit record of the platform (all services publish to the audit topic), kept for admins to query.
CREATE TABLE audit_record (
    event_id   VARCHAR(200) PRIMARY KEY,
    service    VARCHAR(64)  NOT NULL,
    key_name   VARCHAR(64)  NOT NULL,
    action     VARCHAR(64)  NOT NULL,
    target     VARCHAR(200),
    collection VARCHAR(128),
    outcome    VARCHAR(32)  NOT NULL,
    at         TIMESTAMPTZ  NOT NULL,
    detail     TEXT
);
CREATE INDEX audit_record_at ON audit_record (at DESC);
CREATE INDEX audit_record_key_at ON audit_record (key_name, at DESC);
CREATE INDEX audit_record_action_at ON audit_record (action, at DESC);
