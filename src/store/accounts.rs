//! Accounts, API keys, dashboard users and the installation marker.

use sqlx::FromRow;

use super::key_changes::{self, KeyChange};
use super::{Db, StoreResult, on_reader, on_writer};
use crate::domain::Mode;
use crate::domain::accounts::{Account, ApiKey, CreatedAccount, CreatedKey, CreatedUser};

#[derive(FromRow)]
struct AccountRow {
    id: String,
    name: String,
    created: i64,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Account {
            id: r.id,
            name: r.name,
            created: r.created,
        }
    }
}

#[derive(FromRow)]
struct KeyRow {
    id: String,
    account_id: String,
    livemode: bool,
    redacted: String,
    created: i64,
    last_used: Option<i64>,
    revoked: Option<i64>,
}

impl From<KeyRow> for ApiKey {
    fn from(r: KeyRow) -> Self {
        ApiKey {
            id: r.id,
            account_id: r.account_id,
            mode: Mode::from_livemode(r.livemode),
            redacted: r.redacted,
            created: r.created,
            last_used: r.last_used,
            revoked: r.revoked,
        }
    }
}

/// `SELECT ... FROM api_keys` followed by the given clause.
macro_rules! select_keys {
    ($clause:literal) => {
        concat!(
            "SELECT id, account_id, livemode, redacted, created, last_used, revoked FROM api_keys ",
            $clause
        )
    };
}

/// Inserts a new key through `$executor` (a pool or a transaction).
macro_rules! insert_key {
    ($executor:expr, $created:expr) => {
        sqlx::query(INSERT_KEY)
            .bind(&$created.key.id)
            .bind(&$created.key.account_id)
            .bind($created.key.mode.is_live())
            .bind(crate::domain::accounts::hash_secret(&$created.secret))
            .bind(&$created.key.redacted)
            .bind($created.key.created)
            .execute($executor)
    };
}
const INSERT_ACCOUNT: &str = "INSERT INTO accounts (id, name, created) VALUES ($1, $2, $3)";
const INSERT_KEY: &str = "INSERT INTO api_keys (id, account_id, livemode, secret_hash, redacted, created) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const BOOTSTRAP_MARKER: &str = "first_start";

/// The changes announced once an account's two keys are durable. (A trigger records them in
/// the database; see [`key_changes`].)
fn account_keys_created(created: &CreatedAccount) -> [KeyChange; 2] {
    [&created.test_key, &created.live_key].map(|key| KeyChange::Created {
        key_id: key.key.id.clone(),
    })
}

/// Inserts the account and both its keys in one transaction.
pub async fn insert_account(db: &Db, created: &CreatedAccount) -> StoreResult<()> {
    on_writer!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(INSERT_ACCOUNT)
            .bind(&created.account.id)
            .bind(&created.account.name)
            .bind(created.account.created)
            .execute(&mut *tx)
            .await?;
        for key in [&created.test_key, &created.live_key] {
            insert_key!(&mut *tx, key).await?;
        }
        tx.commit().await
    })?;
    key_changes::announce(db, account_keys_created(created));
    Ok(())
}

pub async fn is_bootstrapped(db: &Db) -> StoreResult<bool> {
    let found: Option<String> = on_reader!(db, |pool| {
        sqlx::query_scalar("SELECT value FROM installation WHERE key = $1")
            .bind(BOOTSTRAP_MARKER)
            .fetch_optional(pool)
            .await
    })?;
    Ok(found.is_some())
}

/// Claims the first start and creates the first account, its keys and its dashboard user, all
/// in one transaction. Returns false, having created nothing, when another process claimed it
/// or accounts already exist.
pub async fn insert_first_account(
    db: &Db,
    created: &CreatedAccount,
    user: &CreatedUser,
    password_hash: &str,
    now: i64,
) -> StoreResult<bool> {
    let won: StoreResult<bool> = on_writer!(db, |pool| {
        let mut tx = pool.begin().await?;
        let claimed = sqlx::query(
            "INSERT INTO installation (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(BOOTSTRAP_MARKER)
        .bind(now.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !claimed {
            return Ok(false);
        }
        // Accounts made with `kassa account create` before the first start: the installation
        // is not empty, so no default account is added.
        let has_accounts: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts)")
            .fetch_one(&mut *tx)
            .await?;
        if has_accounts {
            tx.commit().await?;
            return Ok(false);
        }
        sqlx::query(INSERT_ACCOUNT)
            .bind(&created.account.id)
            .bind(&created.account.name)
            .bind(created.account.created)
            .execute(&mut *tx)
            .await?;
        for key in [&created.test_key, &created.live_key] {
            insert_key!(&mut *tx, key).await?;
        }
        sqlx::query(
            "INSERT INTO dashboard_users (id, account_id, email, password_hash, created) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&user.id)
        .bind(&user.account_id)
        .bind(&user.email)
        .bind(password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    });
    let won = won?;
    if won {
        key_changes::announce(db, account_keys_created(created));
    }
    Ok(won)
}

pub async fn get_account(db: &Db, id: &str) -> StoreResult<Option<Account>> {
    let row: Option<AccountRow> = on_reader!(db, |pool| {
        sqlx::query_as("SELECT id, name, created FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(Account::from))
}

/// The ids of at most `limit` accounts.
pub async fn some_account_ids(db: &Db, limit: i64) -> StoreResult<Vec<String>> {
    let ids = on_reader!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM accounts ORDER BY id LIMIT $1")
            .bind(limit)
            .fetch_all(pool)
            .await
    })?;
    Ok(ids)
}

/// Returns whether the account exists.
pub async fn rename_account(db: &Db, id: &str, name: &str) -> StoreResult<bool> {
    let affected = on_writer!(db, |pool| {
        sqlx::query("UPDATE accounts SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}

pub async fn insert_key(db: &Db, created: &CreatedKey) -> StoreResult<()> {
    on_writer!(db, |pool| insert_key!(pool, created).await.map(|_| ()))?;
    key_changes::announce(
        db,
        [KeyChange::Created {
            key_id: created.key.id.clone(),
        }],
    );
    Ok(())
}

pub async fn list_keys(db: &Db, account_id: &str) -> StoreResult<Vec<ApiKey>> {
    let rows: Vec<KeyRow> = on_reader!(db, |pool| {
        sqlx::query_as(select_keys!("WHERE account_id = $1 ORDER BY id"))
            .bind(account_id)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().map(ApiKey::from).collect())
}

pub async fn get_key(db: &Db, id: &str) -> StoreResult<Option<ApiKey>> {
    let row: Option<KeyRow> = on_reader!(db, |pool| {
        sqlx::query_as(select_keys!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(ApiKey::from))
}

pub async fn find_key_by_hash(db: &Db, secret_hash: &str) -> StoreResult<Option<ApiKey>> {
    let row: Option<KeyRow> = on_reader!(db, |pool| {
        sqlx::query_as(select_keys!("WHERE secret_hash = $1"))
            .bind(secret_hash)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(ApiKey::from))
}

pub async fn touch_key(db: &Db, id: &str, now: i64) -> StoreResult<()> {
    on_writer!(db, |pool| {
        sqlx::query("UPDATE api_keys SET last_used = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Revokes the key unless it already is; returns whether this call revoked it. Every server
/// hears of it within a fraction of a second of the commit ([`key_changes`]).
pub async fn revoke_key(db: &Db, id: &str, now: i64) -> StoreResult<bool> {
    let affected = on_writer!(db, |pool| {
        sqlx::query("UPDATE api_keys SET revoked = $1 WHERE id = $2 AND revoked IS NULL")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    let revoked = affected == 1;
    if revoked {
        key_changes::announce(
            db,
            [KeyChange::Revoked {
                key_id: id.to_string(),
            }],
        );
    }
    Ok(revoked)
}
