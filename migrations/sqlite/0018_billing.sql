-- Recurring billing: subscriptions, their items, invoices and their lines (Stripe's objects;
-- decisions §11). A subscription's current period is stored with it (all its items share
-- it); `next_billing_at` is when the billing engine next has work on it (a renewal, a trial's
-- end, a cancellation at period end), claimed with a lease like webhook deliveries.
CREATE TABLE subscriptions (
    id                     TEXT PRIMARY KEY,
    account_id             TEXT NOT NULL REFERENCES accounts (id),
    livemode               BOOLEAN NOT NULL,
    customer_id            TEXT NOT NULL,
    status                 TEXT NOT NULL,
    currency               TEXT NOT NULL,
    default_payment_method TEXT,
    description            TEXT,
    metadata               TEXT NOT NULL,
    billing_cycle_anchor   BIGINT NOT NULL,
    current_period_start   BIGINT NOT NULL,
    current_period_end     BIGINT NOT NULL,
    cancel_at_period_end   BOOLEAN NOT NULL DEFAULT FALSE,
    cancel_at              BIGINT,
    canceled_at            BIGINT,
    ended_at               BIGINT,
    cancellation_reason    TEXT,
    cancellation_comment   TEXT,
    cancellation_feedback  TEXT,
    trial_start            BIGINT,
    trial_end              BIGINT,
    trial_missing_payment_method TEXT NOT NULL DEFAULT 'cancel',
    latest_invoice_id      TEXT,
    checkout_session_id    TEXT,
    test_clock_id          TEXT,
    start_date             BIGINT NOT NULL,
    next_billing_at        BIGINT,
    lease_until            BIGINT,
    -- Bumped by every change: a change is written only over the version it was made from.
    version                BIGINT NOT NULL DEFAULT 0,
    created                BIGINT NOT NULL,
    updated                BIGINT NOT NULL
);
CREATE INDEX subscriptions_list ON subscriptions (account_id, livemode, id);
CREATE INDEX subscriptions_of_customer ON subscriptions (customer_id, id);
CREATE INDEX subscriptions_due ON subscriptions (next_billing_at) WHERE next_billing_at IS NOT NULL;

CREATE TABLE subscription_items (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES subscriptions (id),
    price_id        TEXT NOT NULL REFERENCES prices (id),
    quantity        BIGINT NOT NULL,
    metadata        TEXT NOT NULL,
    position        BIGINT NOT NULL,
    created         BIGINT NOT NULL
);
CREATE INDEX subscription_items_of_subscription ON subscription_items (subscription_id, position);

CREATE TABLE invoices (
    id                      TEXT PRIMARY KEY,
    account_id              TEXT NOT NULL REFERENCES accounts (id),
    livemode                BOOLEAN NOT NULL,
    customer_id             TEXT NOT NULL,
    subscription_id         TEXT REFERENCES subscriptions (id),
    number                  TEXT,
    status                  TEXT NOT NULL,
    billing_reason          TEXT NOT NULL,
    currency                TEXT NOT NULL,
    subtotal                BIGINT NOT NULL,
    total                   BIGINT NOT NULL,
    amount_due              BIGINT NOT NULL,
    amount_paid             BIGINT NOT NULL,
    attempt_count           BIGINT NOT NULL DEFAULT 0,
    next_payment_attempt    BIGINT,
    period_start            BIGINT NOT NULL,
    period_end              BIGINT NOT NULL,
    payment_intent_id       TEXT,
    charge_id               TEXT,
    customer_email          TEXT,
    customer_name           TEXT,
    description             TEXT,
    metadata                TEXT NOT NULL,
    finalized_at            BIGINT,
    paid_at                 BIGINT,
    voided_at               BIGINT,
    marked_uncollectible_at BIGINT,
    test_clock_id           TEXT,
    -- The billing engine's next step on it (finalizing and charging, or a retry), claimed with
    -- a lease; `charge_key` is the idempotency key of the charge attempt in progress, written
    -- before the processor is asked, so that a crash retries the same attempt.
    due_at                  BIGINT,
    lease_until             BIGINT,
    charge_key              TEXT,
    first_failed_at         BIGINT,
    created                 BIGINT NOT NULL,
    updated                 BIGINT NOT NULL
);
CREATE INDEX invoices_due ON invoices (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX invoices_list ON invoices (account_id, livemode, id);
CREATE INDEX invoices_of_customer ON invoices (customer_id, id);
CREATE INDEX invoices_of_subscription ON invoices (subscription_id, id);

CREATE TABLE invoice_lines (
    id                   TEXT PRIMARY KEY,
    invoice_id           TEXT NOT NULL REFERENCES invoices (id),
    subscription_item_id TEXT,
    price_id             TEXT NOT NULL REFERENCES prices (id),
    description          TEXT NOT NULL,
    quantity             BIGINT NOT NULL,
    unit_amount          BIGINT NOT NULL,
    amount               BIGINT NOT NULL,
    period_start         BIGINT NOT NULL,
    period_end           BIGINT NOT NULL,
    position             BIGINT NOT NULL
);
CREATE INDEX invoice_lines_of_invoice ON invoice_lines (invoice_id, position);

-- A session in subscription mode names the subscription and first invoice it created.
ALTER TABLE checkout_sessions ADD COLUMN subscription_id TEXT;
ALTER TABLE checkout_sessions ADD COLUMN invoice_id TEXT;

-- The simulated card processor's own record of every charge it made, keyed by the attempt's
-- idempotency key and committed apart from kassa's billing transactions, as a real
-- processor's records would be: a key asked again answers its first result and moves no
-- money twice.
CREATE TABLE processor_ledger (
    idempotency_key   TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL,
    livemode          BOOLEAN NOT NULL,
    payment_method_id TEXT NOT NULL,
    amount            BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    failure_code      TEXT,
    decline_code      TEXT,
    failure_message   TEXT,
    created           BIGINT NOT NULL
);

-- What ends a subscription whose renewal could not be charged after every retry: `cancel`
-- (Stripe's default) or `unpaid`.
ALTER TABLE accounts ADD COLUMN dunning_final_action TEXT NOT NULL DEFAULT 'cancel';
