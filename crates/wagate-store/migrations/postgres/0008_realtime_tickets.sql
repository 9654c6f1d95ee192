-- Realtime tickets (events.md §4.4): minted by one node, redeemed once by any node within 30 s.
-- Keyed by the ticket's digest; the subscription is the service's JSON.
CREATE TABLE realtime_tickets (
    ticket_hash   TEXT PRIMARY KEY,
    subscription  TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX realtime_tickets_expiry ON realtime_tickets (expires_at);

-- When a key was revoked, so every server can close the key's open streams even when another
-- process (the CLI, another node) revoked it (events.md §4.6). Only revoked keys are indexed.
ALTER TABLE api_keys ADD COLUMN revoked_at BIGINT;
CREATE INDEX api_keys_revoked ON api_keys (revoked_at) WHERE revoked_at IS NOT NULL;
