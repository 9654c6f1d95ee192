-- Webhooks and their deliveries (domain.md §10, events.md §5, D5).
CREATE TABLE webhooks (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    session_id       TEXT,
    url              TEXT NOT NULL,
    -- The type list as given (JSON), and as ",a,b," so the event log's append can match it with
    -- LIKE in the same transaction on both backends.
    events           TEXT NOT NULL,
    events_match     TEXT NOT NULL,
    custom_headers   TEXT NOT NULL,
    retry_policy     TEXT NOT NULL,
    active           INTEGER NOT NULL,
    -- AES-256-GCM, the 12-byte nonce first; never returned by the API.
    secret           BLOB,
    failing_since    INTEGER,
    disabled_at      INTEGER,
    disabled_reason  TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX webhooks_org ON webhooks (organization_id, id);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    response_code    INTEGER,
    next_retry_at    INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (webhook_id, event_id)
);
-- The dispatcher's claim reads only what is still due.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (webhook_id, next_retry_at)
    WHERE status IN ('pending', 'failed');
CREATE INDEX webhook_deliveries_due_at ON webhook_deliveries (next_retry_at)
    WHERE status IN ('pending', 'failed');
-- Retention: finished deliveries by age; events still owed to a receiver are kept.
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at)
    WHERE status IN ('delivered', 'dead');
CREATE INDEX webhook_deliveries_open_event ON webhook_deliveries (event_id)
    WHERE status IN ('pending', 'failed');
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id);
