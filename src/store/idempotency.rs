//! Idempotency keys.

use sqlx::FromRow;

use super::{Db, StoreResult, on_writer};

#[derive(Debug, FromRow)]
pub struct StoredKey {
    pub route: String,
    pub request_hash: String,
    pub status: Option<i64>,
    pub body: Option<String>,
    pub created: i64,
    pub claimed_at: i64,
}

/// Inserts a claim; false if the key exists.
pub async fn insert_claim(
    db: &Db,
    account_id: &str,
    livemode: bool,
    key: &str,
    route: &str,
    hash: &str,
    now: i64,
) -> StoreResult<bool> {
    let inserted = on_writer!(db, |pool| {
        sqlx::query(
            "INSERT INTO idempotency_keys (account_id, livemode, key, route, request_hash, status, body, created, claimed_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $6) ON CONFLICT (account_id, livemode, key) DO NOTHING",
        )
        .bind(account_id)
        .bind(livemode)
        .bind(key)
        .bind(route)
        .bind(hash)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(inserted == 1)
}

pub async fn get(
    db: &Db,
    account_id: &str,
    livemode: bool,
    key: &str,
) -> StoreResult<Option<StoredKey>> {
    let row = on_writer!(db, |pool| {
        // Read on the writer: the claim just failed because of a row the readers may not see yet.
        sqlx::query_as(
            "SELECT route, request_hash, status, body, created, claimed_at FROM idempotency_keys \
             WHERE account_id = $1 AND livemode = $2 AND key = $3",
        )
        .bind(account_id)
        .bind(livemode)
        .bind(key)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row)
}

/// Takes over a key: one past retention (`abandoned_claim` None) or one whose claim at
/// `abandoned_claim` was abandoned. Conditional, so of several takers one wins.
#[allow(clippy::too_many_arguments)]
pub async fn retake(
    db: &Db,
    account_id: &str,
    livemode: bool,
    key: &str,
    route: &str,
    hash: &str,
    now: i64,
    abandoned_claim: Option<i64>,
) -> StoreResult<bool> {
    let changed = on_writer!(db, |pool| {
        let sql = if abandoned_claim.is_some() {
            "UPDATE idempotency_keys SET route = $1, request_hash = $2, status = NULL, body = NULL, claimed_at = $3 \
             WHERE account_id = $4 AND livemode = $5 AND key = $6 AND status IS NULL AND claimed_at = $7"
        } else {
            "UPDATE idempotency_keys SET route = $1, request_hash = $2, status = NULL, body = NULL, created = $3, \
             claimed_at = $3 WHERE account_id = $4 AND livemode = $5 AND key = $6 AND created < $7"
        };
        let bound = abandoned_claim.unwrap_or(now - crate::domain::idempotency::RETENTION_SECONDS);
        sqlx::query(sql)
            .bind(route)
            .bind(hash)
            .bind(now)
            .bind(account_id)
            .bind(livemode)
            .bind(key)
            .bind(bound)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(changed == 1)
}

pub async fn record(
    db: &Db,
    account_id: &str,
    livemode: bool,
    key: &str,
    status: i64,
    body: &str,
) -> StoreResult<()> {
    on_writer!(db, |pool| {
        sqlx::query("UPDATE idempotency_keys SET status = $1, body = $2 WHERE account_id = $3 AND livemode = $4 AND key = $5")
            .bind(status)
            .bind(body)
            .bind(account_id)
            .bind(livemode)
            .bind(key)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

pub async fn delete(db: &Db, account_id: &str, livemode: bool, key: &str) -> StoreResult<()> {
    on_writer!(db, |pool| {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE account_id = $1 AND livemode = $2 AND key = $3",
        )
        .bind(account_id)
        .bind(livemode)
        .bind(key)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

pub async fn prune(db: &Db, created_before: i64) -> StoreResult<u64> {
    let deleted = on_writer!(db, |pool| {
        sqlx::query("DELETE FROM idempotency_keys WHERE created < $1")
            .bind(created_before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(deleted)
}
