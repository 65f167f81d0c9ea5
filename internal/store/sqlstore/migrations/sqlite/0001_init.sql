-- Sesame's initial schema (SQLite). Times are Unix nanoseconds (UTC), NULL for the zero time;
-- lists and maps are JSON text; booleans are 0/1.

CREATE TABLE tenant (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    friendly_name        TEXT    NOT NULL,
    default_directory    TEXT    NOT NULL,
    default_audience     TEXT    NOT NULL,
    revoke_deletes_grant INTEGER NOT NULL,
    updated_at           INTEGER
);

CREATE TABLE clients (
    client_id                  TEXT    NOT NULL PRIMARY KEY,
    name                       TEXT    NOT NULL,
    description                TEXT    NOT NULL,
    app_type                   TEXT    NOT NULL,
    secret_hash                TEXT    NOT NULL,
    secret_sealed              BLOB,
    grant_types                TEXT    NOT NULL,
    token_endpoint_auth_method TEXT    NOT NULL,
    id_token_alg               TEXT    NOT NULL,
    id_token_lifetime          INTEGER NOT NULL,
    credentials                TEXT    NOT NULL,
    refresh_token              TEXT    NOT NULL,
    ip_header_trusted          INTEGER NOT NULL,
    metadata                   TEXT    NOT NULL,
    created_at                 INTEGER,
    updated_at                 INTEGER
);
CREATE INDEX clients_by_name ON clients (name, client_id);

CREATE TABLE resource_servers (
    identifier            TEXT    NOT NULL PRIMARY KEY,
    id                    TEXT    NOT NULL UNIQUE,
    name                  TEXT    NOT NULL,
    scopes                TEXT    NOT NULL,
    signing_alg           TEXT    NOT NULL,
    signing_secret_sealed BLOB,
    allow_offline_access  INTEGER NOT NULL,
    token_lifetime        INTEGER NOT NULL,
    token_dialect         TEXT    NOT NULL,
    enforce_policies      INTEGER NOT NULL,
    created_at            INTEGER,
    updated_at            INTEGER
);

CREATE TABLE connections (
    name            TEXT NOT NULL PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    strategy        TEXT NOT NULL,
    enabled_clients TEXT NOT NULL,
    options         TEXT NOT NULL,
    created_at      INTEGER,
    updated_at      INTEGER
);

-- email_key is the lower-cased email and username the exact username, each NULL when empty,
-- so that the unique indexes ignore users without one and FindUser is one index probe each.
CREATE TABLE users (
    id             TEXT    NOT NULL PRIMARY KEY,
    connection     TEXT    NOT NULL,
    email          TEXT    NOT NULL,
    username       TEXT,
    password_hash  TEXT    NOT NULL,
    email_verified INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    nickname       TEXT    NOT NULL,
    picture        TEXT    NOT NULL,
    given_name     TEXT    NOT NULL,
    family_name    TEXT    NOT NULL,
    app_metadata   TEXT    NOT NULL,
    user_metadata  TEXT    NOT NULL,
    blocked        INTEGER NOT NULL,
    permissions    TEXT    NOT NULL,
    logins_count   INTEGER NOT NULL,
    last_login     INTEGER,
    last_ip        TEXT    NOT NULL,
    created_at     INTEGER,
    updated_at     INTEGER,
    email_key      TEXT
);
CREATE UNIQUE INDEX users_by_email ON users (connection, email_key);
CREATE UNIQUE INDEX users_by_username ON users (connection, username);
CREATE INDEX users_by_created ON users (created_at, id);
CREATE INDEX users_by_connection_created ON users (connection, created_at, id);

CREATE TABLE refresh_families (
    id         TEXT NOT NULL PRIMARY KEY,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    connection TEXT NOT NULL,
    audience   TEXT NOT NULL,
    scope      TEXT NOT NULL,
    auth_time  INTEGER,
    amr        TEXT NOT NULL,
    created_at INTEGER,
    expires_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX refresh_families_by_user ON refresh_families (user_id, client_id, created_at);
CREATE INDEX refresh_families_by_expiry ON refresh_families (expires_at);
CREATE INDEX refresh_families_by_revocation ON refresh_families (revoked_at);

CREATE TABLE refresh_tokens (
    hash            TEXT NOT NULL PRIMARY KEY,
    family_id       TEXT NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    created_at      INTEGER,
    idle_expires_at INTEGER,
    rotated_at      INTEGER
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id, idle_expires_at);

-- At most one current and one next key per algorithm: a second node creating keys at the same
-- first start, or a concurrent rotation, fails on this index instead of forking the key set.
CREATE TABLE signing_keys (
    kid            TEXT NOT NULL PRIMARY KEY,
    alg            TEXT NOT NULL,
    state          TEXT NOT NULL,
    private_sealed BLOB,
    created_at     INTEGER,
    activated_at   INTEGER,
    publish_until  INTEGER
);
CREATE UNIQUE INDEX signing_keys_one_per_state ON signing_keys (alg, state) WHERE state IN ('current', 'next');

CREATE TABLE used_once (
    use_key    TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX used_once_by_expiry ON used_once (expires_at);

CREATE TABLE logs (
    id            TEXT NOT NULL PRIMARY KEY,
    date          INTEGER,
    type          TEXT NOT NULL,
    description   TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    client_name   TEXT NOT NULL,
    connection    TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    ip            TEXT NOT NULL,
    client_ip     TEXT NOT NULL,
    user_agent    TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    audience      TEXT NOT NULL,
    scope         TEXT NOT NULL,
    details       TEXT NOT NULL
);
CREATE INDEX logs_by_date ON logs (date, id);
CREATE INDEX logs_by_type ON logs (type, date, id);
CREATE INDEX logs_by_user ON logs (user_id, date, id);
