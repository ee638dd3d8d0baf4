-- The dashboard: signed-in browser sessions, and a lock after repeated failed sign-ins.

ALTER TABLE dashboard_users ADD COLUMN failed_sign_ins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dashboard_users ADD COLUMN locked_until BIGINT;

CREATE TABLE dashboard_sessions (
    -- SHA-256 of the cookie's token: a stolen database does not sign anyone in.
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES dashboard_users (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    -- test or live: what the dashboard shows.
    mode       TEXT NOT NULL,
    -- Every form carries it; a form without it is refused.
    csrf_token TEXT NOT NULL,
    created    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX dashboard_sessions_by_user ON dashboard_sessions (user_id);

-- The overview's revenue of a day or a month reads one index range.
CREATE INDEX payment_intents_by_time ON payment_intents (account_id, livemode, status, created);
