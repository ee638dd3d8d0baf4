-- Webhooks: endpoints, a transactional outbox of deliveries, and a record of every attempt.
--
-- Writing an event also writes one delivery per enabled endpoint that wants it, in the same
-- transaction, so no event is ever lost between the change and its delivery. Workers claim due
-- deliveries with a lease; a worker that dies mid-attempt leaves the delivery to be claimed
-- again when its lease ends.

-- The event exactly as delivered: every attempt sends these bytes.
ALTER TABLE events ADD COLUMN payload TEXT;
-- `kassa listen` reads each account's events by time; retention deletes the oldest.
CREATE INDEX events_by_time ON events (account_id, livemode, created, id);
CREATE INDEX events_by_age ON events (created);

CREATE TABLE webhook_endpoints (
    id                       TEXT COLLATE "C" PRIMARY KEY,
    account_id               TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode                 BOOLEAN NOT NULL,
    url                      TEXT NOT NULL,
    description              TEXT,
    metadata                 TEXT NOT NULL,
    -- enabled or disabled (by the merchant, by a 410 Gone, or after failing for 5 days).
    status                   TEXT NOT NULL,
    disabled_reason          TEXT,
    secret                   TEXT NOT NULL,
    -- After a roll, the previous secret signs too until it expires.
    previous_secret          TEXT,
    previous_secret_until    BIGINT,
    -- When the current run of failed attempts began; cleared by a success.
    failing_since            BIGINT,
    deleted                  BOOLEAN NOT NULL,
    created                  BIGINT NOT NULL,
    updated                  BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_list ON webhook_endpoints (account_id, livemode, id);

-- The event types an endpoint wants, one row each ('*' for all).
CREATE TABLE webhook_endpoint_events (
    endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id),
    event_type  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (endpoint_id, event_type)
);
CREATE INDEX webhook_endpoint_events_by_type ON webhook_endpoint_events (event_type, endpoint_id);

CREATE TABLE webhook_deliveries (
    id              TEXT COLLATE "C" PRIMARY KEY,
    account_id      TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    endpoint_id     TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id),
    event_id        TEXT COLLATE "C" NOT NULL REFERENCES events (id),
    -- pending, succeeded, failed (gave up) or canceled (endpoint disabled or deleted).
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    created         BIGINT NOT NULL,
    updated         BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id, endpoint_id);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, state, updated);

CREATE TABLE webhook_attempts (
    id               TEXT COLLATE "C" PRIMARY KEY,
    delivery_id      TEXT COLLATE "C" NOT NULL REFERENCES webhook_deliveries (id),
    endpoint_id      TEXT COLLATE "C" NOT NULL,
    event_id         TEXT COLLATE "C" NOT NULL,
    attempted_at     BIGINT NOT NULL,
    -- The HTTP status, or null when no answer came (refused, timed out...).
    status_code      BIGINT,
    latency_ms       BIGINT NOT NULL,
    error            TEXT,
    -- The first 4 KB of the answer.
    response_excerpt TEXT
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id);
