-- Management API users, jobs and logs: users-by-email looks an email up across connections
-- (the unique index leads with the connection, so it cannot serve that), and background
-- users-imports/exports jobs keep their input, state and result here, so that any node can
-- answer GET /api/v2/jobs/{id} and serve an export's file.

CREATE INDEX users_by_email_key ON users (email_key);

CREATE TABLE jobs (
    id            TEXT NOT NULL PRIMARY KEY,
    type          TEXT NOT NULL,
    status        TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    connection    TEXT NOT NULL,
    params        TEXT NOT NULL,
    summary       TEXT NOT NULL,
    errors        TEXT NOT NULL,
    input         BYTEA,
    result        BYTEA,
    created_at    BIGINT,
    updated_at    BIGINT
);
