-- Registered database clusters and the records of the credentials issued
-- for them (GetClusterCredentials), which the reaper works through. Times
-- are microseconds since the Unix epoch (UTC) in INTEGER columns, as in
-- 0001.
--
-- Cluster identifiers, login roles and database users are case-sensitive
-- (PostgreSQL's and Redshift's rules): they are stored as given and compared
-- with the default BINARY collation, so uniqueness is exact and listings
-- sort byte-wise. A credential refers to its cluster without any cascade:
-- a cluster whose credentials are not all dropped cannot be deleted (the
-- store deletes the dropped ones with it, in one transaction).

CREATE TABLE clusters (
    identifier            TEXT    NOT NULL PRIMARY KEY,
    engine                TEXT    NOT NULL,
    address               TEXT    NOT NULL,
    port                  INTEGER NOT NULL,
    admin_url             TEXT    NOT NULL,              -- without the password
    sealed_admin_password BLOB    NOT NULL,              -- sealed by the keyring; may be empty
    default_database      TEXT    NOT NULL,
    source                TEXT    NOT NULL,              -- "config" or "api"
    capabilities          TEXT    NOT NULL DEFAULT '',   -- JSON report of the last verification, verbatim
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    tags                  TEXT    NOT NULL DEFAULT '{}'  -- JSON object
) STRICT;

-- One row per GetClusterCredentials result; never the password. groups is
-- a JSON array of group names in the order they were asked for (one column
-- rather than a child table: a credential's groups are written once with it
-- and only ever read whole, or unnested by ActiveGroups with json_each).
-- next_attempt_at is the reaper's backoff and the end of a claim's lease;
-- claim_owner is the owner of the last claim.
CREATE TABLE issued_credentials (
    id              TEXT    NOT NULL PRIMARY KEY,
    cluster         TEXT    NOT NULL REFERENCES clusters (identifier),
    login_role      TEXT    NOT NULL,
    db_user         TEXT    NOT NULL,
    db_name         TEXT    NOT NULL DEFAULT '',   -- '' for all databases
    groups          TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(groups) AND json_type(groups) = 'array'),
    auto_create     INTEGER NOT NULL DEFAULT 0 CHECK (auto_create IN (0, 1)),
    principal       TEXT    NOT NULL,
    request_id      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('issuing', 'active', 'revoking', 'dropped', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    dropped_at      INTEGER,                        -- NULL: not dropped
    claim_owner     TEXT    NOT NULL DEFAULT '',    -- '' : never claimed
    UNIQUE (cluster, login_role)
) STRICT;

-- The reaper's work list (ClaimDueCredentials) and PurgeCredentials.
CREATE INDEX issued_credentials_due ON issued_credentials (state, next_attempt_at, expires_at);
-- ActiveGroups: the unexpired credentials of one database user.
CREATE INDEX issued_credentials_by_user ON issued_credentials (cluster, db_user, expires_at);
