-- Groups (global), each session's memberships of them, and whether the session itself is
-- still in the group (domain.md §8; `group_sessions` is wagate's: a session that left keeps
-- reading the group). Times are epoch-ms.
CREATE TABLE groups (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_jid          TEXT NOT NULL UNIQUE,
    subject            TEXT,
    description        TEXT,
    owner_jid          TEXT,
    participant_count  BIGINT,
    is_announce        BOOLEAN,
    is_locked          BOOLEAN,
    created_at_wa      BIGINT,
    first_seen_at      BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE TABLE group_sessions (
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    group_jid   TEXT NOT NULL,
    joined_at   BIGINT NOT NULL,
    left_at     BIGINT,
    PRIMARY KEY (session_id, group_jid)
);

CREATE TABLE group_members (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    group_jid      TEXT NOT NULL,
    lid            TEXT NOT NULL,
    tag            TEXT,
    role           TEXT NOT NULL,
    first_seen_at  BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    UNIQUE (session_id, group_jid, lid)
);
CREATE INDEX group_members_lid ON group_members (lid);
