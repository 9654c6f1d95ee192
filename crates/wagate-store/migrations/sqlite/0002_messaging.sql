-- Chats, messages, identities, polls and the outbox (domain.md §5–§7, §9, §11). Times are
-- epoch-ms. JSON columns are TEXT.
CREATE TABLE identities (
    id             INTEGER PRIMARY KEY,
    lid            TEXT NOT NULL UNIQUE,
    phone_number   TEXT,
    phone_jid      TEXT,
    name           TEXT,
    business_name  TEXT,
    first_seen_at  INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX identities_phone_jid ON identities (phone_jid);

CREATE TABLE chats (
    id               INTEGER PRIMARY KEY,
    session_id       TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    chat_jid         TEXT NOT NULL,
    type             TEXT NOT NULL,
    name             TEXT,
    last_message_at  INTEGER,
    unread_count     INTEGER NOT NULL DEFAULT 0,
    archived         INTEGER NOT NULL DEFAULT 0,
    pinned           INTEGER NOT NULL DEFAULT 0,
    muted_until      INTEGER,
    UNIQUE (session_id, chat_jid)
);
CREATE INDEX chats_inbox ON chats (session_id, last_message_at DESC, id DESC);

CREATE TABLE messages (
    id                 TEXT PRIMARY KEY,
    session_id         TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    wa_message_id      TEXT NOT NULL,
    chat_jid           TEXT NOT NULL,
    sender_lid         TEXT,
    sender_jid         TEXT,
    from_me            INTEGER NOT NULL,
    type               TEXT NOT NULL,
    body               TEXT,
    quoted_message_id  TEXT,
    mentions           TEXT,
    has_media          INTEGER NOT NULL,
    media_meta         TEXT,
    media_ref          TEXT,
    status             TEXT,
    error              TEXT,
    edited             INTEGER NOT NULL DEFAULT 0,
    deleted            INTEGER NOT NULL DEFAULT 0,
    timestamp          INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    UNIQUE (session_id, wa_message_id)
);
CREATE INDEX messages_timeline ON messages (session_id, chat_jid, id);
CREATE INDEX messages_sender ON messages (sender_lid);

CREATE TABLE polls (
    session_id        TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    poll_message_id   TEXT NOT NULL,
    chat_jid          TEXT NOT NULL,
    spec              TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (session_id, poll_message_id)
);

CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    session_id       TEXT NOT NULL,
    idempotency_key  TEXT,
    fingerprint      TEXT,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    wa_message_id    TEXT,
    error            TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (organization_id, idempotency_key)
);
CREATE INDEX outbox_queue ON outbox (session_id, status, id);
