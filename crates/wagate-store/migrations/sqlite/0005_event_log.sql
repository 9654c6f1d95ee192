-- The durable event log (events.md §2, D5): envelopes as sent, replayed by realtime streams.
-- Ids are time-ordered ULIDs, so "after an id" is a range scan.
CREATE TABLE event_log (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    session_id       TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    envelope         TEXT NOT NULL
);
CREATE INDEX event_log_org ON event_log (organization_id, id);
CREATE INDEX event_log_session ON event_log (organization_id, session_id, id);
CREATE INDEX event_log_created ON event_log (created_at);
