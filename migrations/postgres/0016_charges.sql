-- Charges: one row per attempt to move money on a PaymentIntent (Stripe's `charge`), succeeded
-- or failed, written in the transaction of the attempt. Before this table a charge was only an
-- id on its PaymentIntent (`latest_charge`) and an event; each such charge becomes a row here
-- with that id, rebuilt from its PaymentIntent and session. Card number and CVC are never kept.
CREATE TABLE charges (
    id                          TEXT COLLATE "C" PRIMARY KEY,
    account_id                  TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode                    BOOLEAN NOT NULL,
    payment_intent_id           TEXT COLLATE "C" NOT NULL REFERENCES payment_intents (id),
    amount                      BIGINT NOT NULL,
    amount_refunded             BIGINT NOT NULL DEFAULT 0,
    currency                    TEXT NOT NULL,
    customer_id                 TEXT COLLATE "C",
    status                      TEXT NOT NULL,
    failure_code                TEXT,
    failure_message             TEXT,
    decline_code                TEXT,
    card_brand                  TEXT,
    card_last4                  TEXT,
    card_exp_month              BIGINT,
    card_exp_year               BIGINT,
    billing_email               TEXT,
    billing_name                TEXT,
    receipt_email               TEXT,
    description                 TEXT,
    statement_descriptor        TEXT,
    statement_descriptor_suffix TEXT,
    metadata                    TEXT NOT NULL,
    created                     BIGINT NOT NULL
);
CREATE INDEX charges_list ON charges (account_id, livemode, id);
CREATE INDEX charges_of_payment_intent ON charges (payment_intent_id, id);
CREATE INDEX charges_of_customer ON charges (customer_id, id) WHERE customer_id IS NOT NULL;

INSERT INTO charges (id, account_id, livemode, payment_intent_id, amount, currency, customer_id,
    status, failure_code, failure_message, decline_code, card_brand, card_last4, card_exp_month,
    card_exp_year, billing_email, billing_name, receipt_email, description, statement_descriptor,
    statement_descriptor_suffix, metadata, created)
SELECT pi.latest_charge, pi.account_id, pi.livemode, pi.id, pi.amount, pi.currency, pi.customer_id,
    CASE WHEN pi.status = 'succeeded' THEN 'succeeded' ELSE 'failed' END,
    CAST(pi.last_payment_error AS JSONB) ->> 'code', CAST(pi.last_payment_error AS JSONB) ->> 'message',
    CAST(pi.last_payment_error AS JSONB) ->> 'decline_code',
    pi.card_brand, pi.card_last4, pi.card_exp_month, pi.card_exp_year, pi.receipt_email,
    CAST(s.customer_details AS JSONB) ->> 'name', pi.receipt_email, pi.description,
    pi.statement_descriptor, pi.statement_descriptor_suffix, pi.metadata,
    COALESCE(s.completed_at, pi.created)
FROM payment_intents pi LEFT JOIN checkout_sessions s ON s.id = pi.checkout_session_id
WHERE pi.latest_charge IS NOT NULL;
