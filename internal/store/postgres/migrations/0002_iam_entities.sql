-- IAM entities: the users' permissions boundary, groups and their members,
-- roles, inline policies, managed policies with their versions and
-- attachments, and SAML providers. Keys use the "C" collation, as in 0001.
--
-- Principals (users, groups, roles) are referred to by their lower-cased name
-- key with ON UPDATE CASCADE, so a rename carries memberships, inline
-- policies and attachments along. No reference cascades on delete: deleting
-- anything that is still referred to fails, which the store reports as
-- ErrConflict (it checks first, under a row lock, to name the causes; the
-- keys are the backstop). Documents are text (not jsonb), stored verbatim.

ALTER TABLE users ADD COLUMN permissions_boundary text NOT NULL DEFAULT ''; -- managed policy ARN, '' for none

CREATE TABLE groups (
    name_key   text COLLATE "C" NOT NULL PRIMARY KEY, -- lower-cased name
    name       text             NOT NULL,
    path       text             NOT NULL,
    id         text COLLATE "C" NOT NULL UNIQUE,
    created_at timestamptz      NOT NULL
);

CREATE TABLE group_members (
    group_key text COLLATE "C" NOT NULL REFERENCES groups (name_key) ON UPDATE CASCADE,
    user_key  text COLLATE "C" NOT NULL REFERENCES users (name_key) ON UPDATE CASCADE,
    PRIMARY KEY (group_key, user_key)
);

CREATE INDEX group_members_by_user ON group_members (user_key, group_key);

CREATE TABLE roles (
    name_key             text COLLATE "C" NOT NULL PRIMARY KEY, -- lower-cased name
    name                 text             NOT NULL,
    path                 text             NOT NULL,
    id                   text COLLATE "C" NOT NULL UNIQUE,
    description          text             NOT NULL DEFAULT '',
    assume_role_policy   text             NOT NULL,             -- trust policy JSON, verbatim
    max_session_duration integer          NOT NULL,             -- seconds
    permissions_boundary text             NOT NULL DEFAULT '',  -- managed policy ARN, '' for none
    created_at           timestamptz      NOT NULL,
    tags                 jsonb            NOT NULL DEFAULT '{}'
);

-- A managed policy and its versions refer to each other: every version
-- belongs to a policy, and the policy's default version exists (checked at
-- commit, so a policy and its v1 are created in one transaction). Versions
-- are numbered 1, 2, …; last_version is the highest number ever used, so
-- numbers are never reused. Policies cannot be renamed (as in AWS), so the
-- references to them do not cascade on update either.
CREATE TABLE managed_policies (
    name_key        text COLLATE "C" NOT NULL PRIMARY KEY, -- lower-cased name
    name            text             NOT NULL,
    path            text             NOT NULL,
    id              text COLLATE "C" NOT NULL UNIQUE,
    description     text             NOT NULL DEFAULT '',
    default_version integer          NOT NULL,
    last_version    integer          NOT NULL,
    created_at      timestamptz      NOT NULL,
    updated_at      timestamptz      NOT NULL,
    tags            jsonb            NOT NULL DEFAULT '{}',
    CHECK (default_version BETWEEN 1 AND last_version)
);

CREATE TABLE policy_versions (
    policy_key text COLLATE "C" NOT NULL REFERENCES managed_policies (name_key),
    version    integer          NOT NULL CHECK (version >= 1),
    document   text             NOT NULL, -- JSON, verbatim
    created_at timestamptz      NOT NULL,
    PRIMARY KEY (policy_key, version)
);

ALTER TABLE managed_policies ADD CONSTRAINT managed_policies_default_version_fkey
    FOREIGN KEY (name_key, default_version) REFERENCES policy_versions (policy_key, version)
    DEFERRABLE INITIALLY DEFERRED;

-- Inline policies and attachments belong to exactly one user, group or role:
-- one of the three owner columns is set.
CREATE TABLE inline_policies (
    user_key  text COLLATE "C" REFERENCES users (name_key) ON UPDATE CASCADE,
    group_key text COLLATE "C" REFERENCES groups (name_key) ON UPDATE CASCADE,
    role_key  text COLLATE "C" REFERENCES roles (name_key) ON UPDATE CASCADE,
    name_key  text COLLATE "C" NOT NULL, -- lower-cased name: unique per owner
    name      text             NOT NULL,
    document  text             NOT NULL, -- JSON, verbatim
    CHECK (num_nonnulls(user_key, group_key, role_key) = 1)
);

CREATE UNIQUE INDEX inline_policies_of_user ON inline_policies (user_key, name_key);
CREATE UNIQUE INDEX inline_policies_of_group ON inline_policies (group_key, name_key);
CREATE UNIQUE INDEX inline_policies_of_role ON inline_policies (role_key, name_key);

CREATE TABLE policy_attachments (
    user_key   text COLLATE "C" REFERENCES users (name_key) ON UPDATE CASCADE,
    group_key  text COLLATE "C" REFERENCES groups (name_key) ON UPDATE CASCADE,
    role_key   text COLLATE "C" REFERENCES roles (name_key) ON UPDATE CASCADE,
    policy_key text COLLATE "C" NOT NULL REFERENCES managed_policies (name_key),
    CHECK (num_nonnulls(user_key, group_key, role_key) = 1)
);

CREATE UNIQUE INDEX policy_attachments_of_user ON policy_attachments (user_key, policy_key);
CREATE UNIQUE INDEX policy_attachments_of_group ON policy_attachments (group_key, policy_key);
CREATE UNIQUE INDEX policy_attachments_of_role ON policy_attachments (role_key, policy_key);
CREATE INDEX policy_attachments_by_policy ON policy_attachments (policy_key);

CREATE TABLE saml_providers (
    name_key          text COLLATE "C" NOT NULL PRIMARY KEY, -- lower-cased name
    name              text             NOT NULL,
    metadata_document text             NOT NULL,             -- XML, verbatim
    created_at        timestamptz      NOT NULL,
    valid_until       timestamptz,                           -- NULL: does not expire
    tags              jsonb            NOT NULL DEFAULT '{}'
);
