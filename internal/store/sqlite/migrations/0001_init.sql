-- Times are microseconds since the Unix epoch (UTC) in INTEGER columns.

CREATE TABLE users (
    name_key   TEXT    NOT NULL PRIMARY KEY, -- lower-cased name: names are unique case-insensitively
    name       TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    id         TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    tags       TEXT    NOT NULL DEFAULT '{}' -- JSON object
) STRICT;

CREATE TABLE access_keys (
    id            TEXT    NOT NULL PRIMARY KEY,
    user_key      TEXT    NOT NULL REFERENCES users (name_key) ON UPDATE CASCADE, -- deleting a user with keys fails
    sealed_secret BLOB    NOT NULL,
    status        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER          -- NULL: never used
) STRICT;

CREATE INDEX access_keys_by_user ON access_keys (user_key, created_at, id);

CREATE TABLE replay (
    namespace  TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX replay_by_expiry ON replay (expires_at);

CREATE TABLE claims (
    kind       TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;
