-- Actions, Rules and trigger bindings (SQLite). Action secrets are sealed by the application
-- with the key-encryption key before they reach this table.

CREATE TABLE actions (
    name               TEXT    NOT NULL PRIMARY KEY,
    id                 TEXT    NOT NULL UNIQUE,
    code               TEXT    NOT NULL,
    runtime            TEXT    NOT NULL,
    dependencies       TEXT,
    supported_triggers TEXT,
    secrets            TEXT,
    deployed           INTEGER NOT NULL,
    created_at         INTEGER,
    updated_at         INTEGER
);

-- The actions bound to a trigger, run in position order.
CREATE TABLE action_bindings (
    trigger_id   TEXT    NOT NULL,
    position     INTEGER  NOT NULL,
    action_name  TEXT    NOT NULL REFERENCES actions (name) ON DELETE CASCADE,
    display_name TEXT    NOT NULL,
    PRIMARY KEY (trigger_id, position)
);

CREATE TABLE rules (
    name       TEXT    NOT NULL PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    script     TEXT    NOT NULL,
    ord        INTEGER  NOT NULL,
    enabled    INTEGER NOT NULL,
    created_at INTEGER,
    updated_at INTEGER
);

-- One row counting writes to the three tables above, so that nodes re-read them only when
-- they changed.
CREATE TABLE hooks_version (
    id      INTEGER NOT NULL PRIMARY KEY,
    version INTEGER  NOT NULL
);
INSERT INTO hooks_version (id, version) VALUES (1, 0);
