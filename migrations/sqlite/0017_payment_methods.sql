-- PaymentMethods (Stripe's `payment_method`, `pm_`): every card used at checkout becomes one,
-- written in the transaction of the attempt that used it; a card saved by a setup session is
-- attached to the session's customer. Only the card's brand, last four digits and expiry are
-- kept, never its number or CVC. `charge_decline` is the decline code every later charge of the
-- saved card gets (the simulated processor's test cards; NULL: charges succeed). `reusable` is
-- false once the method was used in a payment without being attached, or was detached: as on
-- Stripe, it may then never be attached again.
CREATE TABLE payment_methods (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    livemode        BOOLEAN NOT NULL,
    customer_id     TEXT,
    card_brand      TEXT NOT NULL,
    card_last4      TEXT NOT NULL,
    card_exp_month  BIGINT NOT NULL,
    card_exp_year   BIGINT NOT NULL,
    billing_email   TEXT,
    billing_name    TEXT,
    charge_decline  TEXT,
    allow_redisplay TEXT NOT NULL,
    reusable        BOOLEAN NOT NULL,
    metadata        TEXT NOT NULL,
    created         BIGINT NOT NULL
);
CREATE INDEX payment_methods_list ON payment_methods (account_id, livemode, id);
CREATE INDEX payment_methods_of_customer ON payment_methods (customer_id, id)
    WHERE customer_id IS NOT NULL;

-- The method each PaymentIntent succeeded with, each charge was attempted with, and each
-- SetupIntent saved.
ALTER TABLE payment_intents ADD COLUMN payment_method_id TEXT;
ALTER TABLE charges ADD COLUMN payment_method_id TEXT;
ALTER TABLE setup_intents ADD COLUMN payment_method_id TEXT;

-- Cards entered before this table: each charge's card becomes a method used without being
-- attached, and each SetupIntent's card a method saved to the SetupIntent's customer (if it has
-- one). Their ids are made from the charge's or SetupIntent's own (`ch_X` gives `pm_X`), which
-- keeps their creation order.
INSERT INTO payment_methods (id, account_id, livemode, customer_id, card_brand, card_last4,
    card_exp_month, card_exp_year, billing_email, billing_name, charge_decline, allow_redisplay,
    reusable, metadata, created)
SELECT 'pm_' || substr(c.id, 4), c.account_id, c.livemode, NULL, c.card_brand, c.card_last4,
    COALESCE(c.card_exp_month, 0), COALESCE(c.card_exp_year, 0), c.billing_email, c.billing_name,
    NULL, 'unspecified', FALSE, '{}', c.created
FROM charges c
WHERE c.card_brand IS NOT NULL AND c.card_last4 IS NOT NULL;
UPDATE charges SET payment_method_id = 'pm_' || substr(id, 4)
WHERE card_brand IS NOT NULL AND card_last4 IS NOT NULL;
UPDATE payment_intents SET payment_method_id = 'pm_' || substr(latest_charge, 4)
WHERE status = 'succeeded' AND latest_charge IS NOT NULL
    AND EXISTS (SELECT 1 FROM charges c WHERE c.id = payment_intents.latest_charge
        AND c.payment_method_id IS NOT NULL);

INSERT INTO payment_methods (id, account_id, livemode, customer_id, card_brand, card_last4,
    card_exp_month, card_exp_year, billing_email, billing_name, charge_decline, allow_redisplay,
    reusable, metadata, created)
SELECT 'pm_' || substr(si.id, 6), si.account_id, si.livemode, si.customer_id, si.card_brand,
    si.card_last4, COALESCE(si.card_exp_month, 0), COALESCE(si.card_exp_year, 0),
    json_extract(s.customer_details, '$.email'), json_extract(s.customer_details, '$.name'),
    NULL, 'unspecified', TRUE, '{}', si.created
FROM setup_intents si LEFT JOIN checkout_sessions s ON s.id = si.checkout_session_id
WHERE si.card_brand IS NOT NULL AND si.card_last4 IS NOT NULL;
UPDATE setup_intents SET payment_method_id = 'pm_' || substr(id, 6)
WHERE card_brand IS NOT NULL AND card_last4 IS NOT NULL;
