-- Nothing on SQLite: a conditional write checks its guard's changed rows inside its own
-- transaction (`Db::write_statements_if`). PostgreSQL's migration 0015 adds `kassa_guard`.
SELECT 1;
