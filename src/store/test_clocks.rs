//! Test clocks (migration 0019), and what the clock worker needs: which clocks are advancing,
//! and when the next billing step of the objects on a clock is due.

use super::events::insert_event;
use super::query::Select;
use super::{Db, Statement, StoreResult, args, row_struct};
use crate::domain::accounts::Caller;
use crate::domain::events::Event;
use crate::domain::list::{Page, PageRequest};
use crate::domain::test_clocks::{TestClock, TestClockStatus};

row_struct! {
    struct TestClockRow {
        id: String,
        livemode: bool,
        name: Option<String>,
        frozen_time: i64,
        status: String,
        target_frozen_time: Option<i64>,
        deletes_after: i64,
        created: i64,
    }
}

impl From<TestClockRow> for TestClock {
    fn from(r: TestClockRow) -> TestClock {
        TestClock {
            id: r.id,
            livemode: r.livemode,
            name: r.name,
            frozen_time: r.frozen_time,
            status: TestClockStatus::parse(&r.status),
            target_frozen_time: r.target_frozen_time,
            deletes_after: r.deletes_after,
            created: r.created,
        }
    }
}

/// Inserts a new clock with its event.
pub async fn insert(
    db: &Db,
    account_id: &str,
    clock: &TestClock,
    event: &Event,
) -> StoreResult<()> {
    let statement = Statement::new(
        "INSERT INTO test_clocks (id, account_id, livemode, name, frozen_time, status, \
         target_frozen_time, deletes_after, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        args![
            &clock.id,
            account_id,
            clock.livemode,
            &clock.name,
            clock.frozen_time,
            clock.status.as_str(),
            clock.target_frozen_time,
            clock.deletes_after,
            clock.created
        ],
    );
    db.write(async |tx| {
        tx.run(&statement).await?;
        insert_event(tx, event).await
    })
    .await
}

pub async fn get(db: &Db, caller: &Caller, id: &str) -> StoreResult<Option<TestClock>> {
    let sql = format!(
        "SELECT {} FROM test_clocks WHERE id = $1 AND account_id = $2 AND livemode = $3",
        TestClockRow::COLUMNS
    );
    let row: Option<TestClockRow> = db
        .fetch_optional(&sql, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(row.map(Into::into))
}

/// The clock's time, for objects that live on it (a customer's `test_clock`).
pub async fn frozen_time(db: &Db, id: &str) -> StoreResult<Option<i64>> {
    let row: Option<(i64,)> = db
        .fetch_optional(
            "SELECT frozen_time FROM test_clocks WHERE id = $1",
            &args![id],
        )
        .await?;
    Ok(row.map(|(t,)| t))
}

/// Clocks, newest first.
pub async fn list(db: &Db, caller: &Caller, page: &PageRequest) -> StoreResult<Page<TestClock>> {
    let mut select = Select::new(TestClockRow::COLUMNS, "test_clocks");
    select.scope("", &caller.account_id, caller.mode.is_live());
    let rows: Page<TestClockRow> = select.fetch_page(db, "id", page).await?;
    Ok(rows.map(Into::into))
}

/// The guard that starts an advance to `target`: the clock must be ready and `target` after
/// its time.
pub fn begin_advance<'a>(caller: &'a Caller, id: &'a str, target: i64) -> Statement<'a> {
    Statement::new(
        "UPDATE test_clocks SET status = 'advancing', target_frozen_time = $1, lease_until = NULL \
         WHERE id = $2 AND account_id = $3 AND livemode = $4 AND status = 'ready' AND frozen_time < $1",
        args![target, id, &caller.account_id, caller.mode.is_live()],
    )
}

row_struct! {
    /// A clock claimed by the worker: its owner, the time it has reached, the time it moves
    /// to, and the claim's end (real time).
    #[derive(Debug, Clone)]
    pub struct Advancing {
        pub id: String,
        pub account_id: String,
        pub frozen_time: i64,
        pub target: i64,
        pub lease_until: i64,
    }
}

/// Claims up to `limit` advancing clocks whose lease (real time) is free, for `lease` seconds:
/// on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so servers share the work and never run one
/// clock twice at once.
pub async fn claim_advancing(
    db: &Db,
    now: i64,
    lease: i64,
    limit: i64,
) -> StoreResult<Vec<Advancing>> {
    // Most of the time no clock is advancing: a read through the partial index says so
    // without taking the writer.
    let any: Option<(String,)> = db
        .fetch_optional(
            "SELECT id FROM test_clocks WHERE target_frozen_time IS NOT NULL \
             AND (lease_until IS NULL OR lease_until <= $1) LIMIT 1",
            &args![now],
        )
        .await?;
    if any.is_none() {
        return Ok(Vec::new());
    }
    let lock = match db.engine() {
        super::Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        super::Engine::Sqlite => "",
    };
    let sql = format!(
        "UPDATE test_clocks SET lease_until = $1 WHERE id IN (SELECT id FROM test_clocks \
         WHERE target_frozen_time IS NOT NULL AND (lease_until IS NULL OR lease_until <= $2) \
         ORDER BY lease_until LIMIT $3{lock}) \
         RETURNING id, account_id, frozen_time, target_frozen_time, lease_until"
    );
    db.write_returning(&sql, &args![now + lease, now, limit])
        .await
}

/// When the next step of an object on the clock is due (a subscription's renewal or end, an
/// invoice's collection, an open session's expiry), if any.
pub async fn next_due(db: &Db, clock_id: &str) -> StoreResult<Option<i64>> {
    let (subscription,): (Option<i64>,) = db
        .fetch_one(
            "SELECT MIN(next_billing_at) FROM subscriptions WHERE test_clock_id = $1",
            &args![clock_id],
        )
        .await?;
    let (invoice,): (Option<i64>,) = db
        .fetch_one(
            "SELECT MIN(due_at) FROM invoices WHERE test_clock_id = $1",
            &args![clock_id],
        )
        .await?;
    let (session,): (Option<i64>,) = db
        .fetch_one(
            "SELECT MIN(expires_at) FROM checkout_sessions WHERE test_clock_id = $1 AND state = 'open'",
            &args![clock_id],
        )
        .await?;
    Ok([subscription, invoice, session].into_iter().flatten().min())
}

/// Moves an advancing clock's time to `to` while its claim holds, and renews the claim until
/// `lease_until` (real time): the progress a server that takes over after a crash starts from.
/// Returns whether the claim held.
pub async fn reach(db: &Db, clock: &mut Advancing, to: i64, lease_until: i64) -> StoreResult<bool> {
    let changed = db
        .execute(
            "UPDATE test_clocks SET frozen_time = $1, lease_until = $2 WHERE id = $3 AND lease_until = $4 \
             AND target_frozen_time IS NOT NULL",
            &args![to, lease_until, &clock.id, clock.lease_until],
        )
        .await?;
    if changed == 1 {
        clock.frozen_time = to;
        clock.lease_until = lease_until;
    }
    Ok(changed == 1)
}

/// The guard that ends an advance: the clock at its target, `ready`, while the claim holds.
pub fn ready(clock: &Advancing) -> Statement<'_> {
    Statement::new(
        "UPDATE test_clocks SET frozen_time = target_frozen_time, status = 'ready', \
         target_frozen_time = NULL, lease_until = NULL WHERE id = $1 AND lease_until = $2 \
         AND target_frozen_time IS NOT NULL",
        args![&clock.id, clock.lease_until],
    )
}

/// The guard that deletes a clock (the objects on it go in the same transaction).
pub fn delete<'a>(caller: &'a Caller, id: &'a str) -> Statement<'a> {
    Statement::new(
        "DELETE FROM test_clocks WHERE id = $1 AND account_id = $2 AND livemode = $3",
        args![id, &caller.account_id, caller.mode.is_live()],
    )
}

/// Customers on the clock that are not yet deleted: deleting the clock deletes them.
pub async fn customers_on(db: &Db, clock_id: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = db
        .fetch_all(
            "SELECT id FROM customers WHERE test_clock_id = $1 AND deleted = FALSE ORDER BY id",
            &args![clock_id],
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Clocks whose `deletes_after` has passed, oldest first, with their owners.
pub async fn expired(db: &Db, now: i64, limit: i64) -> StoreResult<Vec<(String, String)>> {
    db.fetch_all(
        "SELECT id, account_id FROM test_clocks WHERE deletes_after <= $1 ORDER BY deletes_after LIMIT $2",
        &args![now, limit],
    )
    .await
}
