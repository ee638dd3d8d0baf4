-- Payments: one PaymentIntent per paid session, written in the transaction that completes it.
-- Only the card's brand, last four digits and expiry are kept: never its number or CVC.

CREATE TABLE payment_intents (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    account_id          TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode            BOOLEAN NOT NULL,
    amount              BIGINT NOT NULL,
    currency            TEXT NOT NULL,
    status              TEXT NOT NULL,
    checkout_session_id TEXT COLLATE "C" REFERENCES checkout_sessions (id),
    customer_id         TEXT COLLATE "C",
    receipt_email       TEXT,
    card_brand          TEXT,
    card_last4          TEXT,
    card_exp_month      BIGINT,
    card_exp_year       BIGINT,
    metadata            TEXT NOT NULL,
    created             BIGINT NOT NULL
);
CREATE INDEX payment_intents_list ON payment_intents (account_id, livemode, id);
CREATE UNIQUE INDEX payment_intents_one_per_session ON payment_intents (checkout_session_id);
