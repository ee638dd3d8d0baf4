-- The customer portal (Stripe's billing_portal.configuration and billing_portal.session;
-- decisions §11). Each account has, per mode, one default configuration, made the first time a
-- portal session is created. A session is a capability: its id opens the portal page of one
-- customer until expires_at, counted in the customer's time (its test clock's, if it is on one).
CREATE TABLE billing_portal_configurations (
    id          TEXT COLLATE "C" PRIMARY KEY,
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode    BOOLEAN NOT NULL,
    is_default  BOOLEAN NOT NULL,
    created     BIGINT NOT NULL
);
CREATE UNIQUE INDEX billing_portal_configurations_default
    ON billing_portal_configurations (account_id, livemode) WHERE is_default;

CREATE TABLE billing_portal_sessions (
    id               TEXT COLLATE "C" PRIMARY KEY,
    account_id       TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode         BOOLEAN NOT NULL,
    customer_id      TEXT COLLATE "C" NOT NULL REFERENCES customers (id),
    configuration_id TEXT COLLATE "C" NOT NULL REFERENCES billing_portal_configurations (id),
    return_url       TEXT,
    locale           TEXT,
    created          BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);
CREATE INDEX billing_portal_sessions_of_customer ON billing_portal_sessions (customer_id, id);

-- A customer's default payment method (Stripe's invoice_settings.default_payment_method): the
-- card the portal's "Replace card" saves.
ALTER TABLE customers ADD COLUMN default_payment_method TEXT COLLATE "C";

-- A Loops externalCustomerId names one customer per account and mode (decisions §11): the payment
-- that completes the first session carrying it creates that customer with it, and later sessions
-- carrying it complete for that customer. Deleting the customer frees the id.
ALTER TABLE customers ADD COLUMN external_customer_id TEXT;
CREATE UNIQUE INDEX customers_by_external_id ON customers (account_id, livemode, external_customer_id)
    WHERE external_customer_id IS NOT NULL;
