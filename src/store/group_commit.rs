//! Group commit for SQLite: concurrent writes share one durable commit.
//!
//! SQLite has one writer, and with `synchronous=FULL` every commit waits for an fsync, so one
//! commit per request caps durable writes at one fsync each. Here every write runs on the one
//! writer connection inside an open batch transaction (`BEGIN IMMEDIATE`); a write's own
//! `begin()`/`commit()` become a savepoint and its release, so a failed write still rolls back
//! alone. A committer task commits the batch as soon as the writers queued before it are done,
//! and only then does each of them return: an acknowledged write is durable, and under
//! concurrency one fsync covers many writes.
//!
//! The queue is a fair (FIFO) mutex: writers waiting when the committer asks for the lock go
//! into the batch it commits, writers arriving during the commit form the next batch.

use std::sync::{Arc, Weak};

use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool};
use sqlx::{Error, Transaction};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, watch};

/// How often an idle committer checks whether its writer still exists.
const IDLE_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// How a batch ended: `None` while open, then the commit's outcome for everyone in it.
type BatchOutcome = Option<Result<(), String>>;

/// The SQLite writer: hands out leases on the writer connection and commits their batches.
#[derive(Clone, Debug)]
pub struct GroupWriter {
    batch: Arc<Mutex<Batch>>,
    /// Woken when a lease ends with the batch open.
    commit_wanted: Arc<Notify>,
    pool: SqlitePool,
}

#[derive(Debug)]
struct Batch {
    /// The open batch transaction; `None` between batches.
    transaction: Option<Transaction<'static, Sqlite>>,
    /// Told how the open batch ended.
    outcome: watch::Sender<BatchOutcome>,
    /// Writes in the open batch, for the batch-size statistics.
    writes: u64,
}

/// The writer connection, held by one write at a time, inside the open batch.
pub struct Lease {
    guard: OwnedMutexGuard<Batch>,
    commit_wanted: Arc<Notify>,
}

impl GroupWriter {
    /// A writer over `pool`, a pool of one connection. Spawns the committer task, which ends
    /// when the last `GroupWriter` clone is dropped.
    pub fn new(pool: SqlitePool) -> GroupWriter {
        let writer = GroupWriter {
            batch: Arc::new(Mutex::new(Batch {
                transaction: None,
                outcome: watch::channel(None).0,
                writes: 0,
            })),
            commit_wanted: Arc::new(Notify::new()),
            pool,
        };
        tokio::spawn(committer(
            Arc::downgrade(&writer.batch),
            writer.commit_wanted.clone(),
        ));
        writer
    }

    /// The pool of the one writer connection, for work outside batches (migrations).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Waits for the writer connection and opens a batch if none is open.
    pub async fn lease(&self) -> Result<Lease, Error> {
        let mut guard = self.batch.clone().lock_owned().await;
        if guard.transaction.is_none() {
            let transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            guard.transaction = Some(transaction);
            guard.outcome = watch::channel(None).0;
            guard.writes = 0;
        }
        guard.writes += 1;
        Ok(Lease {
            guard,
            commit_wanted: self.commit_wanted.clone(),
        })
    }
}

impl GroupWriter {
    /// Runs `write` on the writer connection, inside the open batch, and returns its result
    /// once the batch is durable: what [`on_writer!`](crate::store::on_writer) does, for code
    /// that writes SQLite-only SQL.
    pub async fn write<T, E: From<Error>>(
        &self,
        write: impl AsyncFnOnce(&mut SqliteConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut lease = self.lease().await?;
        let result = write(lease.connection()).await;
        lease.durable(result).await
    }
}

impl Lease {
    /// The writer connection, inside the batch transaction. `begin()` on it opens a savepoint.
    pub fn connection(&mut self) -> &mut SqliteConnection {
        self.guard
            .transaction
            .as_mut()
            .expect("a lease always holds an open batch")
    }

    /// Ends the write and returns `result` once the batch holding it is durable, or the
    /// commit's error if the batch failed. An error from the write itself is returned at once.
    pub async fn durable<T, E: From<Error>>(self, result: Result<T, E>) -> Result<T, E> {
        let value = result?;
        let mut outcome = self.guard.outcome.subscribe();
        drop(self); // frees the connection for the next write and wakes the committer
        let ended = match outcome.wait_for(Option::is_some).await {
            Ok(ended) => ended.clone(),
            Err(_) => Some(Err("the committer stopped".to_owned())),
        };
        match ended {
            Some(Ok(())) => Ok(value),
            Some(Err(reason)) => Err(E::from(commit_failed(&reason))),
            None => unreachable!("waited for an outcome"),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.commit_wanted.notify_one();
    }
}

fn commit_failed(reason: &str) -> Error {
    Error::Io(std::io::Error::other(format!(
        "the batch holding this write did not commit: {reason}"
    )))
}

/// Commits the open batch each time a lease ends, after the writers already queued. Ends
/// when the writer is gone (checked each second while idle).
async fn committer(batch: Weak<Mutex<Batch>>, commit_wanted: Arc<Notify>) {
    loop {
        // A permit stored by a lease that ended meanwhile makes this return at once.
        let woken = tokio::time::timeout(IDLE_CHECK, commit_wanted.notified()).await;
        let Some(batch) = batch.upgrade() else {
            return;
        };
        if woken.is_err() {
            continue;
        }
        let mut guard = batch.lock().await;
        let Some(transaction) = guard.transaction.take() else {
            continue;
        };
        let result = transaction.commit().await;
        match &result {
            Ok(()) => tracing::trace!(writes = guard.writes, "group commit"),
            Err(error) => tracing::error!(%error, writes = guard.writes, "a group commit failed"),
        }
        guard
            .outcome
            .send_replace(Some(result.map_err(|e| e.to_string())));
    }
}
