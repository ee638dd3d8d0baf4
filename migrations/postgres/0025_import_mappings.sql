-- `kassa import`: which kassa object each object copied from a Stripe-compatible source became,
-- per account and mode, so that a second run (or a run resumed after an interruption) updates
-- those objects rather than creating them again. A row is written in the same transaction as
-- the object it maps.
CREATE TABLE import_mappings (
    account_id     TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode       BOOLEAN NOT NULL,
    -- The source's base URL, as given to --from, normalised (no trailing slash).
    source         TEXT COLLATE "C" NOT NULL,
    -- The source's account (acct_...) when the source says, else ''.
    source_account TEXT COLLATE "C" NOT NULL,
    -- product, price, customer or payment_link.
    object_type    TEXT COLLATE "C" NOT NULL,
    source_id      TEXT COLLATE "C" NOT NULL,
    kassa_id       TEXT COLLATE "C" NOT NULL,
    created        BIGINT NOT NULL,
    PRIMARY KEY (account_id, livemode, source, source_account, object_type, source_id)
);
