-- Organizations, sessions and API keys (api.md §2.2, decisions.md D2). Times are epoch-ms.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX organizations_name ON organizations (name);

CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES organizations (id),
    created_by_user_id  TEXT,
    gateway_id          TEXT NOT NULL,
    label               TEXT,
    status              TEXT NOT NULL,
    status_reason       TEXT,
    wa_jid              TEXT UNIQUE,
    wa_lid              TEXT,
    phone_number        TEXT,
    is_admin_session    INTEGER NOT NULL DEFAULT 0,
    auto_read           INTEGER NOT NULL,
    presence_typing     INTEGER NOT NULL,
    rate_per_min        INTEGER NOT NULL,
    rate_per_hour       INTEGER NOT NULL,
    last_connected_at   INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX sessions_org_created ON sessions (organization_id, created_at DESC, id DESC);

CREATE TABLE api_keys (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    name             TEXT,
    key_hash         TEXT NOT NULL UNIQUE,
    permissions      TEXT NOT NULL,
    sessions         TEXT,
    expires_at       INTEGER,
    enabled          INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    last_used_at     INTEGER
);
CREATE INDEX api_keys_org ON api_keys (organization_id, id);
