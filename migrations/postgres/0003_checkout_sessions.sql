-- Checkout sessions, their line items, and the events every state change writes.

CREATE TABLE checkout_sessions (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    account_id           TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode             BOOLEAN NOT NULL,
    -- open, completed, expired, canceled or failed; each surface words it its own way.
    state                TEXT NOT NULL,
    mode                 TEXT NOT NULL,
    payment_status       TEXT NOT NULL,
    currency             TEXT NOT NULL,
    amount_subtotal      BIGINT NOT NULL,
    amount_total         BIGINT NOT NULL,
    product_name         TEXT NOT NULL,
    product_description  TEXT,
    success_url          TEXT,
    cancel_url           TEXT,
    customer_id          TEXT COLLATE "C",
    customer_email       TEXT,
    client_reference_id  TEXT,
    external_customer_id TEXT,
    payment_link_id      TEXT COLLATE "C",
    payment_intent_id    TEXT COLLATE "C",
    setup_intent_id      TEXT COLLATE "C",
    metadata             TEXT NOT NULL,
    -- Options stored and echoed (ui_mode, locale, submit_type, payment_method_types...).
    settings             TEXT NOT NULL,
    customer_details     TEXT,
    declined_attempts    BIGINT NOT NULL,
    created              BIGINT NOT NULL,
    updated              BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL,
    completed_at         BIGINT
);
CREATE INDEX checkout_sessions_list ON checkout_sessions (account_id, livemode, id);
CREATE INDEX checkout_sessions_by_state ON checkout_sessions (account_id, livemode, state, id);
CREATE INDEX checkout_sessions_by_external_customer ON checkout_sessions (account_id, livemode, external_customer_id, id);
CREATE INDEX checkout_sessions_by_customer ON checkout_sessions (account_id, livemode, customer_id, id);
CREATE INDEX checkout_sessions_by_payment_link ON checkout_sessions (account_id, livemode, payment_link_id, id);
-- The expiry sweeper looks only at open sessions, oldest deadline first.
CREATE INDEX checkout_sessions_open_by_expiry ON checkout_sessions (expires_at) WHERE state = 'open';

CREATE TABLE checkout_line_items (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    session_id         TEXT COLLATE "C" NOT NULL REFERENCES checkout_sessions (id),
    position           BIGINT NOT NULL,
    price_id           TEXT COLLATE "C" NOT NULL REFERENCES prices (id),
    description        TEXT NOT NULL,
    currency           TEXT NOT NULL,
    unit_amount        BIGINT NOT NULL,
    quantity           BIGINT NOT NULL,
    adjustable_enabled BOOLEAN NOT NULL,
    adjustable_minimum BIGINT,
    adjustable_maximum BIGINT,
    amount_subtotal    BIGINT NOT NULL,
    amount_total       BIGINT NOT NULL
);
CREATE INDEX checkout_line_items_by_session ON checkout_line_items (session_id, position);

-- Every state change of the domain, written in the transaction that makes the change.
CREATE TABLE events (
    id              TEXT COLLATE "C" PRIMARY KEY,
    account_id      TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode        BOOLEAN NOT NULL,
    type            TEXT NOT NULL,
    object_id       TEXT COLLATE "C" NOT NULL,
    -- data.object as of the change.
    data            TEXT NOT NULL,
    request_id      TEXT,
    idempotency_key TEXT,
    created         BIGINT NOT NULL
);
CREATE INDEX events_list ON events (account_id, livemode, id);
CREATE INDEX events_by_type ON events (account_id, livemode, type, id);
CREATE INDEX events_by_object ON events (object_id, id);
