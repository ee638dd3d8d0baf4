//! `kassa import`'s record of which kassa object each source object became (migration 0025).

use std::collections::HashMap;

use super::{Db, Statement, StoreResult, args};

/// Where imported objects come from and go to: the kassa account and mode, the source's base
/// URL and, when the source names it, the source's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub account_id: String,
    pub livemode: bool,
    pub source: String,
    /// `acct_...`, or empty when the source does not say.
    pub source_account: String,
}

/// Every mapping of `object_type` (`product`, `price`, `customer`, `payment_link`) in `scope`:
/// source id to kassa id.
pub async fn load(
    db: &Db,
    scope: &Scope,
    object_type: &str,
) -> StoreResult<HashMap<String, String>> {
    let rows: Vec<(String, String)> = db
        .fetch_all(
            "SELECT source_id, kassa_id FROM import_mappings WHERE account_id = $1 AND livemode = $2 \
             AND source = $3 AND source_account = $4 AND object_type = $5",
            &args![
                &scope.account_id,
                scope.livemode,
                &scope.source,
                &scope.source_account,
                object_type
            ],
        )
        .await?;
    Ok(rows.into_iter().collect())
}

/// The INSERT of one mapping, to run in the transaction that creates `kassa_id`. A second row
/// for the same source object is a unique violation, which undoes the object's creation too.
pub fn insert(
    scope: &Scope,
    object_type: &'static str,
    source_id: &str,
    kassa_id: &str,
    now: i64,
) -> Statement<'static> {
    Statement::new(
        "INSERT INTO import_mappings (account_id, livemode, source, source_account, object_type, \
         source_id, kassa_id, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![
            scope.account_id.clone(),
            scope.livemode,
            scope.source.clone(),
            scope.source_account.clone(),
            object_type,
            source_id.to_string(),
            kassa_id.to_string(),
            now
        ],
    )
}
