//! SQLite, one hop per request: readers run their statements inline, on the calling thread;
//! writes run inline too, on the one writer connection, and share durable commits.
//!
//! A statement on a local SQLite file costs a few microseconds, less than handing it to another
//! thread and back (two context switches), so nothing is handed anywhere except the commit. A
//! read takes an idle reader connection, runs, and puts it back. A write takes the writer
//! connection (a fair FIFO lock), runs inside a savepoint of the open batch transaction
//! (`BEGIN IMMEDIATE`), and releases it; the committer thread then commits the batch, with every
//! write queued meanwhile, and only then does each write return. An acknowledged write is
//! durable (WAL with `synchronous=FULL`: it survives `kill -9` and power loss), and under
//! concurrency one fsync covers many writes. A write that fails rolls back its savepoint alone.
//!
//! The commit runs on its own thread because its fsync may take milliseconds, which must not
//! hold up a request's thread. A write that is alone (no other write holds or waits for the
//! connection) commits its batch itself instead, handing its worker's other tasks to another
//! thread for the fsync (`tokio::task::block_in_place`): with nothing to group, the committer
//! would only add two thread wake-ups to the write's latency.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex as StdMutex, Weak};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use super::sql::{Arg, FromRow, Row};
use super::{StoreError, StoreResult};

/// How long a statement waits for a lock another process holds (`kassa keys revoke` writes to
/// the same file) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle reader connections kept open.
const IDLE_READERS: usize = 8;
/// The writer's page cache, in KiB as SQLite takes a negative `cache_size` (16 MiB).
const WRITER_CACHE_KIB: i64 = -16 * 1024;
/// Prepared statements cached per connection: every query kassa makes, with room to spare.
const STATEMENT_CACHE: usize = 256;

/// How a batch ended: `None` while open, then the commit's outcome for everyone in it.
type BatchOutcome = Option<Result<(), String>>;

/// Turns off SQLite's memory statistics, once per process and before its first connection
/// (SQLite refuses the setting later, harmlessly). Keeping them takes a process-wide lock on
/// every allocation, which the readers on several threads then contend for: a profile of a list
/// page showed it, and without it a page of 100 sessions costs a third less.
fn configure_sqlite() {
    static CONFIGURED: std::sync::Once = std::sync::Once::new();
    CONFIGURED.call_once(|| {
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int; called before any connection opens.
        let code = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            )
        };
        if code != rusqlite::ffi::SQLITE_OK {
            tracing::debug!(
                code,
                "SQLite was initialised before its memory statistics could be turned off"
            );
        }
    });
}

/// Opens a connection to `path` with kassa's settings.
fn open(path: &Path, read_only: bool) -> StoreResult<Connection> {
    configure_sqlite();
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    if !read_only {
        // The journal mode is the file's; the rest are the connection's.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Each write's savepoint journal stays in memory instead of a temporary file, and a
        // batch's pages stay in the cache until its commit.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Plans that do not depend on the values bound. Otherwise SQLite marks a statement whose
    // plan read a bound value (a `LIMIT ?`, a `?` compared with a partial index's condition) as
    // expired on every bind, and compiles it again on its next step: a sixth of a page of 100
    // sessions went to re-preparing its two statements. kassa's queries name the conditions of
    // the partial indexes they use as literals (`state = 'open'`), so no plan needs the values
    // (a list's `state = ?` reads the full index on the state, in id order, either way).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(conn)
}

/// Idle reader connections, taken by one read at a time.
#[derive(Debug)]
pub struct Readers {
    path: PathBuf,
    idle: StdMutex<Vec<Connection>>,
}

impl Readers {
    fn new(path: &Path) -> Readers {
        Readers {
            path: path.to_path_buf(),
            idle: StdMutex::new(Vec::new()),
        }
    }

    /// Runs `read` on an idle reader connection (a new one if none is idle), on this thread.
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let idle = self
            .idle
            .lock()
            .expect("no reader panics holding the lock")
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open(&self.path, true)?,
        };
        let result = read(&conn);
        let mut idle = self.idle.lock().expect("no reader panics holding the lock");
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

/// The writer connection and its open batch.
#[derive(Debug)]
struct WriterState {
    conn: Connection,
    /// Whether a batch transaction is open.
    batch_open: bool,
    /// Whether a write's savepoint is open (a write whose future was dropped midway leaves one).
    savepoint_open: bool,
    /// Told how the open batch ended.
    outcome: watch::Sender<BatchOutcome>,
    /// Writes in the open batch, for the log.
    writes: u64,
}

/// The one SQLite writer connection: lent to one write at a time, committed by the committer
/// thread.
#[derive(Clone, Debug)]
pub struct Writer {
    state: Arc<Mutex<WriterState>>,
    /// Wakes the committer when a write ends with the batch open.
    commit_wanted: mpsc::Sender<()>,
    /// Writes holding or waiting for the connection.
    writes_in_line: Arc<AtomicUsize>,
}

/// The writer connection, held by one write, inside the open batch.
pub struct WriteLease {
    guard: Option<OwnedMutexGuard<WriterState>>,
    commit_wanted: mpsc::Sender<()>,
    /// The writer's count of writes in line, this one included until the lease ends.
    writes_in_line: Arc<AtomicUsize>,
}

impl Writer {
    fn new(conn: Connection) -> Writer {
        let state = Arc::new(Mutex::new(WriterState {
            conn,
            batch_open: false,
            savepoint_open: false,
            outcome: watch::channel(None).0,
            writes: 0,
        }));
        let (commit_wanted, wakes) = mpsc::channel();
        let weak = Arc::downgrade(&state);
        std::thread::Builder::new()
            .name("kassa-sqlite-commit".into())
            .spawn(move || committer(weak, wakes))
            .expect("the committer thread starts");
        Writer {
            state,
            commit_wanted,
            writes_in_line: Arc::default(),
        }
    }

    /// Waits for the writer connection and opens a batch if none is open.
    pub async fn lease(&self) -> StoreResult<WriteLease> {
        let started = std::time::Instant::now();
        self.writes_in_line.fetch_add(1, Ordering::SeqCst);
        // Counted out by the lease's drop, or here if this future is dropped or fails first.
        let mut lease = WriteLease {
            guard: None,
            commit_wanted: self.commit_wanted.clone(),
            writes_in_line: self.writes_in_line.clone(),
        };
        let mut guard = self.state.clone().lock_owned().await;
        crate::metrics::pool_wait("sqlite_writer", started.elapsed());
        guard.reconcile();
        if !guard.batch_open {
            guard = begin_batch(guard, self.commit_wanted.clone()).await?;
        }
        guard.writes += 1;
        lease.guard = Some(guard);
        Ok(lease)
    }

    /// Waits until no batch is open: every acknowledged write is committed by then anyway;
    /// this lets a caller about to exit know the last commit has finished.
    pub async fn settle(&self) {
        let guard = self.state.lock().await;
        let mut outcome = guard.outcome.subscribe();
        let open = guard.batch_open;
        drop(guard);
        if open {
            let _ = self.commit_wanted.send(());
            let _ = outcome.wait_for(Option::is_some).await;
        }
    }
}

/// Opens the batch transaction. Without a competing process this is immediate; when another
/// process holds the write lock, the wait (up to [`BUSY_TIMEOUT`]) happens on a blocking thread.
async fn begin_batch(
    mut guard: OwnedMutexGuard<WriterState>,
    commit_wanted: mpsc::Sender<()>,
) -> StoreResult<OwnedMutexGuard<WriterState>> {
    guard.conn.busy_timeout(Duration::ZERO)?;
    let begun = guard.conn.execute_batch("BEGIN IMMEDIATE");
    guard.conn.busy_timeout(BUSY_TIMEOUT)?;
    match begun {
        Ok(()) => guard.batch_opened(),
        Err(error) if is_busy(&error) => {
            guard = tokio::task::spawn_blocking(move || {
                guard.conn.execute_batch("BEGIN IMMEDIATE")?;
                // Recorded here, so that a caller gone meanwhile leaves a consistent state,
                // and the committer asked to end the batch so that the lock is not kept.
                guard.batch_opened();
                let _ = commit_wanted.send(());
                Ok::<_, StoreError>(guard)
            })
            .await
            .expect("BEGIN does not panic")?;
        }
        Err(error) => return Err(error.into()),
    }
    Ok(guard)
}

impl WriterState {
    fn batch_opened(&mut self) {
        self.batch_open = true;
        self.outcome = watch::channel(None).0;
        self.writes = 0;
    }

    /// Commits the open batch and tells every write in it how that ended.
    fn commit_batch(&mut self) {
        if !self.batch_open {
            return;
        }
        let result = self.conn.execute_batch("COMMIT");
        match &result {
            Ok(()) => {
                tracing::trace!(writes = self.writes, "group commit");
                crate::metrics::commit_batch(self.writes);
            }
            Err(error) => {
                tracing::error!(%error, writes = self.writes, "a group commit failed");
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
            }
        }
        self.batch_open = false;
        self.outcome
            .send_replace(Some(result.map_err(|e| e.to_string())));
    }

    /// Ends the open batch without committing it: rolls back whatever of it SQLite has not
    /// rolled back itself, and tells every write in it that it failed. For when a savepoint
    /// could not be released or rolled back, or SQLite ended the transaction on its own (a
    /// full disk, an I/O error): nothing of such a batch may be acknowledged.
    fn abandon_batch(&mut self, reason: &str) {
        tracing::error!(reason, writes = self.writes, "a write batch is rolled back");
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.batch_open = false;
        self.savepoint_open = false;
        self.outcome
            .send_replace(Some(Err(format!("the batch was rolled back: {reason}"))));
    }

    /// Brings the flags in line with the connection: a batch SQLite ended on its own is
    /// abandoned; a transaction opened by a BEGIN whose caller went away is the open batch.
    fn reconcile(&mut self) {
        if self.batch_open && self.conn.is_autocommit() {
            self.abandon_batch("SQLite ended the transaction");
        } else if !self.batch_open && !self.conn.is_autocommit() {
            self.batch_opened();
        }
    }
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy)
    )
}

impl WriteLease {
    fn state(&mut self) -> &mut WriterState {
        self.guard
            .as_mut()
            .expect("a lease holds the writer until it ends")
    }

    /// The writer connection, inside the batch transaction.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.state().conn
    }

    /// Opens the write's savepoint, so that it can roll back alone.
    pub fn savepoint(&mut self) -> StoreResult<()> {
        let state = self.state();
        if let Err(error) = state.conn.execute_batch("SAVEPOINT kassa_write") {
            state.abandon_batch(&error.to_string());
            return Err(error.into());
        }
        state.savepoint_open = true;
        Ok(())
    }

    /// Keeps (`keep`) or rolls back what the write did since [`WriteLease::savepoint`]. When
    /// that fails, or SQLite has ended the transaction meanwhile, the whole batch is abandoned
    /// and its writes fail: a write's rows are never committed without their savepoint's end.
    pub fn end_savepoint(&mut self, keep: bool) -> StoreResult<()> {
        let state = self.state();
        let sql = if keep {
            "RELEASE kassa_write"
        } else {
            "ROLLBACK TO kassa_write; RELEASE kassa_write"
        };
        let ended = if state.conn.is_autocommit() {
            Err(StoreError::Commit(
                "SQLite ended the transaction during the write".into(),
            ))
        } else {
            state.conn.execute_batch(sql).map_err(StoreError::from)
        };
        match ended {
            Ok(()) => {
                state.savepoint_open = false;
                Ok(())
            }
            Err(error) => {
                state.abandon_batch(&error.to_string());
                Err(error)
            }
        }
    }

    /// Ends the write and returns `result` once the batch holding it is durable, or the
    /// commit's error if the batch failed. An error from the write itself is returned at once.
    pub async fn durable<T>(mut self, result: StoreResult<T>) -> StoreResult<T> {
        let value = result?;
        let mut outcome = self.state().outcome.subscribe();
        if self.is_alone() {
            let state = self.state();
            tokio::task::block_in_place(|| state.commit_batch());
        }
        drop(self); // frees the connection for the next write and wakes the committer
        let ended = match outcome.wait_for(Option::is_some).await {
            Ok(ended) => ended.clone(),
            Err(_) => Some(Err("the committer stopped".to_owned())),
        };
        match ended {
            Some(Ok(())) => Ok(value),
            Some(Err(reason)) => Err(StoreError::Commit(reason)),
            None => unreachable!("waited for an outcome"),
        }
    }

    /// Whether no other write holds or waits for the connection, on a runtime where this
    /// thread may block (`block_in_place` needs the multi-threaded one).
    fn is_alone(&self) -> bool {
        use tokio::runtime::{Handle, RuntimeFlavor};
        self.writes_in_line.load(Ordering::SeqCst) == 1
            && Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
    }
}

impl Drop for WriteLease {
    fn drop(&mut self) {
        let mut batch_open = true;
        if let Some(mut guard) = self.guard.take() {
            if guard.savepoint_open {
                // The write was abandoned midway: nothing of it may be committed.
                match guard
                    .conn
                    .execute_batch("ROLLBACK TO kassa_write; RELEASE kassa_write")
                {
                    Ok(()) => guard.savepoint_open = false,
                    Err(error) => guard.abandon_batch(&error.to_string()),
                }
            }
            batch_open = guard.batch_open;
        }
        self.writes_in_line.fetch_sub(1, Ordering::SeqCst);
        // A batch this write committed itself needs no committer.
        if batch_open {
            let _ = self.commit_wanted.send(());
        }
    }
}

/// Commits the open batch each time a write ends, after the writes already queued for the
/// connection (the lock is fair). Ends when the writer is gone.
fn committer(state: Weak<Mutex<WriterState>>, wakes: mpsc::Receiver<()>) {
    while wakes.recv().is_ok() {
        while wakes.try_recv().is_ok() {}
        let Some(state) = state.upgrade() else {
            return;
        };
        state.blocking_lock().commit_batch();
    }
}

/// kassa's SQLite database: readers and the writer on one file.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub readers: Arc<Readers>,
    pub writer: Writer,
    /// The database file; migrations lock a file beside it.
    pub path: PathBuf,
    /// Key changes made durable by this process, announced at once to its subscribers
    /// ([`key_changes`](super::key_changes)).
    pub key_changes: tokio::sync::broadcast::Sender<super::key_changes::KeyChange>,
    /// Keys from memory ([`key_cache`](super::key_cache)).
    pub keys: Arc<super::key_cache::KeyCache>,
    /// Set by [`SqliteDb::close`]: every use after it fails.
    closed: Arc<AtomicBool>,
}

impl SqliteDb {
    /// Opens (creating it if missing, in WAL mode) the database file at `path`.
    pub fn open(path: &Path) -> StoreResult<SqliteDb> {
        let writer = open(path, false)?;
        Ok(SqliteDb {
            readers: Arc::new(Readers::new(path)),
            writer: Writer::new(writer),
            path: path.to_path_buf(),
            key_changes: super::key_changes::sqlite_channel(),
            keys: Arc::default(),
            closed: Arc::default(),
        })
    }

    /// Waits until the open batch, if any, has committed: what other requests wrote before now
    /// is then visible to reads.
    pub async fn settle(&self) {
        self.writer.settle().await;
    }

    /// Waits for the last commit, then refuses every further read and write.
    pub async fn close(&self) {
        self.writer.settle().await;
        self.closed.store(true, Ordering::Release);
    }

    fn check_open(&self) -> StoreResult<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        Ok(())
    }

    /// The writer connection, inside the open batch ([`Writer::lease`]).
    pub async fn lease(&self) -> StoreResult<WriteLease> {
        self.check_open()?;
        self.writer.lease().await
    }

    /// Runs `read` on a reader connection, on this thread.
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        self.check_open()?;
        self.readers.read(read)
    }
}

/// Refuses to run a write's next statement once SQLite has ended its transaction (a full
/// disk, an I/O error): run outside it, the statement would commit on its own.
pub fn in_transaction(conn: &Connection) -> StoreResult<()> {
    if conn.is_autocommit() {
        return Err(StoreError::Commit(
            "SQLite ended the transaction during the write".into(),
        ));
    }
    Ok(())
}

/// Runs a statement; returns how many rows it changed.
pub fn execute(conn: &Connection, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
    let mut statement = conn.prepare_cached(sql)?;
    bind(&mut statement, args)?;
    Ok(statement.raw_execute()? as u64)
}

/// Binds `args` to the statement's `$N` placeholders: `$N` takes `args[N - 1]`. (SQLite numbers
/// `$name` parameters by first appearance, not by the digits, so `$3 ... $1` must be bound by
/// name, as PostgreSQL reads them.)
fn bind(statement: &mut rusqlite::Statement<'_>, args: &[Arg<'_>]) -> StoreResult<()> {
    for index in 1..=statement.parameter_count() {
        let number = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|digits| digits.parse::<usize>().ok())
            .filter(|n| (1..=args.len()).contains(n))
            .ok_or(rusqlite::Error::InvalidParameterCount(index, args.len()))?;
        statement.raw_bind_parameter(index, &args[number - 1])?;
    }
    Ok(())
}

/// The first row `sql` returns, if any.
pub fn fetch_optional<R: FromRow>(
    conn: &Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> StoreResult<Option<R>> {
    let mut statement = conn.prepare_cached(sql)?;
    bind(&mut statement, args)?;
    let mut rows = statement.raw_query();
    match rows.next()? {
        Some(row) => R::from_row(&Row::Sqlite(row)).map(Some),
        None => Ok(None),
    }
}

/// The one row `sql` returns; none is an error.
pub fn fetch_one<R: FromRow>(conn: &Connection, sql: &str, args: &[Arg<'_>]) -> StoreResult<R> {
    fetch_optional(conn, sql, args)?.ok_or(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
}

/// Every row `sql` returns.
pub fn fetch_all<R: FromRow>(
    conn: &Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> StoreResult<Vec<R>> {
    let mut statement = conn.prepare_cached(sql)?;
    bind(&mut statement, args)?;
    let mut rows = statement.raw_query();
    let mut all = Vec::new();
    while let Some(row) = rows.next()? {
        all.push(R::from_row(&Row::Sqlite(row))?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use crate::args;
    use crate::store::{Db, StoreResult};

    async fn count(db: &Db) -> i64 {
        let (n,): (i64,) = db.fetch_one("SELECT COUNT(*) FROM t", &[]).await.unwrap();
        n
    }

    #[tokio::test]
    async fn a_batch_that_sqlite_ended_is_never_acknowledged_and_the_next_write_works() {
        let folder = tempfile::tempdir().unwrap();
        let db = Db::connect(folder.path().join("k.db").to_str().unwrap())
            .await
            .unwrap();
        db.execute("CREATE TABLE t (x INTEGER)", &[]).await.unwrap();

        // A write whose body fails keeps nothing.
        let failed: StoreResult<()> = db
            .write(async |tx| {
                tx.execute("INSERT INTO t VALUES ($1)", &args![1i64])
                    .await?;
                tx.execute("INSERT INTO missing VALUES (1)", &[]).await?;
                Ok(())
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(count(&db).await, 0);

        // The transaction ends under the write (as SQLite does on a full disk): the write
        // fails, and its row is not committed.
        let ended: StoreResult<()> = db
            .write(async |tx| {
                tx.execute("INSERT INTO t VALUES ($1)", &args![2i64])
                    .await?;
                tx.execute("ROLLBACK", &[]).await?;
                tx.execute("INSERT INTO t VALUES ($1)", &args![3i64])
                    .await?;
                Ok(())
            })
            .await;
        assert!(
            ended.is_err(),
            "a write whose batch ended is not acknowledged"
        );

        db.execute("INSERT INTO t VALUES ($1)", &args![4i64])
            .await
            .unwrap();
        let rows: Vec<(i64,)> = db.fetch_all("SELECT x FROM t", &[]).await.unwrap();
        assert_eq!(rows, vec![(4,)]);
    }

    /// A cached statement runs again with new values without being compiled again, whatever
    /// its plan could have read from them: a `LIMIT ?`, a `?` against a partial index's
    /// condition, a `LIKE ?`.
    #[test]
    fn statements_are_not_compiled_again_for_new_values() {
        use rusqlite::StatementStatus;
        let folder = tempfile::tempdir().unwrap();
        let conn = super::open(&folder.path().join("k.db"), false).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id TEXT PRIMARY KEY, state TEXT, due INTEGER);
             CREATE INDEX t_open_by_due ON t (due) WHERE state = 'open';
             INSERT INTO t VALUES ('a', 'open', 1), ('b', 'open', 2), ('c', 'done', 3);",
        )
        .unwrap();
        let queries = [
            "SELECT id FROM t WHERE state = 'open' AND due <= ?1 ORDER BY due LIMIT ?2",
            "SELECT id FROM t WHERE state = ?1 ORDER BY id LIMIT ?2",
            "SELECT id FROM t WHERE id LIKE ?1 ORDER BY id LIMIT ?2",
        ];
        for sql in queries {
            let args: [[&dyn rusqlite::ToSql; 2]; 3] = [[&"open", &1], [&"done", &10], [&"a%", &2]];
            for args in args {
                let mut statement = conn.prepare_cached(sql).unwrap();
                let mut rows = statement.query(&args[..]).unwrap();
                while rows.next().unwrap().is_some() {}
            }
            let statement = conn.prepare_cached(sql).unwrap();
            assert_eq!(
                statement.get_status(StatementStatus::RePrepare),
                0,
                "{sql} was compiled again"
            );
        }
        // A partial index named by its literal condition is still used.
        let plan: String = conn
            .query_row(
                &format!("EXPLAIN QUERY PLAN {}", queries[0]),
                [0, 1],
                |row| row.get(3),
            )
            .unwrap();
        assert!(plan.contains("t_open_by_due"), "{plan}");
    }
}
