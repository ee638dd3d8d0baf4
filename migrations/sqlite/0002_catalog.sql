-- The catalog: products, their prices, payment links.
-- Every row belongs to one account and one mode; every list is served by an index that starts
-- with (account_id, livemode) and ends with id, so a page costs the same however large the
-- catalog grows.

CREATE TABLE products (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (id),
    livemode             BOOLEAN NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT,
    status               TEXT NOT NULL,
    -- Derived from the default price (FIXED, CUSTOM, FREE), kept here so lists can filter on it.
    amount_type          TEXT,
    default_price_id     TEXT,
    images               TEXT NOT NULL,
    thumbnail_url        TEXT,
    statement_descriptor TEXT,
    tax_code             TEXT,
    unit_label           TEXT,
    url                  TEXT,
    shippable            BOOLEAN,
    type                 TEXT NOT NULL,
    metadata             TEXT NOT NULL,
    created              BIGINT NOT NULL,
    updated              BIGINT NOT NULL
);
CREATE INDEX products_list ON products (account_id, livemode, id);
CREATE INDEX products_by_status ON products (account_id, livemode, status, id);
CREATE INDEX products_by_amount_type ON products (account_id, livemode, amount_type, id);

CREATE TABLE prices (
    id                       TEXT PRIMARY KEY,
    account_id               TEXT NOT NULL REFERENCES accounts (id),
    livemode                 BOOLEAN NOT NULL,
    product_id               TEXT NOT NULL REFERENCES products (id),
    active                   BOOLEAN NOT NULL,
    currency                 TEXT NOT NULL,
    unit_amount              BIGINT,
    custom_enabled           BOOLEAN NOT NULL,
    custom_minimum           BIGINT,
    custom_maximum           BIGINT,
    custom_preset            BIGINT,
    recurring_interval       TEXT,
    recurring_interval_count BIGINT,
    lookup_key               TEXT,
    nickname                 TEXT,
    tax_behavior             TEXT NOT NULL,
    metadata                 TEXT NOT NULL,
    created                  BIGINT NOT NULL
);
CREATE INDEX prices_list ON prices (account_id, livemode, id);
CREATE INDEX prices_by_product ON prices (product_id, id);
CREATE UNIQUE INDEX prices_lookup_key ON prices (account_id, livemode, lookup_key) WHERE lookup_key IS NOT NULL;

CREATE TABLE payment_links (
    id                    TEXT PRIMARY KEY,
    account_id            TEXT NOT NULL REFERENCES accounts (id),
    livemode              BOOLEAN NOT NULL,
    active                BOOLEAN NOT NULL,
    label                 TEXT,
    -- [{id, price, quantity, adjustable_quantity}], in order.
    line_items            TEXT NOT NULL,
    currency              TEXT NOT NULL,
    success_url           TEXT,
    cancel_url            TEXT,
    confirmation_message  TEXT,
    allow_promotion_codes BOOLEAN NOT NULL,
    -- Stripe settings stored and echoed as given.
    settings              TEXT NOT NULL,
    metadata              TEXT NOT NULL,
    created               BIGINT NOT NULL,
    updated               BIGINT NOT NULL
);
CREATE INDEX payment_links_list ON payment_links (account_id, livemode, id);
CREATE INDEX payment_links_by_active ON payment_links (account_id, livemode, active, id);
