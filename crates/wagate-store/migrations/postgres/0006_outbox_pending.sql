-- The outbox worker's sweep looks for sessions with pending sends every few seconds; outbox rows
-- are never pruned, so it reads a small partial index instead of every row ever sent.
CREATE INDEX outbox_pending ON outbox (session_id) WHERE status IN ('queued', 'sending');
