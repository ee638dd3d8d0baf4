-- Paying on the hosted page. A declined attempt leaves the session's PaymentIntent waiting for
-- another card, with the reason; each attempt is a charge, whose id the PaymentIntent keeps. A
-- setup session saves its card in a SetupIntent. Only brand, last four digits and expiry are
-- kept of any card.

ALTER TABLE payment_intents ADD COLUMN last_payment_error TEXT;
ALTER TABLE payment_intents ADD COLUMN latest_charge TEXT;

CREATE TABLE setup_intents (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    livemode            BOOLEAN NOT NULL,
    status              TEXT NOT NULL,
    checkout_session_id TEXT REFERENCES checkout_sessions (id),
    customer_id         TEXT,
    card_brand          TEXT,
    card_last4          TEXT,
    card_exp_month      BIGINT,
    card_exp_year       BIGINT,
    created             BIGINT NOT NULL
);
CREATE UNIQUE INDEX setup_intents_one_per_session ON setup_intents (checkout_session_id);
