//! Idempotency keys.

use super::{Db, StoreResult, args, row_struct};

row_struct! {
    #[derive(Debug)]
    pub struct StoredKey {
        pub route: String,
        pub request_hash: String,
        pub status: Option<i64>,
        pub body: Option<String>,
        pub created: i64,
        pub claimed_at: i64,
    }
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
    let inserted = db.execute(
        "INSERT INTO idempotency_keys (account_id, livemode, key, route, request_hash, status, body, created, claimed_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $6) ON CONFLICT (account_id, livemode, key) DO NOTHING",
        &args![account_id, livemode, key, route, hash, now],
    )
    .await?;
    Ok(inserted == 1)
}

pub async fn get(
    db: &Db,
    account_id: &str,
    livemode: bool,
    key: &str,
) -> StoreResult<Option<StoredKey>> {
    // Read on the writer: the claim just failed because of a row the readers may not see yet.
    db.write(async |tx| {
        tx.fetch_optional(
            "SELECT route, request_hash, status, body, created, claimed_at FROM idempotency_keys \
             WHERE account_id = $1 AND livemode = $2 AND key = $3",
            &args![account_id, livemode, key],
        )
        .await
    })
    .await
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
    let sql = if abandoned_claim.is_some() {
        "UPDATE idempotency_keys SET route = $1, request_hash = $2, status = NULL, body = NULL, claimed_at = $3 \
         WHERE account_id = $4 AND livemode = $5 AND key = $6 AND status IS NULL AND claimed_at = $7"
    } else {
        "UPDATE idempotency_keys SET route = $1, request_hash = $2, status = NULL, body = NULL, created = $3, \
         claimed_at = $3 WHERE account_id = $4 AND livemode = $5 AND key = $6 AND created < $7"
    };
    let bound = abandoned_claim.unwrap_or(now - crate::domain::idempotency::RETENTION_SECONDS);
    let changed = db
        .execute(
            sql,
            &args![route, hash, now, account_id, livemode, key, bound],
        )
        .await?;
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
    db.execute(
        "UPDATE idempotency_keys SET status = $1, body = $2 WHERE account_id = $3 AND livemode = $4 AND key = $5",
        &args![status, body, account_id, livemode, key],
    )
    .await?;
    Ok(())
}

pub async fn delete(db: &Db, account_id: &str, livemode: bool, key: &str) -> StoreResult<()> {
    db.execute(
        "DELETE FROM idempotency_keys WHERE account_id = $1 AND livemode = $2 AND key = $3",
        &args![account_id, livemode, key],
    )
    .await?;
    Ok(())
}

pub async fn prune(db: &Db, created_before: i64) -> StoreResult<u64> {
    let deleted = db
        .execute(
            "DELETE FROM idempotency_keys WHERE created < $1",
            &args![created_before],
        )
        .await?;
    Ok(deleted)
}
