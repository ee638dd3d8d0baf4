-- The subscriptions gauge of /metrics counts the subscriptions on no test clock per status at
-- every scrape: from this index alone, not the table.
CREATE INDEX subscriptions_status ON subscriptions (status) WHERE test_clock_id IS NULL;
