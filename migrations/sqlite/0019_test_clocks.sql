-- Test clocks (Stripe's test_helpers.test_clock; decisions §11): a time of their own for the
-- customers created on them, and for those customers' subscriptions and invoices. Advancing a
-- clock stores the time it is moving to; a worker of any server claims it with a lease, runs
-- every billing step due up to that time in time order, then makes it ready.
CREATE TABLE test_clocks (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts (id),
    livemode           BOOLEAN NOT NULL,
    name               TEXT,
    frozen_time        BIGINT NOT NULL,
    status             TEXT NOT NULL,
    target_frozen_time BIGINT,
    lease_until        BIGINT,
    deletes_after      BIGINT NOT NULL,
    created            BIGINT NOT NULL
);
CREATE INDEX test_clocks_list ON test_clocks (account_id, livemode, id);
CREATE INDEX test_clocks_advancing ON test_clocks (lease_until) WHERE target_frozen_time IS NOT NULL;

ALTER TABLE customers ADD COLUMN test_clock_id TEXT;
CREATE INDEX customers_of_clock ON customers (test_clock_id, id) WHERE test_clock_id IS NOT NULL;

-- Real time claims only what is on no clock; a clock's own steps are found by its id.
DROP INDEX subscriptions_due;
CREATE INDEX subscriptions_due ON subscriptions (next_billing_at)
    WHERE next_billing_at IS NOT NULL AND test_clock_id IS NULL;
CREATE INDEX subscriptions_due_on_clock ON subscriptions (test_clock_id, next_billing_at)
    WHERE test_clock_id IS NOT NULL;
DROP INDEX invoices_due;
CREATE INDEX invoices_due ON invoices (due_at) WHERE due_at IS NOT NULL AND test_clock_id IS NULL;
CREATE INDEX invoices_due_on_clock ON invoices (test_clock_id, due_at) WHERE test_clock_id IS NOT NULL;
CREATE INDEX test_clocks_expiry ON test_clocks (deletes_after);
