//! Key changes: which secret keys were created or revoked, heard by every server within a
//! fraction of a second of the change's commit, so that whatever relies on a key (an open event
//! stream, a cache of keys) can let go of it.
//!
//! The database records each change: a trigger writes a `key_changes` row in the transaction
//! that creates or revokes the key, so no code path can change a key without it. How a server
//! hears of the change depends on the engine:
//!
//! - **PostgreSQL**: the same trigger sends `NOTIFY kassa_key_changes`, which PostgreSQL
//!   delivers to every listening server when the transaction commits (and never if it rolls
//!   back). A listener that loses its connection misses what is sent meanwhile, so once it is
//!   listening again it announces [`KeyChange::Reload`] and every subscriber re-checks what it
//!   holds.
//! - **SQLite**: a change made in this process is announced in memory as soon as it is durable.
//!   A change made by another process on the same file (`kassa keys revoke` runs in its own
//!   process) cannot reach this one in memory, and SQLite has no notifications, so the server
//!   also reads the `key_changes` rows after the last one it saw, every
//!   [`SQLITE_READ_EVERY`]: one read of an index range that is empty almost every time.
//!
//! A change may be announced more than once (on SQLite, in memory and again by the read), so
//! subscribers treat changes as idempotent.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::key_cache::KeyCache;
use super::{Db, PostgresDb, SqliteDb, StoreResult, args, sqlite};

/// The PostgreSQL notification channel; the trigger in the migrations names it too.
pub const CHANNEL: &str = "kassa_key_changes";
/// How often an SQLite server reads the changes made by other processes. Bounds how late it
/// hears of them: well within the second in which a revoked key must stop working.
pub const SQLITE_READ_EVERY: Duration = Duration::from_millis(250);
/// Rows read at once on SQLite; more are read at once when a batch is full.
const SQLITE_READ_BATCH: i64 = 500;
/// Changes kept for a subscriber that has not read them yet; one that falls further behind
/// gets [`KeyChange::Reload`].
const BACKLOG: usize = 1024;
/// After this long without a notification the PostgreSQL listener checks its connection with a
/// query. Each answer renews the trust in the keys held in memory for
/// [`TRUSTED_FOR`](super::key_cache::TRUSTED_FOR), so the check comes well within it; a
/// connection dropped silently (by a firewall's idle timeout) is noticed, and the traffic keeps
/// such a firewall from dropping it.
const LISTENER_QUIET: Duration = Duration::from_millis(400);
/// How long the listener's check may take before the connection counts as lost.
const LISTENER_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait between attempts to listen again after a failure.
const LISTENER_RETRY_MAX: Duration = Duration::from_secs(5);
/// The listener's `application_name`, so operators (and tests) can tell its connection apart.
pub const LISTENER_NAME: &str = "kassa key changes";

/// One change to the secret keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// A key was created.
    Created { key_id: String },
    /// A key was revoked: from its commit on, requests with it are refused.
    Revoked { key_id: String },
    /// Changes may have been missed (the server has just begun to follow them, the PostgreSQL
    /// listener lost its connection, or this subscriber fell behind): every subscriber
    /// re-checks, in the database, whatever it holds.
    Reload,
}

impl KeyChange {
    /// The change a `key_changes` row (or a notification's payload) describes.
    fn from_row(kind: &str, key_id: &str) -> Option<KeyChange> {
        let key_id = key_id.to_string();
        match kind {
            "created" => Some(KeyChange::Created { key_id }),
            "revoked" => Some(KeyChange::Revoked { key_id }),
            _ => None,
        }
    }

    /// Whether this change may have revoked `key_id`: it is that key's revocation, or a
    /// [`KeyChange::Reload`], after which the subscriber must look the key up again.
    pub fn may_revoke(&self, key_id: &str) -> bool {
        match self {
            KeyChange::Revoked { key_id: revoked } => revoked == key_id,
            KeyChange::Reload => true,
            KeyChange::Created { .. } => false,
        }
    }
}

/// The key changes a server hears of, for any number of subscribers. Cheap to clone.
#[derive(Clone, Debug)]
pub struct KeyChanges {
    sender: broadcast::Sender<KeyChange>,
}

/// One subscriber's changes, in the order they were heard.
pub struct KeyChangeSubscription(broadcast::Receiver<KeyChange>);

impl KeyChanges {
    /// Starts following the key changes of `db`'s database (reading them on SQLite, listening on
    /// PostgreSQL) until `stop` is cancelled. One per server process.
    pub fn follow(db: &Db, stop: CancellationToken) -> KeyChanges {
        match db {
            Db::Sqlite(sqlite) => {
                let sender = sqlite.key_changes.clone();
                // Every change from now on is heard: in memory from this process, by the
                // reads from others.
                db.keys().set_live(true);
                // The first read happens here, so that every change committed once `follow`
                // returns is heard.
                let last_seen = latest_sqlite(sqlite).ok();
                tokio::spawn(read_sqlite(
                    sqlite.clone(),
                    last_seen,
                    sender.clone(),
                    stop.clone(),
                ));
                tokio::spawn(super::accounts::record_key_use(db.clone(), stop));
                KeyChanges { sender }
            }
            Db::Postgres(postgres) => {
                let sender = broadcast::channel(BACKLOG).0;
                tokio::spawn(listen_postgres(
                    postgres.clone(),
                    sender.clone(),
                    stop.clone(),
                ));
                tokio::spawn(super::accounts::record_key_use(db.clone(), stop));
                KeyChanges { sender }
            }
        }
    }

    /// Every change heard from now on. Subscribe before checking a key: a change committed
    /// after the check is then heard, and one committed before it is seen by the check.
    pub fn subscribe(&self) -> KeyChangeSubscription {
        KeyChangeSubscription(self.sender.subscribe())
    }
}

impl KeyChangeSubscription {
    /// The next change. A subscriber that fell more than a backlog behind gets
    /// [`KeyChange::Reload`] for what it missed. Waits forever once the server stops following.
    pub async fn next(&mut self) -> KeyChange {
        match self.0.recv().await {
            Ok(change) => change,
            Err(broadcast::error::RecvError::Lagged(_)) => KeyChange::Reload,
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }
}

/// A new channel for the in-process announcements of an SQLite database.
pub(crate) fn sqlite_channel() -> broadcast::Sender<KeyChange> {
    broadcast::channel(BACKLOG).0
}

/// Announces, in this process, changes that this process has just made durable. Needed on
/// SQLite only: on PostgreSQL the commit itself notifies every server, this one included.
pub(crate) fn announce(db: &Db, changes: impl IntoIterator<Item = KeyChange>) {
    if let Db::Sqlite(sqlite) = db {
        for change in changes {
            sqlite.keys.apply(&change);
            // No subscriber (a command-line process) is fine: nobody holds a key here.
            let _ = sqlite.key_changes.send(change);
        }
    }
}

/// Applies `change` to the keys in memory, then tells the subscribers.
fn publish(keys: &KeyCache, changes: &broadcast::Sender<KeyChange>, change: KeyChange) {
    keys.apply(&change);
    let _ = changes.send(change);
}

/// SQLite: announces the changes that other processes commit, read every
/// [`SQLITE_READ_EVERY`]. Rows are numbered in commit order (SQLite has one writer at a time),
/// so "after the last one seen" misses none.
async fn read_sqlite(
    sqlite: std::sync::Arc<SqliteDb>,
    mut last_seen: Option<i64>,
    changes: broadcast::Sender<KeyChange>,
    stop: CancellationToken,
) {
    // Reading starts after the newest row (`last_seen`, unless the first read failed): older
    // changes are in the keys as anyone reads them from now on.
    loop {
        let read = match last_seen {
            None => latest_sqlite(&sqlite).map(|latest| {
                last_seen = Some(latest);
                publish(&sqlite.keys, &changes, KeyChange::Reload);
            }),
            Some(after) => changes_after_sqlite(&sqlite, after).map(|rows| {
                for (seq, kind, key_id) in rows {
                    last_seen = Some(seq);
                    if let Some(change) = KeyChange::from_row(&kind, &key_id) {
                        publish(&sqlite.keys, &changes, change);
                    }
                }
            }),
        };
        if read.is_ok() {
            sqlite.keys.heard();
        }
        if let Err(error) = read {
            // Nothing is lost: the next read starts after the same row.
            tracing::warn!(%error, "reading key changes failed; will retry");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(SQLITE_READ_EVERY) => {}
        }
    }
}

fn latest_sqlite(sqlite: &SqliteDb) -> StoreResult<i64> {
    let (latest,) = sqlite.read(|conn| {
        sqlite::fetch_one(conn, "SELECT COALESCE(MAX(seq), 0) FROM key_changes", &[])
    })?;
    Ok(latest)
}

/// Every change after row `after`, oldest first: `(seq, kind, key_id)`.
fn changes_after_sqlite(
    sqlite: &SqliteDb,
    mut after: i64,
) -> StoreResult<Vec<(i64, String, String)>> {
    let mut all = Vec::new();
    loop {
        let rows: Vec<(i64, String, String)> = sqlite.read(|conn| {
            sqlite::fetch_all(
                conn,
                "SELECT seq, kind, key_id FROM key_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
                &args![after, SQLITE_READ_BATCH],
            )
        })?;
        let full = rows.len() as i64 == SQLITE_READ_BATCH;
        if let Some((seq, _, _)) = rows.last() {
            after = *seq;
        }
        all.extend(rows);
        if !full {
            return Ok(all);
        }
    }
}

/// PostgreSQL: announces every notification on [`CHANNEL`], and a [`KeyChange::Reload`] each
/// time the listener is listening again after losing its connection.
async fn listen_postgres(
    postgres: PostgresDb,
    changes: broadcast::Sender<KeyChange>,
    stop: CancellationToken,
) {
    let PostgresDb { pool, keys } = postgres;
    // A pool of its own: the listener keeps its connection for good, which must neither take
    // one of the requests' connections nor keep their pool from closing.
    let options = (*pool.connect_options())
        .clone()
        .application_name(LISTENER_NAME);
    let own = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with(options);
    let mut retry = Duration::from_millis(100);
    loop {
        let listening = tokio::select! {
            () = stop.cancelled() => return,
            listening = listen(&own) => listening,
        };
        match listening {
            Ok(listener) => {
                retry = Duration::from_millis(100);
                // Listening from here on: a change committed from now is notified, and one
                // committed while nothing listened is found by the subscribers' re-check.
                keys.set_live(true);
                let _ = changes.send(KeyChange::Reload);
                let again = follow_notifications(listener, &keys, &changes, &stop).await;
                // Until listening again, changes may be missed: keys come from the database.
                keys.set_live(false);
                if !again {
                    return;
                }
            }
            Err(error) => tracing::warn!(%error, "cannot listen for key changes; will retry"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(retry) => {}
        }
        retry = (retry * 2).min(LISTENER_RETRY_MAX);
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Announces notifications until the connection is lost for good (true: listen again) or
/// `stop` is cancelled (false).
async fn follow_notifications(
    mut listener: PgListener,
    keys: &KeyCache,
    changes: &broadcast::Sender<KeyChange>,
    stop: &CancellationToken,
) -> bool {
    loop {
        let received = tokio::select! {
            () = stop.cancelled() => return false,
            received = tokio::time::timeout(LISTENER_QUIET, listener.try_recv()) => received,
        };
        match received {
            Ok(Ok(Some(notification))) => {
                keys.heard();
                let change = notification
                    .payload()
                    .split_once(' ')
                    .and_then(|(kind, key_id)| KeyChange::from_row(kind, key_id));
                match change {
                    Some(change) => publish(keys, changes, change),
                    None => {
                        tracing::warn!(
                            payload = notification.payload(),
                            "an unknown key change; reloading"
                        );
                        publish(keys, changes, KeyChange::Reload);
                    }
                }
            }
            // The connection was lost and sqlx has already listened again on a new one.
            Ok(Ok(None)) => {
                tracing::info!("the key change listener reconnected");
                publish(keys, changes, KeyChange::Reload);
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "the key change listener lost its connection");
                return true;
            }
            Err(_quiet) => {
                let check = sqlx::query("SELECT 1").execute(&mut listener);
                if matches!(
                    tokio::time::timeout(LISTENER_CHECK_TIMEOUT, check).await,
                    Ok(Ok(_))
                ) {
                    keys.heard();
                } else {
                    tracing::warn!("the key change listener's connection stopped answering");
                    return true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_say_which_key_they_may_revoke() {
        let revoked = KeyChange::from_row("revoked", "key_a").unwrap();
        assert!(revoked.may_revoke("key_a"));
        assert!(!revoked.may_revoke("key_b"));
        let created = KeyChange::from_row("created", "key_a").unwrap();
        assert!(!created.may_revoke("key_a"));
        assert!(KeyChange::Reload.may_revoke("key_a"));
        assert_eq!(KeyChange::from_row("renamed", "key_a"), None);
    }
}
