-- Chats, messages, identities, polls and the outbox (domain.md §5–§7, §9, §11). Times are
-- epoch-ms. JSON columns are TEXT.
CREATE TABLE identities (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lid            TEXT NOT NULL UNIQUE,
    phone_number   TEXT,
    phone_jid      TEXT,
    name           TEXT,
    business_name  TEXT,
    first_seen_at  BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX identities_phone_jid ON identities (phone_jid);

CREATE TABLE chats (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id       TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    chat_jid         TEXT NOT NULL,
    type             TEXT NOT NULL,
    name             TEXT,
    last_message_at  BIGINT,
    unread_count     BIGINT NOT NULL DEFAULT 0,
    archived         BOOLEAN NOT NULL DEFAULT FALSE,
    pinned           BOOLEAN NOT NULL DEFAULT FALSE,
    muted_until      BIGINT,
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
    from_me            BOOLEAN NOT NULL,
    type               TEXT NOT NULL,
    body               TEXT,
    quoted_message_id  TEXT,
    mentions           TEXT,
    has_media          BOOLEAN NOT NULL,
    media_meta         TEXT,
    media_ref          TEXT,
    status             TEXT,
    error              TEXT,
    edited             BOOLEAN NOT NULL DEFAULT FALSE,
    deleted            BOOLEAN NOT NULL DEFAULT FALSE,
    timestamp          BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    UNIQUE (session_id, wa_message_id)
);
CREATE INDEX messages_timeline ON messages (session_id, chat_jid, id);
CREATE INDEX messages_sender ON messages (sender_lid);

CREATE TABLE polls (
    session_id        TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    poll_message_id   TEXT NOT NULL,
    chat_jid          TEXT NOT NULL,
    spec              TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
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
    attempts         BIGINT NOT NULL DEFAULT 0,
    wa_message_id    TEXT,
    error            TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (organization_id, idempotency_key)
);
CREATE INDEX outbox_queue ON outbox (session_id, status, id);
