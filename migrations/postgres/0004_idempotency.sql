-- Idempotency keys: the first response to each (account, mode, key), kept 24 hours, so a
-- retried POST gets the same answer from any process.

CREATE TABLE idempotency_keys (
    account_id   TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode     BOOLEAN NOT NULL,
    key          TEXT NOT NULL,
    -- "POST /v1/checkout/sessions": a key belongs to one endpoint.
    route        TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    -- NULL while the first request is in flight.
    status       BIGINT,
    body         TEXT,
    created      BIGINT NOT NULL,
    -- When the request in flight claimed the key; a claim older than the lease is abandoned.
    claimed_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, livemode, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created);
