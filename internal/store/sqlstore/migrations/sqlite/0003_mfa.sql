-- MFA: the tenant's policy and factors, users' authenticators, paused logins (mfa_token
-- transactions), out-of-band challenges and the per-user factor-failure bucket.

ALTER TABLE tenant ADD COLUMN mfa_policy TEXT NOT NULL DEFAULT '';
ALTER TABLE tenant ADD COLUMN mfa_factors TEXT;

CREATE TABLE mfa_authenticators (
    id            TEXT    NOT NULL PRIMARY KEY,
    user_id       TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    secret_sealed BLOB,
    code_hash     TEXT    NOT NULL,
    confirmed     INTEGER NOT NULL,
    created_at    INTEGER,
    last_step     INTEGER
);
CREATE INDEX mfa_authenticators_user ON mfa_authenticators (user_id, created_at);

-- id is the SHA-256 of the mfa_token; times are Unix ns.
CREATE TABLE mfa_transactions (
    id          TEXT   NOT NULL PRIMARY KEY,
    user_id     TEXT   NOT NULL,
    client_id   TEXT   NOT NULL,
    connection  TEXT   NOT NULL,
    audience    TEXT   NOT NULL,
    scope       TEXT   NOT NULL,
    auth_time   INTEGER,
    created_at  INTEGER,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER
);
CREATE INDEX mfa_transactions_expires ON mfa_transactions (expires_at);

CREATE TABLE mfa_oob_challenges (
    code_hash        TEXT   NOT NULL PRIMARY KEY,
    transaction_id   TEXT   NOT NULL,
    authenticator_id TEXT   NOT NULL,
    binding_hash     TEXT   NOT NULL,
    expires_at       INTEGER NOT NULL,
    used_at          INTEGER
);
CREATE INDEX mfa_oob_challenges_expires ON mfa_oob_challenges (expires_at);

-- A GCRA token bucket of factor failures per user: tat (Unix ns) is its theoretical arrival time.
CREATE TABLE mfa_buckets (
    user_id TEXT   NOT NULL PRIMARY KEY,
    tat     INTEGER NOT NULL
);
