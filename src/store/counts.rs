//! Running totals for list `total`s (see the `list_counts` migration).

use super::{Db, StoreResult, on_reader, on_writer};

/// Shards per total.
pub const SHARDS: i64 = 8;

pub const SESSIONS: &str = "checkout_sessions";
pub const PRODUCTS: &str = "products";

pub const BUMP: &str = "INSERT INTO list_counts (account_id, livemode, list, key, shard, count) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, livemode, list, key, shard) \
     DO UPDATE SET count = list_counts.count + excluded.count";

/// Binds the columns of [`BUMP`], after what `$query` has bound.
macro_rules! bind_count {
    ($query:expr, $account_id:expr, $livemode:expr, $list:expr, $key:expr, $delta:expr) => {
        $query
            .bind($account_id)
            .bind($livemode)
            .bind($list)
            .bind($key)
            .bind(rand::random_range(0..$crate::store::counts::SHARDS))
            .bind($delta)
    };
}
pub(crate) use bind_count;

/// Adds `$delta` to a total through `$executor`, inside the transaction of the change.
macro_rules! bump_count {
    ($executor:expr, $account_id:expr, $livemode:expr, $list:expr, $key:expr, $delta:expr) => {
        $crate::store::counts::bind_count!(
            sqlx::query($crate::store::counts::BUMP),
            $account_id,
            $livemode,
            $list,
            $key,
            $delta
        )
        .execute($executor)
    };
}
pub(crate) use bump_count;

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
    let total: i64 = on_reader!(db, |pool| {
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(account_id)
            .bind(livemode)
            .bind(list);
        for key in keys {
            query = query.bind(key);
        }
        query.fetch_one(pool).await
    })?;
    Ok(total.max(0) as u64)
}

/// Recomputes every total from the rows themselves (after a bulk load that bypassed them).
pub async fn rebuild(db: &Db) -> StoreResult<()> {
    on_writer!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM list_counts")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO list_counts (account_id, livemode, list, key, shard, count) \
             SELECT account_id, livemode, 'checkout_sessions', state, 0, COUNT(*) FROM checkout_sessions \
             GROUP BY account_id, livemode, state",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO list_counts (account_id, livemode, list, key, shard, count) \
             SELECT account_id, livemode, 'products', status || '/' || COALESCE(amount_type, ''), 0, COUNT(*) \
             FROM products GROUP BY account_id, livemode, status, amount_type",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    })?;
    Ok(())
}
