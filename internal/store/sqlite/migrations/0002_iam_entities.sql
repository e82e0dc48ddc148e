-- IAM entities: the users' permissions boundary, groups and their members,
-- roles, inline policies, managed policies with their versions and
-- attachments, and SAML providers. Times are microseconds since the Unix
-- epoch (UTC) in INTEGER columns, as in 0001.
--
-- Principals (users, groups, roles) are referred to by their lower-cased name
-- key with ON UPDATE CASCADE, so a rename carries memberships, inline
-- policies and attachments along. No reference cascades on delete: deleting
-- anything that is still referred to fails, which the store reports as
-- ErrConflict (it checks first to name the causes; the keys are the
-- backstop). Documents are TEXT, stored verbatim.

ALTER TABLE users ADD COLUMN permissions_boundary TEXT NOT NULL DEFAULT ''; -- managed policy ARN, '' for none

CREATE TABLE groups (
    name_key   TEXT    NOT NULL PRIMARY KEY, -- lower-cased name
    name       TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    id         TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE group_members (
    group_key TEXT NOT NULL REFERENCES groups (name_key) ON UPDATE CASCADE,
    user_key  TEXT NOT NULL REFERENCES users (name_key) ON UPDATE CASCADE,
    PRIMARY KEY (group_key, user_key)
) STRICT, WITHOUT ROWID;

CREATE INDEX group_members_by_user ON group_members (user_key, group_key);

CREATE TABLE roles (
    name_key             TEXT    NOT NULL PRIMARY KEY, -- lower-cased name
    name                 TEXT    NOT NULL,
    path                 TEXT    NOT NULL,
    id                   TEXT    NOT NULL UNIQUE,
    description          TEXT    NOT NULL DEFAULT '',
    assume_role_policy   TEXT    NOT NULL,             -- trust policy JSON, verbatim
    max_session_duration INTEGER NOT NULL,             -- seconds
    permissions_boundary TEXT    NOT NULL DEFAULT '',  -- managed policy ARN, '' for none
    created_at           INTEGER NOT NULL,
    tags                 TEXT    NOT NULL DEFAULT '{}' -- JSON object
) STRICT;

-- A managed policy and its versions refer to each other: every version
-- belongs to a policy, and the policy's default version exists (checked at
-- commit, so a policy and its v1 are created in one transaction). Versions
-- are numbered 1, 2, …; last_version is the highest number ever used, so
-- numbers are never reused. Policies cannot be renamed (as in AWS), so the
-- references to them do not cascade on update either.
CREATE TABLE managed_policies (
    name_key        TEXT    NOT NULL PRIMARY KEY, -- lower-cased name
    name            TEXT    NOT NULL,
    path            TEXT    NOT NULL,
    id              TEXT    NOT NULL UNIQUE,
    description     TEXT    NOT NULL DEFAULT '',
    default_version INTEGER NOT NULL,
    last_version    INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    tags            TEXT    NOT NULL DEFAULT '{}', -- JSON object
    CHECK (default_version BETWEEN 1 AND last_version),
    FOREIGN KEY (name_key, default_version) REFERENCES policy_versions (policy_key, version)
        DEFERRABLE INITIALLY DEFERRED
) STRICT;

CREATE TABLE policy_versions (
    policy_key TEXT    NOT NULL REFERENCES managed_policies (name_key),
    version    INTEGER NOT NULL CHECK (version >= 1),
    document   TEXT    NOT NULL, -- JSON, verbatim
    created_at INTEGER NOT NULL,
    PRIMARY KEY (policy_key, version)
) STRICT, WITHOUT ROWID;

-- Inline policies and attachments belong to exactly one user, group or role:
-- one of the three owner columns is set.
CREATE TABLE inline_policies (
    user_key  TEXT REFERENCES users (name_key) ON UPDATE CASCADE,
    group_key TEXT REFERENCES groups (name_key) ON UPDATE CASCADE,
    role_key  TEXT REFERENCES roles (name_key) ON UPDATE CASCADE,
    name_key  TEXT NOT NULL, -- lower-cased name: unique per owner
    name      TEXT NOT NULL,
    document  TEXT NOT NULL, -- JSON, verbatim
    CHECK ((user_key IS NOT NULL) + (group_key IS NOT NULL) + (role_key IS NOT NULL) = 1)
) STRICT;

CREATE UNIQUE INDEX inline_policies_of_user ON inline_policies (user_key, name_key);
CREATE UNIQUE INDEX inline_policies_of_group ON inline_policies (group_key, name_key);
CREATE UNIQUE INDEX inline_policies_of_role ON inline_policies (role_key, name_key);

CREATE TABLE policy_attachments (
    user_key   TEXT REFERENCES users (name_key) ON UPDATE CASCADE,
    group_key  TEXT REFERENCES groups (name_key) ON UPDATE CASCADE,
    role_key   TEXT REFERENCES roles (name_key) ON UPDATE CASCADE,
    policy_key TEXT NOT NULL REFERENCES managed_policies (name_key),
    CHECK ((user_key IS NOT NULL) + (group_key IS NOT NULL) + (role_key IS NOT NULL) = 1)
) STRICT;

CREATE UNIQUE INDEX policy_attachments_of_user ON policy_attachments (user_key, policy_key);
CREATE UNIQUE INDEX policy_attachments_of_group ON policy_attachments (group_key, policy_key);
CREATE UNIQUE INDEX policy_attachments_of_role ON policy_attachments (role_key, policy_key);
CREATE INDEX policy_attachments_by_policy ON policy_attachments (policy_key);

CREATE TABLE saml_providers (
    name_key          TEXT    NOT NULL PRIMARY KEY, -- lower-cased name
    name              TEXT    NOT NULL,
    metadata_document TEXT    NOT NULL,             -- XML, verbatim
    created_at        INTEGER NOT NULL,
    valid_until       INTEGER,                      -- NULL: does not expire
    tags              TEXT    NOT NULL DEFAULT '{}' -- JSON object
) STRICT;
