-- The dashboard's overview figures, read on every visit of its overview: the subscriptions
-- still billed (active, past_due) are counted, summed and checked for renewals due from their
-- own index range, however many subscriptions have ended before; the revenue chart reads only
-- the last 30 days of an account's succeeded charges.
CREATE INDEX subscriptions_by_status ON subscriptions (account_id, livemode, status, current_period_end);
CREATE INDEX charges_succeeded ON charges (account_id, livemode, created) WHERE status = 'succeeded';
