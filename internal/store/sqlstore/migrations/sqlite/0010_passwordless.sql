-- Passwordless one-time codes (connections of strategy email and sms): the last code sent to
-- each recipient, as a keyed hash, with its count of tries; times are Unix ns.
CREATE TABLE passwordless_codes (
    connection TEXT    NOT NULL,
    recipient  TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL,
    attempts   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (connection, recipient)
);
CREATE INDEX passwordless_codes_expires ON passwordless_codes (expires_at);
