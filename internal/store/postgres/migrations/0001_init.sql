-- Keys and ids use the "C" collation so that listings sort byte-wise, the
-- same on every server and in the SQLite backend.

CREATE TABLE users (
    name_key   text COLLATE "C" NOT NULL PRIMARY KEY, -- lower-cased name: names are unique case-insensitively
    name       text             NOT NULL,
    path       text             NOT NULL,
    id         text COLLATE "C" NOT NULL UNIQUE,
    created_at timestamptz      NOT NULL,
    tags       jsonb            NOT NULL DEFAULT '{}'
);

CREATE TABLE access_keys (
    id            text COLLATE "C" NOT NULL PRIMARY KEY,
    user_key      text COLLATE "C" NOT NULL REFERENCES users (name_key) ON UPDATE CASCADE, -- deleting a user with keys fails
    sealed_secret bytea            NOT NULL,
    status        text             NOT NULL,
    created_at    timestamptz      NOT NULL,
    last_used_at  timestamptz                -- NULL: never used
);

CREATE INDEX access_keys_by_user ON access_keys (user_key, created_at, id);

CREATE TABLE replay (
    namespace  text        NOT NULL,
    id         text        NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (namespace, id)
);

CREATE INDEX replay_by_expiry ON replay (expires_at);

CREATE TABLE claims (
    kind       text        NOT NULL,
    key        text        NOT NULL,
    owner      text        NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (kind, key)
);
