-- Running totals for the Loops lists' `total` (sessions by state, products by status and
-- amount type), kept in the transactions that change them, so a total costs the same however
-- many rows there are. Each total is spread over a few shards, picked at random per change,
-- so concurrent writers on PostgreSQL rarely wait for one another.

CREATE TABLE list_counts (
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode   BOOLEAN NOT NULL,
    list       TEXT NOT NULL,
    key        TEXT NOT NULL,
    shard      BIGINT NOT NULL,
    count      BIGINT NOT NULL,
    PRIMARY KEY (account_id, livemode, list, key, shard)
);
