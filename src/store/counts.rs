//! Running totals for list `total`s (see the `list_counts` migration).

use super::{Arg, Db, Statement, StoreResult, Tx, args};

/// Shards per total.
pub const SHARDS: i64 = 8;

pub const SESSIONS: &str = "checkout_sessions";
pub const PRODUCTS: &str = "products";

pub const BUMP: &str = "INSERT INTO list_counts (account_id, livemode, list, key, shard, count) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, livemode, list, key, shard) \
     DO UPDATE SET count = list_counts.count + excluded.count";

/// The change of a total by `delta`, to run in the transaction of the change it counts. It
/// goes to one of [`SHARDS`] rows picked at random, so that concurrent changes to one total
/// rarely touch one row.
pub fn bump_statement<'a>(
    account_id: &'a str,
    livemode: bool,
    list: &'a str,
    key: &'a str,
    delta: i64,
) -> Statement<'a> {
    let shard = rand::random_range(0..SHARDS);
    Statement::new(BUMP, args![account_id, livemode, list, key, shard, delta])
}

/// Adds `delta` to a total, inside `tx`, the transaction of the change ([`bump_statement`]).
pub async fn bump(
    tx: &mut Tx<'_>,
    account_id: &str,
    livemode: bool,
    list: &str,
    key: &str,
    delta: i64,
) -> StoreResult<()> {
    let bump = bump_statement(account_id, livemode, list, key, delta);
    tx.execute(bump.sql, &bump.args).await?;
    Ok(())
}

/// The sum of the totals under `keys`.
pub async fn sum(
    db: &Db,
    account_id: &str,
    livemode: bool,
    list: &str,
    keys: &[String],
) -> StoreResult<u64> {
    if keys.is_empty() {
        return Ok(0);
    }
    let placeholders: Vec<String> = (0..keys.len()).map(|i| format!("${}", i + 4)).collect();
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM list_counts WHERE account_id = $1 AND livemode = $2 AND list = $3 \
         AND key IN ({})",
        placeholders.join(", ")
    );
    let mut bound = args![account_id, livemode, list].to_vec();
    bound.extend(keys.iter().map(Arg::from));
    let (total,): (i64,) = db.fetch_one(&sql, &bound).await?;
    Ok(total.max(0) as u64)
}

/// Recomputes every total from the rows themselves (after a bulk load that bypassed them).
pub async fn rebuild(db: &Db) -> StoreResult<()> {
    db.write(async |tx| {
        tx.execute("DELETE FROM list_counts", &[]).await?;
        tx.execute(
            "INSERT INTO list_counts (account_id, livemode, list, key, shard, count) \
             SELECT account_id, livemode, 'checkout_sessions', state, 0, COUNT(*) FROM checkout_sessions \
             GROUP BY account_id, livemode, state",
            &[],
        )
        .await?;
        tx.execute(
            "INSERT INTO list_counts (account_id, livemode, list, key, shard, count) \
             SELECT account_id, livemode, 'products', status || '/' || COALESCE(amount_type, ''), 0, COUNT(*) \
             FROM products GROUP BY account_id, livemode, status, amount_type",
            &[],
        )
        .await
    })
    .await?;
    Ok(())
}
