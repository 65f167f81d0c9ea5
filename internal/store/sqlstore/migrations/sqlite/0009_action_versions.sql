-- Action versions (what each deployment snapshotted; the action row is the draft) and the
-- rules configuration values (sealed by the application with the key-encryption key).

CREATE TABLE action_versions (
    id                 TEXT    NOT NULL PRIMARY KEY,
    action_id          TEXT    NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
    number             INTEGER  NOT NULL,
    code               TEXT    NOT NULL,
    runtime            TEXT    NOT NULL,
    dependencies       TEXT,
    supported_triggers TEXT,
    created_at         INTEGER,
    UNIQUE (action_id, number)
);

ALTER TABLE actions ADD COLUMN deployed_version TEXT NOT NULL DEFAULT '';

-- A deployed action of before this migration ran its draft: that draft becomes its version 1.
INSERT INTO action_versions (id, action_id, number, code, runtime, dependencies, supported_triggers, created_at)
    SELECT 'ver_' || id, id, 1, code, runtime, dependencies, supported_triggers, updated_at FROM actions WHERE deployed;
UPDATE actions SET deployed_version = 'ver_' || id WHERE deployed;

CREATE TABLE rules_configs (
    config_key   TEXT    NOT NULL PRIMARY KEY,
    value_sealed BLOB   NOT NULL,
    created_at   INTEGER,
    updated_at   INTEGER
);
