-- Receipt emails. One is queued for each payment (`charge.succeeded`) and each succeeded
-- refund (`refund.created`) that has an address, in the transaction that writes its event, while
-- the account's `receipt_emails` is on; any server sends it at least once, claimed with a lease
-- like a webhook delivery, under a Message-ID derived from its id, so that a resend after a
-- crash is the same message.
ALTER TABLE accounts ADD COLUMN receipt_emails BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE emails (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    livemode        BOOLEAN NOT NULL,
    -- The event it tells of: one email per event.
    event_id        TEXT NOT NULL UNIQUE,
    -- `receipt` (object: the charge) or `refund` (object: the refund).
    kind            TEXT NOT NULL,
    object_id       TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    -- `pending`, `sent`, `failed` (every attempt refused) or `skipped` (no SMTP server).
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    last_error      TEXT,
    created         BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX emails_due ON emails (next_attempt_at) WHERE state = 'pending';
CREATE INDEX emails_of_object ON emails (object_id);
