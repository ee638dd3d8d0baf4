-- Accounts, their API keys and dashboard users.
-- Ids are text with a type prefix; times are unix seconds; flags are BOOLEAN.
-- The PostgreSQL tree has the same tables and columns (a test compares them).

CREATE TABLE accounts (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    created BIGINT NOT NULL
);

-- Secret keys are stored only as a SHA-256 hash of the whole key; `redacted` is what may be shown.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    livemode    BOOLEAN NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    redacted    TEXT NOT NULL,
    created     BIGINT NOT NULL,
    last_used   BIGINT,
    revoked     BIGINT
);
CREATE INDEX api_keys_by_account ON api_keys (account_id, id);

CREATE TABLE dashboard_users (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created       BIGINT NOT NULL
);
CREATE INDEX dashboard_users_by_account ON dashboard_users (account_id);

-- Facts about the installation itself, such as whether the first start has happened.
CREATE TABLE installation (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
