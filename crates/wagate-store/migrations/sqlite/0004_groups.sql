-- Groups (global), each session's memberships of them, and whether the session itself is
-- still in the group (domain.md §8; `group_sessions` is wagate's: a session that left keeps
-- reading the group). Times are epoch-ms.
CREATE TABLE groups (
    id                 INTEGER PRIMARY KEY,
    group_jid          TEXT NOT NULL UNIQUE,
    subject            TEXT,
    description        TEXT,
    owner_jid          TEXT,
    participant_count  INTEGER,
    is_announce        INTEGER,
    is_locked          INTEGER,
    created_at_wa      INTEGER,
    first_seen_at      INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE group_sessions (
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    group_jid   TEXT NOT NULL,
    joined_at   INTEGER NOT NULL,
    left_at     INTEGER,
    PRIMARY KEY (session_id, group_jid)
);

CREATE TABLE group_members (
    id             INTEGER PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    group_jid      TEXT NOT NULL,
    lid            TEXT NOT NULL,
    tag            TEXT,
    role           TEXT NOT NULL,
    first_seen_at  INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    UNIQUE (session_id, group_jid, lid)
);
CREATE INDEX group_members_lid ON group_members (lid);
