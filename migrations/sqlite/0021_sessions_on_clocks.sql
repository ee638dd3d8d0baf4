-- A session for a customer on a test clock lives on that clock: it expires by the clock's time,
-- when the clock is advanced past its deadline, and never by real time.
ALTER TABLE checkout_sessions ADD COLUMN test_clock_id TEXT;
DROP INDEX checkout_sessions_open_by_expiry;
CREATE INDEX checkout_sessions_open_by_expiry ON checkout_sessions (expires_at)
    WHERE state = 'open' AND test_clock_id IS NULL;
CREATE INDEX checkout_sessions_open_on_clock ON checkout_sessions (test_clock_id, expires_at)
    WHERE state = 'open' AND test_clock_id IS NOT NULL;
