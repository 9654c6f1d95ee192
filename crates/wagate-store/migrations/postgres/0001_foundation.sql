-- Organizations, sessions and API keys (api.md §2.2, decisions.md D2). Times are epoch-ms.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
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
    is_admin_session    BOOLEAN NOT NULL DEFAULT FALSE,
    auto_read           BOOLEAN NOT NULL,
    presence_typing     BOOLEAN NOT NULL,
    rate_per_min        INTEGER NOT NULL,
    rate_per_hour       INTEGER NOT NULL,
    last_connected_at   BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX sessions_org_created ON sessions (organization_id, created_at DESC, id DESC);

CREATE TABLE api_keys (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    name             TEXT,
    key_hash         TEXT NOT NULL UNIQUE,
    permissions      TEXT NOT NULL,
    sessions         TEXT,
    expires_at       BIGINT,
    enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       BIGINT NOT NULL,
    last_used_at     BIGINT
);
CREATE INDEX api_keys_org ON api_keys (organization_id, id);
