-- Refunds (Stripe's `refund`; decisions §11): part or all of a succeeded charge given back.
-- A refund is written `pending` with the amount it takes from the charge, in one transaction,
-- before the processor is asked under the refund's id; the outcome is written after. A server
-- that dies between the two leaves it pending with a lease, and the billing worker of any
-- server asks the processor again under the same key, which answers its first result.
CREATE TABLE refunds (
    id                TEXT COLLATE "C" PRIMARY KEY,
    account_id        TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode          BOOLEAN NOT NULL,
    charge_id         TEXT COLLATE "C" NOT NULL REFERENCES charges (id),
    payment_intent_id TEXT COLLATE "C" NOT NULL,
    amount            BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    reason            TEXT,
    metadata          TEXT NOT NULL,
    status            TEXT NOT NULL,
    failure_reason    TEXT,
    lease_until       BIGINT,
    created           BIGINT NOT NULL
);
CREATE INDEX refunds_list ON refunds (account_id, livemode, id);
CREATE INDEX refunds_of_charge ON refunds (charge_id, id);
CREATE INDEX refunds_of_payment_intent ON refunds (payment_intent_id, id);
CREATE INDEX refunds_pending ON refunds (lease_until) WHERE status = 'pending';
