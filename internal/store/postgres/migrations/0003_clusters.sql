-- Registered database clusters and the records of the credentials issued
-- for them (GetClusterCredentials), which the reaper works through.
--
-- Cluster identifiers, login roles and database users are case-sensitive
-- (PostgreSQL's and Redshift's rules): they are stored as given in the "C"
-- collation, so uniqueness is exact and listings sort byte-wise, as in the
-- SQLite backend. A credential refers to its cluster without any cascade: a
-- cluster whose credentials are not all dropped cannot be deleted (the store
-- deletes the dropped ones with it, in one transaction).

CREATE TABLE clusters (
    identifier            text COLLATE "C" NOT NULL PRIMARY KEY,
    engine                text             NOT NULL,
    address               text             NOT NULL,
    port                  integer          NOT NULL,
    admin_url             text             NOT NULL,              -- without the password
    sealed_admin_password bytea            NOT NULL,              -- sealed by the keyring; may be empty
    default_database      text             NOT NULL,
    source                text             NOT NULL,              -- 'config' or 'api'
    capabilities          text             NOT NULL DEFAULT '',   -- JSON report of the last verification, verbatim
    created_at            timestamptz      NOT NULL,
    updated_at            timestamptz      NOT NULL,
    tags                  jsonb            NOT NULL DEFAULT '{}'
);

-- One row per GetClusterCredentials result; never the password. groups is
-- a JSON array of group names in the order they were asked for (one column
-- rather than a child table: a credential's groups are written once with it
-- and only ever read whole, or unnested by ActiveGroups with
-- jsonb_array_elements_text). next_attempt_at is the reaper's backoff and
-- the end of a claim's lease; claim_owner is the owner of the last claim.
CREATE TABLE issued_credentials (
    id              text COLLATE "C" NOT NULL PRIMARY KEY,
    cluster         text COLLATE "C" NOT NULL REFERENCES clusters (identifier),
    login_role      text COLLATE "C" NOT NULL,
    db_user         text COLLATE "C" NOT NULL,
    db_name         text             NOT NULL DEFAULT '',   -- '' for all databases
    groups          jsonb            NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(groups) = 'array'),
    auto_create     boolean          NOT NULL DEFAULT false,
    principal       text             NOT NULL,
    request_id      text             NOT NULL,
    created_at      timestamptz      NOT NULL,
    expires_at      timestamptz      NOT NULL,
    state           text             NOT NULL CHECK (state IN ('issuing', 'active', 'revoking', 'dropped', 'failed')),
    attempts        integer          NOT NULL DEFAULT 0,
    next_attempt_at timestamptz      NOT NULL,
    last_error      text             NOT NULL DEFAULT '',
    dropped_at      timestamptz,                            -- NULL: not dropped
    claim_owner     text             NOT NULL DEFAULT '',   -- '': never claimed
    UNIQUE (cluster, login_role)
);

-- The reaper's work list (ClaimDueCredentials) and PurgeCredentials.
CREATE INDEX issued_credentials_due ON issued_credentials (state, next_attempt_at, expires_at);
-- ActiveGroups: the unexpired credentials of one database user.
CREATE INDEX issued_credentials_by_user ON issued_credentials (cluster, db_user, expires_at);
