//! Accounts, API keys, dashboard users and the installation marker.

use super::key_changes::{self, KeyChange};
use super::{Db, StoreResult, Tx, args, row_struct};
use crate::domain::Mode;
use crate::domain::accounts::{Account, ApiKey, CreatedAccount, CreatedKey, CreatedUser};

row_struct! {
    struct AccountRow {
        id: String,
        name: String,
        created: i64,
    }
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

row_struct! {
    struct KeyRow {
        id: String,
        account_id: String,
        livemode: bool,
        redacted: String,
        created: i64,
        last_used: Option<i64>,
        revoked: Option<i64>,
    }
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

/// Inserts a new key inside `tx`.
async fn insert_key_row(tx: &mut Tx<'_>, created: &CreatedKey) -> StoreResult<()> {
    let hash = crate::domain::accounts::hash_secret(&created.secret);
    tx.execute(
        INSERT_KEY,
        &args![
            &created.key.id,
            &created.key.account_id,
            created.key.mode.is_live(),
            hash,
            &created.key.redacted,
            created.key.created
        ],
    )
    .await?;
    Ok(())
}

/// Inserts an account and its two keys inside `tx`.
async fn insert_account_rows(tx: &mut Tx<'_>, created: &CreatedAccount) -> StoreResult<()> {
    let account = &created.account;
    tx.execute(
        INSERT_ACCOUNT,
        &args![&account.id, &account.name, account.created],
    )
    .await?;
    for key in [&created.test_key, &created.live_key] {
        insert_key_row(tx, key).await?;
    }
    Ok(())
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
    db.write(async |tx| insert_account_rows(tx, created).await)
        .await?;
    key_changes::announce(db, account_keys_created(created));
    Ok(())
}

pub async fn is_bootstrapped(db: &Db) -> StoreResult<bool> {
    let found: Option<(String,)> = db
        .fetch_optional(
            "SELECT value FROM installation WHERE key = $1",
            &args![BOOTSTRAP_MARKER],
        )
        .await?;
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
    let won = db
        .write(async |tx| {
            let claimed = tx
                .execute(
                    "INSERT INTO installation (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                    &args![BOOTSTRAP_MARKER, now.to_string()],
                )
                .await?
                == 1;
            if !claimed {
                return Ok(false);
            }
            // Accounts made with `kassa account create` before the first start: the
            // installation is not empty, so no default account is added.
            let (has_accounts,): (bool,) = tx
                .fetch_one("SELECT EXISTS (SELECT 1 FROM accounts)", &[])
                .await?;
            if has_accounts {
                return Ok(false);
            }
            insert_account_rows(tx, created).await?;
            tx.execute(
                "INSERT INTO dashboard_users (id, account_id, email, password_hash, created) \
                 VALUES ($1, $2, $3, $4, $5)",
                &args![&user.id, &user.account_id, &user.email, password_hash, now],
            )
            .await?;
            Ok(true)
        })
        .await?;
    if won {
        key_changes::announce(db, account_keys_created(created));
    }
    Ok(won)
}

pub async fn get_account(db: &Db, id: &str) -> StoreResult<Option<Account>> {
    let row: Option<AccountRow> = db
        .fetch_optional(
            "SELECT id, name, created FROM accounts WHERE id = $1",
            &args![id],
        )
        .await?;
    Ok(row.map(Account::from))
}

/// The ids of at most `limit` accounts.
pub async fn some_account_ids(db: &Db, limit: i64) -> StoreResult<Vec<String>> {
    let ids: Vec<(String,)> = db
        .fetch_all(
            "SELECT id FROM accounts ORDER BY id LIMIT $1",
            &args![limit],
        )
        .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// Returns whether the account exists.
pub async fn rename_account(db: &Db, id: &str, name: &str) -> StoreResult<bool> {
    let affected = db
        .write(async |tx| {
            tx.execute(
                "UPDATE accounts SET name = $1 WHERE id = $2",
                &args![name, id],
            )
            .await
        })
        .await?;
    Ok(affected == 1)
}

pub async fn insert_key(db: &Db, created: &CreatedKey) -> StoreResult<()> {
    db.write(async |tx| insert_key_row(tx, created).await)
        .await?;
    key_changes::announce(
        db,
        [KeyChange::Created {
            key_id: created.key.id.clone(),
        }],
    );
    Ok(())
}

pub async fn list_keys(db: &Db, account_id: &str) -> StoreResult<Vec<ApiKey>> {
    let rows: Vec<KeyRow> = db
        .fetch_all(
            select_keys!("WHERE account_id = $1 ORDER BY id"),
            &args![account_id],
        )
        .await?;
    let keys = db.keys();
    Ok(rows
        .into_iter()
        .map(|row| keys.with_pending_use(row.into()))
        .collect())
}

pub async fn get_key(db: &Db, id: &str) -> StoreResult<Option<ApiKey>> {
    let row: Option<KeyRow> = db
        .fetch_optional(select_keys!("WHERE id = $1"), &args![id])
        .await?;
    Ok(row.map(|row| db.keys().with_pending_use(row.into())))
}

/// The key whose secret hashes to `secret_hash`: from memory when this process holds it
/// ([`key_cache`](super::key_cache)), else from the database.
pub async fn find_key_by_hash(db: &Db, secret_hash: &str) -> StoreResult<Option<ApiKey>> {
    let keys = db.keys();
    if let Some(key) = keys.get(secret_hash) {
        return Ok(Some(key));
    }
    let generation = keys.generation();
    let row: Option<KeyRow> = db
        .fetch_optional(select_keys!("WHERE secret_hash = $1"), &args![secret_hash])
        .await?;
    // A use recorded here and not yet written counts, so that it is not recorded again.
    let key = row.map(|row| keys.with_pending_use(row.into()));
    if let (Some(generation), Some(key)) = (generation, &key) {
        keys.keep(secret_hash, key, generation);
    }
    Ok(key)
}

/// Records that a key was used at `now`: in memory, written with others by
/// [`record_key_use`], when the server holds its keys; else at once.
pub async fn touch_key(db: &Db, secret_hash: &str, id: &str, now: i64) -> StoreResult<()> {
    if !db.keys().record_use(secret_hash, id, now) {
        write_key_use(db, &[(id.to_string(), now)]).await?;
    }
    Ok(())
}

/// How often a server writes the `last_used` times of its keys.
const KEY_USE_WRITTEN_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Writes the keys' recorded uses every [`KEY_USE_WRITTEN_EVERY`] in one transaction, and once
/// more when `stop` is cancelled. Runs in every server.
pub async fn record_key_use(db: Db, stop: tokio_util::sync::CancellationToken) {
    loop {
        let stopping = tokio::select! {
            () = stop.cancelled() => true,
            () = tokio::time::sleep(KEY_USE_WRITTEN_EVERY) => false,
        };
        if let Err(error) = write_pending_key_use(&db).await {
            tracing::warn!(%error, "could not record when keys were used");
        }
        if stopping {
            return;
        }
    }
}

/// Writes the key uses recorded in memory and not yet written: every few seconds, and when the
/// database closes (after the last request).
pub(crate) async fn write_pending_key_use(db: &Db) -> StoreResult<()> {
    // In key order, so that two servers writing at once take their row locks in one order.
    let mut uses = db.keys().pending_use();
    uses.sort();
    write_key_use(db, &uses).await?;
    db.keys().written(&uses);
    Ok(())
}

/// Saves `last_used` times, `(key id, time)`, never moving one back.
async fn write_key_use(db: &Db, uses: &[(String, i64)]) -> StoreResult<()> {
    if uses.is_empty() {
        return Ok(());
    }
    db.write(async |tx| {
        for (id, at) in uses {
            tx.execute(
                "UPDATE api_keys SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $1)",
                &args![*at, id],
            )
            .await?;
        }
        Ok(())
    })
    .await
}

/// Revokes the key unless it already is; returns whether this call revoked it. Every server
/// hears of it within a fraction of a second of the commit ([`key_changes`]).
pub async fn revoke_key(db: &Db, id: &str, now: i64) -> StoreResult<bool> {
    let affected = db
        .write(async |tx| {
            tx.execute(
                "UPDATE api_keys SET revoked = $1 WHERE id = $2 AND revoked IS NULL",
                &args![now, id],
            )
            .await
        })
        .await?;
    let revoked = affected == 1;
    if revoked {
        // This process refuses the key from now on, whichever the engine; others hear of it.
        db.keys().apply(&KeyChange::Revoked { key_id: id.into() });
        key_changes::announce(
            db,
            [KeyChange::Revoked {
                key_id: id.to_string(),
            }],
        );
    }
    Ok(revoked)
}
