-- Customers: the people a merchant sells to. Sessions point to one with `customer`, and a paid
-- session creates one when `customer_creation` asks for it. A deleted customer keeps its row
-- (so old sessions and payments still point somewhere) and drops out of lists.

CREATE TABLE customers (
    id          TEXT COLLATE "C" PRIMARY KEY,
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode    BOOLEAN NOT NULL,
    email       TEXT,
    name        TEXT,
    description TEXT,
    phone       TEXT,
    address     TEXT,
    metadata    TEXT NOT NULL,
    deleted     BOOLEAN NOT NULL,
    created     BIGINT NOT NULL,
    updated     BIGINT NOT NULL
);
CREATE INDEX customers_list ON customers (account_id, livemode, id);
CREATE INDEX customers_by_email ON customers (account_id, livemode, email, id);
