-- Attack protection (SQLite): the tenant's settings, shared failure counters, token buckets and the
-- breached-password hash list.

ALTER TABLE tenant ADD COLUMN attack_protection TEXT;

-- A failure counter; expires_at (Unix ns) is pushed forward by every failure.
CREATE TABLE guard_counters (
    counter_key TEXT   NOT NULL PRIMARY KEY,
    hits        INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX guard_counters_expires ON guard_counters (expires_at);

-- A token bucket kept as its theoretical arrival time (GCRA): the bucket is full once tat
-- (Unix ns) is not after now.
CREATE TABLE guard_buckets (
    bucket_key TEXT   NOT NULL PRIMARY KEY,
    tat        INTEGER NOT NULL
);
CREATE INDEX guard_buckets_tat ON guard_buckets (tat);

-- SHA-1 hashes of breached passwords, split as in the HIBP range API.
CREATE TABLE breached_hashes (
    prefix TEXT NOT NULL,
    suffix TEXT NOT NULL,
    PRIMARY KEY (prefix, suffix)
);
