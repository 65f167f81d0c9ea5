-- Client grants (PostgreSQL): which client may get client-credentials tokens for
-- which API, and with which scopes at most. One grant per client and API; deleting either
-- deletes its grants.

CREATE TABLE client_grants (
    id         TEXT    NOT NULL PRIMARY KEY,
    client_id  TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    audience   TEXT    NOT NULL REFERENCES resource_servers (identifier) ON DELETE CASCADE,
    scope      TEXT    NOT NULL,
    created_at BIGINT,
    updated_at BIGINT,
    UNIQUE (client_id, audience)
);
CREATE INDEX client_grants_by_audience ON client_grants (audience);
